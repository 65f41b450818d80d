"""Who may read ``GET /metrics`` (SPEC §4.4, §2 ``CHATCORE_METRICS_TOKEN``): with a token, only its
bearer; without one, only this machine (the client address as the app resolves it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from api.conftest import SECRET
from api.from_address import from_address
from api.helpers import assert_error
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.client_address import parse_networks
from app_http.settings import ConfigError, Settings
from chatcore.testing import QuickHasher, ScriptedLLM

TOKEN = "metrics-token-0123456789abcdef"


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[Litestar]:
    container = build_container(
        settings,
        llm=ScriptedLLM(),
        uow=MemoryStore().unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(),
    )
    try:
        yield create_app(container)
    finally:
        await container.aclose()


async def get_metrics(app: Litestar, address: str, **headers: str | bytes) -> httpx.Response:
    raw = [(name.encode(), v if isinstance(v, bytes) else v.encode()) for name, v in headers.items()]
    async with from_address(app, address) as http:
        return await http.get("/metrics", headers=raw)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_without_a_token_this_machine_may_read(tmp_path: Path, address: str) -> None:
    async with served(Settings(secret_key=SECRET, data_dir=tmp_path)) as app:
        response = await get_metrics(app, address)
    assert response.status_code == 200
    assert "chatcore_http_requests_total" in response.text or "chatcore_tutor_calls_total" in response.text
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("address", ["203.0.113.5", "10.1.2.3", "2001:db8::1", "testclient"])
async def test_without_a_token_no_one_else_may(tmp_path: Path, address: str) -> None:
    async with served(Settings(secret_key=SECRET, data_dir=tmp_path)) as app:
        response = await get_metrics(app, address)
        # Not even with a made-up forwarded address: this peer is no trusted proxy.
        forged = await get_metrics(app, address, **{"X-Forwarded-For": "127.0.0.1"})
    body = assert_error(response, 403, "permission_denied")
    assert "CHATCORE_METRICS_TOKEN" in body["detail"]
    assert_error(forged, 403, "permission_denied")


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(tmp_path: Path) -> None:
    settings = Settings(secret_key=SECRET, data_dir=tmp_path, trusted_proxies=parse_networks("10.0.0.1"))
    async with served(settings) as app:
        remote = await get_metrics(app, "10.0.0.1", **{"X-Forwarded-For": "203.0.113.5"})
        local = await get_metrics(app, "10.0.0.1", **{"X-Forwarded-For": "127.0.0.1"})
        spoofed = await get_metrics(app, "10.0.0.1", **{"X-Forwarded-For": "127.0.0.1, 203.0.113.5"})
    assert_error(remote, 403, "permission_denied")  # the proxy is not the client
    assert local.status_code == 200
    assert_error(spoofed, 403, "permission_denied")  # what the client wrote left of it is ignored


async def test_with_a_token_only_its_bearer_may_read_from_anywhere(tmp_path: Path) -> None:
    async with served(Settings(secret_key=SECRET, data_dir=tmp_path, metrics_token=TOKEN)) as app:
        remote = await get_metrics(app, "203.0.113.5", Authorization=f"Bearer {TOKEN}")
        lowercase_scheme = await get_metrics(app, "203.0.113.5", Authorization=f"bearer {TOKEN}")
        missing = await get_metrics(app, "127.0.0.1")
        wrong = await get_metrics(app, "127.0.0.1", Authorization=f"Bearer {TOKEN}x")
        prefix = await get_metrics(app, "127.0.0.1", Authorization=f"Bearer {TOKEN[:-1]}")
        basic = await get_metrics(app, "127.0.0.1", Authorization=f"Basic {TOKEN}")
        odd = await get_metrics(app, "127.0.0.1", Authorization="Bearer caf\u00e9".encode())
    assert remote.status_code == 200
    assert remote.headers["content-type"].startswith("text/plain; version=")
    assert lowercase_scheme.status_code == 200
    for refused in (missing, wrong, prefix, basic, odd):
        assert_error(refused, 401, "not_authenticated")
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in refused.text


def test_a_short_metrics_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="CHATCORE_METRICS_TOKEN"):
        Settings.from_env({"CHATCORE_METRICS_TOKEN": "short"})
    assert Settings.from_env({"CHATCORE_METRICS_TOKEN": f"  {TOKEN} "}).metrics_token == TOKEN
    assert TOKEN not in repr(Settings.from_env({"CHATCORE_METRICS_TOKEN": TOKEN}))
