"""Every contract spec runs unchanged against each implementation of its port.

``storage`` is parametrised over memory, SQLite (a fresh file per test, copied from one migrated
template) and PostgreSQL (one migrated database per session, emptied before each test);
``limiter`` over the same three and Redis (random key prefix per test, deleted afterwards).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from adapters.memory import MemoryAttemptLimiter, MemoryStore
from adapters.redis_limits import RedisAttemptLimiter
from adapters.sql import SqlAttemptLimiter, SqlUnitOfWorkFactory, create_engine_for, upgrade_to_head
from chatcore.ports.security import AttemptLimiter
from chatcore.ports.storage import UnitOfWorkFactory
from contract.databases import (
    EMPTY_ALL,
    create_postgres_database,
    drop_postgres_database,
    postgres_server_url,
    redis_server_url,
    run,
)
from contract.references import memory_references, sql_references


@dataclass(frozen=True)
class Storage:
    """What a storage contract spec gets: a unit-of-work factory, and a way to find every stored
    trace of a user (its rows, and rows of its chats) for the erasure spec."""

    uow: UnitOfWorkFactory
    references: Callable[[int, Collection[int]], Awaitable[list[str]]]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    run(upgrade_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database on the test server, migrated to head once and dropped at the end."""
    server = postgres_server_url()
    url = create_postgres_database(server, "contract")
    try:
        run(upgrade_to_head(url))
        yield url
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    run(_empty(postgres_database))
    return postgres_database


async def _empty(url: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            for statement in EMPTY_ALL:
                await conn.execute(statement)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def sql_url(request: pytest.FixtureRequest) -> str:
    """An empty, migrated SQL database of each kind."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """``memory`` or the URL of an empty, migrated database (resolved before any loop runs)."""
    if request.param == "memory":
        return "memory"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def storage(backend: str) -> AsyncIterator[Storage]:
    if backend == "memory":
        store = MemoryStore()

        async def in_memory(user_id: int, chat_ids: Collection[int]) -> list[str]:
            return memory_references(store, user_id, chat_ids)

        yield Storage(uow=store.unit_of_work, references=in_memory)
        return
    engine = create_engine_for(backend)

    async def in_sql(user_id: int, chat_ids: Collection[int]) -> list[str]:
        return await sql_references(engine, user_id, chat_ids)

    try:
        yield Storage(uow=SqlUnitOfWorkFactory(engine), references=in_sql)
    finally:
        await engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> str:
    """``memory``, the URL of an empty, migrated database, or the URL of the Redis server."""
    if request.param == "memory":
        return "memory"
    if request.param == "redis":
        return redis_server_url()
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def limiter(limiter_backend: str) -> AsyncIterator[AttemptLimiter]:
    if limiter_backend == "memory":
        yield MemoryAttemptLimiter()
    elif limiter_backend.startswith("redis"):
        # A random prefix: tests share the server's database and must not see each other's keys.
        prefix = f"chatcore-test:{secrets.token_hex(6)}:"
        client = Redis.from_url(limiter_backend)
        try:
            yield RedisAttemptLimiter(client, prefix=prefix)
        finally:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    else:
        engine = create_engine_for(limiter_backend)
        try:
            yield SqlAttemptLimiter(engine)
        finally:
            await engine.dispose()
