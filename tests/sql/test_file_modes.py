"""The embedded database holds password hashes and every learner's messages: its data dir is the
owner's only (0700), and so are the database, its -wal and -shm files and the secret key (0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sql import upgrade_to_head
from app_http.bootstrap import build_container, prepare_database, resolve_secret_key
from app_http.settings import Settings
from chatcore.testing import QuickHasher

PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give (files 0644, directories 0755 unless asked otherwise)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def modes_after_a_write(settings: Settings) -> dict[str, int]:
    """Sign someone up (a write, so the -wal and -shm files exist) and return the modes of the
    database's files while the connection is open (SQLite removes the -wal file at the last close)."""
    container = build_container(settings, hasher=QuickHasher())
    try:
        await container.accounts.register(
            username="minji", email="minji@example.com", password=PASSWORD, password2=PASSWORD
        )
        database = Path(settings.effective_database_url.removeprefix("sqlite+aiosqlite:///"))
        modes = {p.name: mode(p) for p in [database, *database.parent.glob(database.name + "-*")]}
    finally:
        await container.aclose()
    assert {database.name, f"{database.name}-wal", f"{database.name}-shm"} <= set(modes)
    return modes


async def test_a_new_data_dir_and_everything_in_it_are_the_owners_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    await prepare_database(settings, upgrade=False)
    resolve_secret_key(settings)
    modes = await modes_after_a_write(settings)
    assert modes == dict.fromkeys(modes, 0o600)
    assert mode(tmp_path / "var" / "secret_key") == 0o600
    assert mode(tmp_path / "var") == 0o700


async def test_an_older_data_dir_open_to_others_is_closed_at_start_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    database = data_dir / "chatcore.sqlite3"
    await upgrade_to_head(f"sqlite+aiosqlite:///{database}")
    for path in (data_dir, database):
        path.chmod(0o755 if path.is_dir() else 0o644)  # what an older version left behind
    lock = data_dir / "chatcore.sqlite3-writer.lock"
    lock.touch(mode=0o644)

    await prepare_database(Settings(data_dir=data_dir), upgrade=False)

    assert mode(data_dir) == 0o700
    assert mode(database) == 0o600
    assert mode(lock) == 0o600


async def test_a_configured_sqlite_file_elsewhere_is_the_owners_only(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "app.db"
    database.parent.mkdir()
    settings = Settings(data_dir=tmp_path / "var", database_url=f"sqlite+aiosqlite:///{database}")
    await prepare_database(settings, upgrade=True)
    modes = await modes_after_a_write(settings)
    assert modes == dict.fromkeys(modes, 0o600)
