"""Fresh, empty databases of each kind for migration and start-up tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.databases import create_postgres_database, drop_postgres_database, postgres_server_url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    server = postgres_server_url()
    url = create_postgres_database(server, "empty")
    try:
        yield url
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind."""
    url: str = request.getfixturevalue(f"empty_{request.param}_url")
    return url
