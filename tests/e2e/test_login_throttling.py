"""Login throttling on the real server (SPEC §2, §4.1): the per-address budget holds against a
burst across worker processes, an office's other users still log in, and forwarded addresses
are believed only from a trusted proxy. Create-admin works without an e-mail (SPEC §3)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from e2e.server import base_env, chatcore_binary, running_server

PASSWORD = "e2e password 1"
ADDRESS_LIMIT = 20


async def join(client: httpx.AsyncClient, username: str, **headers: str) -> None:
    body = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    response = await client.post("/accounts/join/", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def login(client: httpx.AsyncClient, username: str, password: str, **headers: str) -> int:
    response = await client.post(
        "/accounts/token/", json={"username": username, "password": password}, headers=headers
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code


async def wrong_password_burst(url: str, count: int, forwarded_for: list[str]) -> list[int]:
    """``count`` concurrent wrong passwords for ``count`` different accounts."""
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        return list(
            await asyncio.gather(
                *(
                    login(client, f"victim{n}", "leaked password", **{"x-forwarded-for": forwarded_for[n]})
                    for n in range(count)
                )
            )
        )


async def an_office_keeps_working(url: str, **headers: str) -> None:
    """Ten failures of one colleague (the account's whole budget) do not stop another."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await join(client, "colleague", **headers)
        await join(client, "alice", **headers)
        statuses = [await login(client, "colleague", "typo typo 1", **headers) for _ in range(10)]
        assert statuses == [401] * 10
        assert await login(client, "colleague", PASSWORD, **headers) == 429
        assert await login(client, "alice", PASSWORD, **headers) == 200


@pytest.mark.e2e
async def test_postgres_two_workers_hold_the_address_budget_and_ignore_untrusted_headers(
    tmp_path: Path, postgres_database_url: str
) -> None:
    env = base_env(
        tmp_path / "data",
        CHATCORE_DATABASE_URL=postgres_database_url,
        CHATCORE_WORKERS="2",
        CHATCORE_LOGIN_ADDRESS_LIMIT=str(ADDRESS_LIMIT),
    )
    migrated = await asyncio.to_thread(
        subprocess.run, [chatcore_binary(), "migrate"], env=env, capture_output=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    with running_server(env) as server:
        await an_office_keeps_working(server.url)  # 10 of 127.0.0.1's 20 failures spent
        # No trusted proxy: every made-up X-Forwarded-For is ignored; all 40 are 127.0.0.1's.
        statuses = await wrong_password_burst(server.url, 40, [f"10.9.{n}.1" for n in range(40)])
    assert statuses.count(401) <= ADDRESS_LIMIT - 10, statuses
    assert statuses.count(401) + statuses.count(429) == 40, statuses


@pytest.mark.e2e
async def test_sqlite_behind_a_trusted_proxy(tmp_path: Path) -> None:
    env = base_env(
        tmp_path / "data",
        CHATCORE_TRUSTED_PROXIES="127.0.0.1, ::1",
        CHATCORE_LOGIN_ADDRESS_LIMIT=str(ADDRESS_LIMIT),
    )
    created = await asyncio.to_thread(
        subprocess.run,
        [chatcore_binary(), "create-admin", "boss", "--password-stdin"],
        input=b"admin password 1\n",
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    with running_server(env) as server:
        await an_office_keeps_working(server.url, **{"x-forwarded-for": "198.51.100.20"})
        # One client's burst, forwarded by the proxy: held to its own budget...
        statuses = await wrong_password_burst(server.url, 40, ["6.6.6.6, 198.51.100.7"] * 40)
        assert statuses.count(401) <= ADDRESS_LIMIT, statuses
        assert statuses.count(401) + statuses.count(429) == 40, statuses
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            # ...which is not the proxy's, nor the office's.
            assert await login(client, "alice", PASSWORD, **{"x-forwarded-for": "198.51.100.20"}) == 200
            assert await login(client, "boss", "admin password 1") == 200
            token = await client.post(
                "/accounts/token/", json={"username": "boss", "password": "admin password 1"}
            )
            mypage = await client.get(
                "/accounts/mypage/", headers={"Authorization": f"Bearer {token.json()['access']}"}
            )
            assert mypage.json()["email"] is None
        log = server.log()
    request_lines = [line for line in log.splitlines() if "request_id" in line and "duration_ms" in line]
    assert any("client=198.51.100.7" in line for line in request_lines), log
    assert any("client=198.51.100.20" in line for line in request_lines), log
    assert not any("client=6.6.6.6" in line for line in request_lines), log
