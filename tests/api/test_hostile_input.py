"""SPEC §9: whatever the body, every JSON endpoint answers 4xx with the error shape (or succeeds),
never a 500 and never HTML; on SQLite and PostgreSQL alike, signed in or not.

The endpoints come from the app's own routes, so a new one cannot be left out: the test fails until
it has a valid example body in ``VALID_BODIES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from api.hostile import NUL, Case, field_cases, whole_body_cases
from app_http.app import create_app
from app_http.bootstrap import build_container, prepare_database
from app_http.settings import Settings
from chatcore.testing import QuickHasher, ScriptedLLM
from contract.databases import create_postgres_database, drop_postgres_database, postgres_server_url
from contract.helpers import FEEDBACK

SECRET = "hostile-input-secret-0123456789-abcdef"
PASSWORD = "correct horse 1"

# A body each JSON endpoint accepts, by route (Litestar drops the trailing slash); the ids in a
# path are the caller's own chat and user.
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/accounts/join"): {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    },
    ("POST", "/accounts/token"): {"username": "minji", "password": PASSWORD},
    ("POST", "/accounts/token/refresh"): {"refresh": "not-a-token"},
    ("POST", "/accounts/logout"): {"refresh": "not-a-token"},
    ("PATCH", "/accounts/mypage"): {"email": "minji2@example.com", "password": PASSWORD},
    ("POST", "/accounts/password"): {
        "old_password": "wrong password 1",
        "new_password": "new horse 22",
        "new_password2": "new horse 22",
    },
    ("POST", "/accounts/api-keys"): {"name": "laptop", "password": PASSWORD},
    ("POST", "/accounts/oauth/exchange"): {"code": "not-a-code", "cookie": False},
    # A wrong password: the account must survive the corpus.
    ("DELETE", "/accounts/mypage"): {"password": "wrong password 1"},
    ("POST", "/chatbot/chats"): {
        "title": "Hi",
        "mode": "interview",
        "topic": "backend",
        "message": "Hello",
        "level": "beginner",
    },
    ("PUT", "/chatbot/chats/{chat_id:int}"): {"title": "Renamed", "topic": "data", "level": "advanced"},
    ("PATCH", "/chatbot/chats/{chat_id:int}"): {"title": "Renamed", "topic": "data", "level": "advanced"},
    ("PATCH", "/chatbot/notebook/{entry_id:int}"): {"reviewed": True},
    ("POST", "/chatbot/chats/{chat_id:int}/messages"): {"content": "How are you?"},
    ("PUT", "/admin/users/{target_id:int}/limit"): {"daily_limit": 100},
    ("POST", "/v1/chat/completions"): {"messages": [{"role": "user", "content": "Hi"}], "model": "m"},
}


def json_endpoints(app: Litestar) -> list[tuple[str, str]]:
    """``(method, path template)`` of every route handler that reads a JSON body."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "data" in handler.parsed_fn_signature.parameters:
                found.extend((method, route.path) for method in sorted(handler.http_methods))
    return sorted(found)


@dataclass
class Target:
    client: AsyncTestClient[Litestar]
    headers: dict[str, str]
    ids: dict[str, int]

    def url(self, template: str) -> str:
        return (
            template.replace("{chat_id:int}", str(self.ids["chat"]))
            .replace("{target_id:int}", str(self.ids["user"]))
            .replace("{entry_id:int}", str(self.ids["entry"]))
        )


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    base = Settings(data_dir=tmp_path, secret_key=SECRET, daily_limit=10_000)
    if request.param == "sqlite":
        yield base
        return
    server = postgres_server_url()
    url = create_postgres_database(server, "hostile")
    try:
        yield Settings(data_dir=tmp_path, secret_key=SECRET, daily_limit=10_000, database_url=url)
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
async def target(settings: Settings) -> AsyncIterator[Target]:
    await prepare_database(settings, upgrade=True)
    # An administrator (so that /admin/ bodies reach the service), made before the app runs: the
    # test client serves the app in a loop of its own, where the app's connections must be made.
    setup = build_container(settings, hasher=QuickHasher())
    try:
        user = await setup.accounts.register(
            username="minji", email="minji@example.com", password=PASSWORD, password2=PASSWORD, is_admin=True
        )
    finally:
        await setup.aclose()
    container = build_container(settings, hasher=QuickHasher(), llm=ScriptedLLM(feedback=[FEEDBACK]))
    async with AsyncTestClient(create_app(container)) as client:
        login = await client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access']}"}
        chat = await client.post("/chatbot/chats/", json={"message": "I am boring"}, headers=headers)
        entry = (await client.get("/chatbot/notebook/", headers=headers)).json()["items"][0]["id"]
        ids = {"user": user.id, "chat": chat.json()["chat"]["id"], "entry": entry}
        yield Target(client=client, headers=headers, ids=ids)


