"""Account deletion on the real server with 2 workers on PostgreSQL (SPEC §4.1): every way in ends
at once, whichever worker answers. Nothing is cached per process, so each request below, sent on
its own connection, is refused by whichever worker the server hands it to."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from e2e.server import base_env, chatcore_binary, running_server

PASSWORD = "e2e password 1"
ROUNDS = 20


async def statuses(
    url: str, method: str, path: str, *, headers: dict[str, str], json: object = None
) -> list[int]:
    """``ROUNDS`` concurrent requests, each on a fresh connection (spread over the workers)."""

    async def one() -> int:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            response = await client.request(method, path, headers=headers, json=json)
            assert response.headers["content-type"].startswith("application/json"), response.text
            return response.status_code

    return list(await asyncio.gather(*(one() for _ in range(ROUNDS))))


@pytest.mark.e2e
async def test_postgres_two_workers_deletion_ends_every_session(
    tmp_path: Path, postgres_database_url: str
) -> None:
    env = base_env(tmp_path / "data", CHATCORE_DATABASE_URL=postgres_database_url, CHATCORE_WORKERS="2")
    migrated = await asyncio.to_thread(
        subprocess.run, [chatcore_binary(), "migrate"], env=env, capture_output=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
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
            chat = await client.post("/chatbot/chats/", json={"message": "Hello there!"}, headers=bearer)
            assert chat.status_code == 201, chat.text
            export = await client.get("/accounts/export/", headers=bearer)
            assert export.headers["content-disposition"].startswith("attachment")
            assert export.json()["chats"][0]["messages"][0]["content"] == "Hello there!"

        assert await statuses(server.url, "GET", "/accounts/mypage/", headers=bearer) == [200] * ROUNDS
        assert await statuses(server.url, "GET", "/v1/models", headers=keyed) == [200] * ROUNDS

        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            gone = await client.request(
                "DELETE", "/accounts/mypage/", json={"password": PASSWORD}, headers=bearer
            )
            assert gone.status_code == 204, gone.text

        assert await statuses(server.url, "GET", "/accounts/mypage/", headers=bearer) == [401] * ROUNDS
        assert await statuses(server.url, "GET", "/chatbot/chats/", headers=bearer) == [401] * ROUNDS
        assert await statuses(server.url, "GET", "/v1/models", headers=bearer) == [401] * ROUNDS
        assert await statuses(server.url, "GET", "/v1/models", headers=keyed) == [401] * ROUNDS
        refresh = {"refresh": tokens["refresh"]}
        assert (
            await statuses(server.url, "POST", "/accounts/token/refresh/", headers={}, json=refresh)
            == [401] * ROUNDS
        )
