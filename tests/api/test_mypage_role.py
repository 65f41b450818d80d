"""My page tells an administrator they are one: the web page shows its admin link from it
(SPEC §8, §4.6); the role follows a change at once."""

from __future__ import annotations

from .conftest import Api
from .test_admin import make_admin, user_id


async def test_my_page_says_who_is_an_administrator(api: Api) -> None:
    admin = await make_admin(api)
    learner = await api.user("learner")
    mine = await api.client.get("/accounts/mypage/", headers=admin)
    theirs = await api.client.get("/accounts/mypage/", headers=learner)
    assert mine.status_code == theirs.status_code == 200
    assert mine.json()["is_admin"] is True
    assert theirs.json()["is_admin"] is False

    promoted = await api.client.put(
        f"/admin/users/{await user_id(api, learner)}/role", json={"is_admin": True}, headers=admin
    )
    assert promoted.status_code == 200, promoted.text
    assert (await api.client.get("/accounts/mypage/", headers=learner)).json()["is_admin"] is True
