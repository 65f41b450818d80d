"""HTTP tests: the real Litestar app over in-memory adapters and fakes, driven by its test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.identity import JoseTokenService
from adapters.memory import MemoryAttemptLimiter, MemoryStore
from app_http.app import create_app
from app_http.bootstrap import build_container
from app_http.container import Container
from app_http.settings import Settings
from chatcore.testing import FrozenClock, QuickHasher, ScriptedLLM

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse 1"


@dataclass
class Api:
    """A test client plus the fakes behind it."""

    client: AsyncTestClient[Any]
    container: Container
    clock: FrozenClock
    llm: ScriptedLLM
    store: MemoryStore

    async def join(
        self, username: str = "minji", email: str | None = None, password: str = PASSWORD
    ) -> dict[str, Any]:
        body = {
            "username": username,
            "email": email or f"{username}@example.com",
            "password": password,
            "password2": password,
        }
        response = await self.client.post("/accounts/join/", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def login(self, username: str = "minji", password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/accounts/token/", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def user(self, username: str = "minji") -> dict[str, str]:
        """Sign up and log in; the Authorization header of that user."""
        await self.join(username)
        tokens = await self.login(username)
        return {"Authorization": f"Bearer {tokens['access']}"}

    async def chat(self, headers: dict[str, str], **body: Any) -> int:
        response = await self.client.post("/chatbot/chats/", json=body, headers=headers)
        assert response.status_code == 201, response.text
        chat_id: int = response.json()["chat"]["id"]
        return chat_id


@asynccontextmanager
async def api_over_fakes(data_dir: Path, *, direct_routes: bool = True) -> AsyncIterator[Api]:
    """The app over fresh in-memory fakes (``direct_routes``: as ``create_app``)."""
    clock = FrozenClock()
    llm = ScriptedLLM()
    store = MemoryStore()
    settings = Settings(secret_key=SECRET, data_dir=data_dir)
    container = build_container(
        settings,
        clock=clock,
        llm=llm,
        uow=store.unit_of_work,
        hasher=QuickHasher(),
        tokens=JoseTokenService(SECRET, access_ttl=900),
        limiter=MemoryAttemptLimiter(max_failures=5),
    )
    async with AsyncTestClient(create_app(container, direct_routes=direct_routes)) as client:
        yield Api(client=client, container=container, clock=clock, llm=llm, store=store)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with api_over_fakes(tmp_path) as api:
        yield api
