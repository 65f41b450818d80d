"""A database that cannot serve right now is a 503 with Retry-After, never a 500 (SPEC §4, §6 spirit).

Two real cases: the SQLite file locked past the busy timeout by a writer outside the service, and a
PostgreSQL server that refuses connections.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.sql import engine as sql_engine
from api.helpers import assert_error
from app_http.app import create_app
from app_http.bootstrap import build_container, prepare_database
from app_http.settings import Settings
from chatcore.testing import QuickHasher, ScriptedLLM

SECRET = "storage-test-secret-0123456789-abcdef"
PASSWORD = "correct horse 1"


def _join(username: str) -> dict[str, str]:
    return {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    }


async def test_a_sqlite_file_locked_too_long_is_503_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sql_engine, "SQLITE_BUSY_TIMEOUT", 0.3)
    settings = Settings(data_dir=tmp_path, secret_key=SECRET)
    await prepare_database(settings, upgrade=False)
    container = build_container(settings, hasher=QuickHasher(), llm=ScriptedLLM(["Hello!"]))
    async with AsyncTestClient(create_app(container)) as client:
        assert (await client.post("/accounts/join/", json=_join("minji"))).status_code == 201
        login = await client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access']}"}
        chat = await client.post("/chatbot/chats/", json={"title": "Small talk"}, headers=headers)
        chat_id = chat.json()["chat"]["id"]

        # A writer that knows nothing of the service holds the database (the sqlite3 shell).
        foreign = sqlite3.connect(settings.data_dir / "chatcore.sqlite3", isolation_level=None)
        foreign.execute("BEGIN IMMEDIATE")
        try:
            refused = await client.post(
                f"/chatbot/chats/{chat_id}/messages/", json={"content": "Secret plans"}, headers=headers
            )
            assert_error(refused, 503, "storage_unavailable")
            assert refused.headers["Retry-After"] == "1"
            quota: Any = (await client.get("/accounts/mypage/", headers=headers)).json()  # reads still work
        finally:
            foreign.execute("ROLLBACK")
            foreign.close()

        assert quota["quota"]["used"] == 0
        answered = await client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": "Hello again"}, headers=headers
        )
        assert answered.status_code == 201, answered.text
        assert answered.json()["quota"]["used"] == 1
    await container.aclose()
    logged = capsys.readouterr()
    assert "storage_unavailable" in logged.err + logged.out
    assert "Secret plans" not in logged.err + logged.out


async def test_a_postgres_server_that_refuses_connections_is_503(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", secret_key=SECRET
    )
    container = build_container(settings, hasher=QuickHasher(), llm=ScriptedLLM())
    async with AsyncTestClient(create_app(container)) as client:
        assert_error(await client.post("/accounts/join/", json=_join("minji")), 503, "storage_unavailable")
        login = await client.post("/accounts/token/", json={"username": "minji", "password": PASSWORD})
        assert_error(login, 503, "storage_unavailable")
    await container.aclose()
