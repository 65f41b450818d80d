"""The real ``chatcore serve`` process: quota exactness under concurrency, restarts, workers (SPEC §5)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from e2e.server import base_env, chatcore_binary, running_server

PASSWORD = "e2e password 1"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([chatcore_binary(), *args], env=env, capture_output=True, timeout=120, check=False)


async def sign_up(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    join = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    assert (await client.post("/accounts/join/", json=join)).status_code == 201
    token = await client.post("/accounts/token/", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200
    return {"Authorization": f"Bearer {token.json()['access']}"}


async def burst(url: str, headers: dict[str, str], chat_id: int, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/chatbot/chats/{chat_id}/messages/", json={"content": f"message {n}"}, headers=headers
                )
                for n in range(count)
            )
        )
    for response in responses:
        assert response.headers["content-type"].startswith("application/json"), response.text
    return sorted(r.status_code for r in responses)


async def exercise(url: str) -> tuple[dict[str, str], int]:
    """Sign up, open a chat, fire 50 concurrent messages: exactly 5 are accepted."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        headers = await sign_up(client, "jiwoo")
        created = await client.post(
            "/chatbot/chats/", json={"mode": "interview", "topic": "data analyst"}, headers=headers
        )
        chat_id: int = created.json()["chat"]["id"]
    statuses = await burst(url, headers, chat_id, 50)
    assert statuses == [201] * 5 + [429] * 45
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        quota = (await client.get("/chatbot/quota/", headers=headers)).json()
        assert quota["used"] == 5
        assert quota["remaining"] == 0
        chat = (await client.get(f"/chatbot/chats/{chat_id}/", headers=headers)).json()
        assert len(chat["messages"]) == 10
        assert {m["status"] for m in chat["messages"]} == {"ok"}
    return headers, chat_id


async def survives_restart(url: str, chat_id: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = await client.post("/accounts/token/", json={"username": "jiwoo", "password": PASSWORD})
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access']}"}
        chats = (await client.get("/chatbot/chats/", headers=headers)).json()["items"]
        assert [c["id"] for c in chats] == [chat_id]
        assert chats[0]["message_count"] == 10
        assert (await client.get("/chatbot/quota/", headers=headers)).json()["used"] == 5
        refused = await client.post(
            f"/chatbot/chats/{chat_id}/messages/", json={"content": "again"}, headers=headers
        )
        assert refused.status_code == 429


@pytest.mark.e2e
async def test_sqlite_server_exact_quota_and_restart(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", secret=False)  # zero configuration, as in the README
    with running_server(env) as server:
        _, chat_id = await exercise(server.url)
        assert (await asyncio.to_thread(httpx.get, server.url + "/readyz")).json() == {"status": "ok"}
    with running_server(env) as server:
        await survives_restart(server.url, chat_id)
    assert (tmp_path / "data" / "chatcore.sqlite3").exists()
    assert (
        oct((tmp_path / "data" / "secret_key").stat().st_mode & 0o777) == "0o600"
        or "CHATCORE_SECRET_KEY" in env
    )


@pytest.mark.e2e
async def test_postgres_two_workers_exact_quota_and_restart(
    tmp_path: Path, postgres_database_url: str
) -> None:
    env = base_env(tmp_path / "data", CHATCORE_DATABASE_URL=postgres_database_url, CHATCORE_WORKERS="2")
    outdated = await asyncio.to_thread(run_cli, "serve", env={**env, "CHATCORE_PORT": "1"})
    assert outdated.returncode == 2
    assert b"chatcore migrate" in outdated.stderr
    migrated = await asyncio.to_thread(run_cli, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with running_server(env) as server:
        _, chat_id = await exercise(server.url)
    with running_server(env) as server:
        await survives_restart(server.url, chat_id)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("CHATCORE_DAILY_LIMIT", "0", "CHATCORE_DAILY_LIMIT"),
        ("CHATCORE_QUOTA_TIMEZONE", "Mars/Base", "Mars/Base"),
        ("CHATCORE_PORT", "http", "CHATCORE_PORT"),
        ("CHATCORE_TRUSTED_PROXIES", "10.0.0.1, proxy.internal", "CHATCORE_TRUSTED_PROXIES"),
        ("CHATCORE_LOGIN_ADDRESS_LIMIT", "lots", "CHATCORE_LOGIN_ADDRESS_LIMIT"),
        ("CHATCORE_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none", "database"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    tmp_path: Path, variable: str, value: str, words: str
) -> None:
    env = {**base_env(tmp_path / "data"), variable: value}
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert words.lower() in lines[0].lower()


@pytest.mark.e2e
def test_production_requires_secret_and_database(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data", CHATCORE_ENV="production")
    del env["CHATCORE_SECRET_KEY"]
    result = run_cli("serve", env=env)
    assert result.returncode == 2
    assert b"CHATCORE_SECRET_KEY" in result.stderr


@pytest.mark.e2e
async def test_create_admin_and_logs_without_secrets(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    created = await asyncio.to_thread(
        subprocess.run,
        [chatcore_binary(), "create-admin", "boss", "--email", "boss@example.com", "--password-stdin"],
        input=b"admin password 1\n",
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert b"boss" in created.stdout
    with running_server(env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            token = await client.post(
                "/accounts/token/", json={"username": "boss", "password": "admin password 1"}
            )
            admin = {"Authorization": f"Bearer {token.json()['access']}"}
            learner = await sign_up(client, "learner")
            learner_id = (await client.get("/accounts/mypage/", headers=learner)).json()["id"]
            limited = await client.put(
                f"/admin/users/{learner_id}/limit", json={"daily_limit": 1}, headers=admin
            )
            assert limited.status_code == 200, limited.text
            chat = await client.post(
                "/chatbot/chats/", json={"message": "secret diary entry"}, headers=learner
            )
            assert chat.status_code == 201
            chat_id = chat.json()["chat"]["id"]
            again = await client.post(
                f"/chatbot/chats/{chat_id}/messages/", json={"content": "more"}, headers=learner
            )
            assert again.status_code == 429
    # Read after the server stopped: a request's log line is written after its response is sent.
    log = server.log()
    for secret in (
        "admin password 1",
        PASSWORD,
        "secret diary entry",
        token.json()["access"],
        token.json()["refresh"],
    ):
        assert secret not in log
    request_lines = [line for line in log.splitlines() if " request " in f" {line} " or '"request"' in line]
    assert any("/chatbot/chats/{chat_id}/messages" in line and "429" in line for line in request_lines), log
    assert all("request_id" in line and "duration_ms" in line for line in request_lines)