def problem(response: Any, case: Case, *, signed_in: bool = True) -> str | None:
    """What is wrong with the answer to ``case``, or ``None``. Signed out, 401 is a fine answer
    to a body that does not need reading (an empty one) and to any readable one."""
    status = response.status_code
    kind = response.headers.get("content-type", "")
    if status >= 500 or not (200 <= status < 300 or 400 <= status < 500):
        return f"status {status}: {response.text[:200]}"
    if status == 204:
        return None
    if not kind.startswith("application/json"):
        return f"status {status} with {kind!r}"
    body = response.json()
    if status >= 400 and not (isinstance(body, dict) and set(body) == {"code", "detail"}):
        return f"status {status} with body {body!r:.200}"
    if not signed_in and status == 401:
        return None
    if case.expect is not None and (status, body.get("code")) != case.expect:
        return f"expected {case.expect}, got {status} {body!r:.200}"
    return None


async def run_corpus(target: Target, *, signed_in: bool) -> list[str]:
    endpoints = json_endpoints(target.client.app)
    missing = [e for e in endpoints if e not in VALID_BODIES]
    assert not missing, f"add a valid example body for {missing} to VALID_BODIES"
    failures = []
    for method, template in endpoints:
        valid = VALID_BODIES[(method, template)]
        cases = whole_body_cases(valid) + (field_cases(valid) if signed_in else [])
        for case in cases:
            headers = {"Content-Type": "application/json", **case.headers}
            if signed_in:
                headers.update(target.headers)
            response = await target.client.request(
                method, target.url(template), content=case.body, headers=headers
            )
            found = problem(response, case, signed_in=signed_in)
            if found:
                failures.append(f"{method} {template} [{case.name}] {found}")
    return failures


async def test_every_json_endpoint_survives_the_corpus_signed_in(target: Target) -> None:
    failures = await run_corpus(target, signed_in=True)
    assert not failures, "\n".join(failures)


async def test_every_json_endpoint_survives_the_corpus_signed_out(target: Target) -> None:
    failures = await run_corpus(target, signed_in=False)
    assert not failures, "\n".join(failures)


async def test_nul_in_the_idempotency_key_header_is_refused(target: Target) -> None:
    url = target.url("/chatbot/chats/{chat_id:int}/messages")
    for key in (NUL, "line\nbreak", "bell\x07"):
        response = await target.client.post(
            url, json={"content": "Hi"}, headers={**target.headers, "Idempotency-Key": key}
        )
        assert problem(response, Case("header", b"", expect=(400, "bad_request"))) is None, key
    ok = await target.client.post(
        url, json={"content": "Hi"}, headers={**target.headers, "Idempotency-Key": "tab\tis fine"}
    )
    assert ok.status_code == 201, ok.text


async def test_the_text_of_a_nul_escape_is_not_a_nul(target: Target) -> None:
    """A learner may write about JSON: the six characters ``\\u0000`` are fine, only NUL is not."""
    url = target.url("/chatbot/chats/{chat_id:int}/messages")
    text = "In JSON, \\u0000 stands for NUL."
    response = await target.client.post(url, json={"content": text}, headers=target.headers)
    assert response.status_code == 201, response.text
    assert response.json()["message"]["content"] == text
