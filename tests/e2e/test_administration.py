"""Deactivation on the real server with 2 workers on PostgreSQL (SPEC §4.1, §4.6): the user's
access token, refresh token and API key stop working at once, whichever worker answers, and work
again (but for the ended sessions) after a reactivation. Each request below goes on its own
connection, so they are spread over both workers."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from e2e.server import base_env, chatcore_binary, running_server
from e2e.test_privacy import ROUNDS, statuses

PASSWORD = "e2e password 1"


@pytest.mark.e2e
async def test_postgres_two_workers_deactivation_refuses_every_credential_at_once(
    tmp_path: Path, postgres_database_url: str
) -> None:
    env = base_env(tmp_path / "data", CHATCORE_DATABASE_URL=postgres_database_url, CHATCORE_WORKERS="2")
    for argv, stdin in ((["migrate"], None), (["create-admin", "boss", "--password-stdin"], PASSWORD + "\n")):
        done = await asyncio.to_thread(
            subprocess.run,
            [chatcore_binary(), *argv],
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    with running_server(env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            body = {
                "username": "minji",
                "email": "minji@example.com",
                "password": PASSWORD,
                "password2": PASSWORD,
            }
            assert (await client.post("/accounts/join/", json=body)).status_code == 201
            tokens = (
                await client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
            ).json()
            bearer = {"Authorization": f"Bearer {tokens['access']}"}
            made = await client.post(
                "/accounts/api-keys/", json={"name": "cli", "password": PASSWORD}, headers=bearer
            )
            keyed = {"Authorization": f"Bearer {made.json()['key']}"}
            boss = (
                await client.post("/accounts/token/", json={"username": "boss", "password": PASSWORD})
            ).json()
            admin = {"Authorization": f"Bearer {boss['access']}"}
            me = (await client.get("/accounts/mypage/", headers=bearer)).json()["id"]

        assert await statuses(server.url, "GET", "/chatbot/quota/", headers=bearer) == [200] * ROUNDS
        assert await statuses(server.url, "GET", "/v1/models", headers=keyed) == [200] * ROUNDS

        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            off = await client.post(f"/admin/users/{me}/deactivate", headers=admin)
            assert off.status_code == 200, off.text

        for path in ("/accounts/mypage/", "/chatbot/quota/", "/chatbot/chats/", "/v1/models"):
            assert await statuses(server.url, "GET", path, headers=bearer) == [403] * ROUNDS, path
        assert await statuses(server.url, "GET", "/v1/models", headers=keyed) == [401] * ROUNDS
        refresh = {"refresh": tokens["refresh"]}
        assert (
            await statuses(server.url, "POST", "/accounts/token/refresh/", headers={}, json=refresh)
            == [403] * ROUNDS
        )
        login = {"username": "minji", "password": PASSWORD}
        for _ in range(4):  # one after another: concurrent logins would spend the account's budget
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                refused = await client.post("/accounts/token/", json=login)
                assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")

        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            on = await client.post(f"/admin/users/{me}/reactivate", headers=admin)
            assert on.status_code == 200, on.text

        assert await statuses(server.url, "GET", "/chatbot/quota/", headers=bearer) == [200] * ROUNDS
        assert await statuses(server.url, "GET", "/v1/models", headers=keyed) == [200] * ROUNDS
        # The refresh chains ended by the deactivation stay ended.
        assert (
            await statuses(server.url, "POST", "/accounts/token/refresh/", headers={}, json=refresh)
            == [401] * ROUNDS
        )
