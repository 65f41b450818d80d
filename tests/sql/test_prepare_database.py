"""Start-up against a database (SPEC §2, §3): create the embedded one, refuse an outdated one."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from adapters.sql import current_revision, head_revision, upgrade_to_head
from app_http import cli
from app_http.bootstrap import prepare_database
from app_http.cli import main
from app_http.settings import ConfigError, Settings

SECRET = "prepare-database-test-secret-0123456789"
OUTDATED = "The database schema is out of date: run `chatcore migrate`."


async def test_the_embedded_database_is_created_in_a_new_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "data", secret_key=SECRET)
    await prepare_database(settings, upgrade=False)
    assert (tmp_path / "new" / "data" / "chatcore.sqlite3").is_file()
    assert await current_revision(settings.effective_database_url) == head_revision()
    await prepare_database(settings, upgrade=False)  # the second start finds it ready


async def test_an_unusable_data_dir_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="Cannot use the data directory"):
        await prepare_database(Settings(data_dir=blocker / "data", secret_key=SECRET), upgrade=False)


async def test_a_configured_database_is_only_upgraded_by_migrate(empty_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=empty_url, secret_key=SECRET)
    with pytest.raises(ConfigError) as refused:
        await prepare_database(settings, upgrade=False)
    assert str(refused.value) == OUTDATED
    assert await current_revision(empty_url) is None

    await prepare_database(settings, upgrade=True)
    assert await current_revision(empty_url) == head_revision()
    await prepare_database(settings, upgrade=False)


async def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://chatcore:s3cret-pw@127.0.0.1:1/chatcore"
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key=SECRET)
    for upgrade in (False, True):
        with pytest.raises(ConfigError) as failed:
            await prepare_database(settings, upgrade=upgrade)
        message = str(failed.value)
        assert message.startswith(
            "The database is unreachable: cannot connect to postgresql+asyncpg://chatcore:"
        )
        assert "127.0.0.1:1/chatcore" in message
        assert "s3cret-pw" not in message
        assert "\n" not in message


async def test_a_sqlite_file_that_cannot_be_opened_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"
    with pytest.raises(ConfigError, match=r"^The database is unreachable: cannot connect to sqlite"):
        await prepare_database(Settings(data_dir=tmp_path, database_url=url, secret_key=SECRET), upgrade=True)


def _environment(monkeypatch: pytest.MonkeyPatch, data_dir: Path, database_url: str) -> None:
    for name in ("CHATCORE_ENV", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATCORE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CHATCORE_DATABASE_URL", database_url)
    monkeypatch.setenv("CHATCORE_SECRET_KEY", SECRET)


def test_serve_refuses_an_outdated_schema_with_exit_code_2(
    empty_sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, tmp_path, empty_sqlite_url)
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == f"chatcore: configuration error: {OUTDATED}\n"


def test_migrate_upgrades_and_then_serve_would_accept(
    empty_sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, tmp_path, empty_sqlite_url)
    assert main(["migrate"]) == 0
    assert "Database is up to date." in capsys.readouterr().out
    assert main(["migrate"]) == 0


def test_migrate_against_an_unreachable_database_exits_with_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _environment(monkeypatch, tmp_path, "postgresql+asyncpg://postgres@127.0.0.1:1/chatcore")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chatcore: configuration error: The database is unreachable:")
    assert err.count("\n") == 1


async def test_a_migrated_database_is_accepted_without_upgrading(empty_url: str, tmp_path: Path) -> None:
    await upgrade_to_head(empty_url)
    await prepare_database(
        Settings(data_dir=tmp_path, database_url=empty_url, secret_key=SECRET), upgrade=False
    )


def test_a_preparation_that_dies_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """``chatcore serve`` prepares the database in a child process: killed, it must not leave the
    server waiting for an answer that never comes."""

    def killed(report: Connection) -> None:
        os._exit(9)

    monkeypatch.setattr(cli, "prepare_in_child", killed)
    with pytest.raises(ConfigError, match="exit code 9"):
        cli.prepare_apart()
