"""Test databases: a fresh PostgreSQL database per test session, SQLite files per test, Redis.

PostgreSQL runs when ``CHATCORE_TEST_POSTGRES_URL`` names a server (any database on it that
``CREATE DATABASE`` can run from). With ``CHATCORE_REQUIRE_POSTGRES=1`` (CI) a missing or
unreachable server fails the tests instead of skipping them; a URL that is set but does not
answer always fails. Redis likewise: ``CHATCORE_TEST_REDIS_URL`` and ``CHATCORE_REQUIRE_REDIS=1``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from sqlalchemy import delete, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.schema import DATA_TABLES, metadata

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run set-up work from a synchronous (session-scoped) fixture in a loop of its own."""
    return asyncio.run(coroutine)


def postgres_server_url() -> str:
    """The configured server URL, or skip / fail the test as the environment demands."""
    url = os.environ.get("CHATCORE_TEST_POSTGRES_URL", "").strip()
    required = os.environ.get("CHATCORE_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail("CHATCORE_REQUIRE_POSTGRES=1 but CHATCORE_TEST_POSTGRES_URL is not set")
        pytest.skip("CHATCORE_TEST_POSTGRES_URL is not set")
    return url


def redis_server_url() -> str:
    """The configured Redis URL, or skip / fail the test as the environment demands."""
    url = os.environ.get("CHATCORE_TEST_REDIS_URL", "").strip()
    if not url:
        if os.environ.get("CHATCORE_REQUIRE_REDIS") == "1":
            pytest.fail("CHATCORE_REQUIRE_REDIS=1 but CHATCORE_TEST_REDIS_URL is not set")
        pytest.skip("CHATCORE_TEST_REDIS_URL is not set")
    return url


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def create_postgres_database(server_url: str, label: str) -> str:
    """A new, empty database on the server; returns its URL."""
    name = f"chatcore_test_{label}_{secrets.token_hex(4)}"
    try:
        run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at CHATCORE_TEST_POSTGRES_URL is not usable: {exc}")
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


EMPTY_ALL = [delete(metadata.tables[name]) for name in DATA_TABLES]
"""Empties every table, children first (cheaper than TRUNCATE for the few rows a test leaves)."""
