"""``chatcore create-admin`` (SPEC §3): creates an administrator, or makes an existing user one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from app_http.bootstrap import build_container, prepare_database
from app_http.cli import create_admin
from app_http.settings import Settings
from chatcore.admin import SHELL, SHELL_NAME

PASSWORD = "learner password 1"


async def _profile_of(settings: Settings, username: str) -> tuple[bool, bool]:
    """(is an administrator, the user's own password works): with the real Argon2id hasher, as
    the command uses it."""
    container = build_container(settings)
    try:
        pair = await container.accounts.login(login=username, password=PASSWORD, client="127.0.0.1")
        user = (await container.accounts.profile(container.accounts.authenticate(pair.access))).user
        return user.is_admin, True
    finally:
        await container.aclose()


async def test_an_existing_user_is_promoted_and_keeps_their_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="create-admin-test-secret-0123456789")
    await prepare_database(settings, upgrade=True)
    container = build_container(settings)
    try:
        await container.accounts.register(
            username="minji", email="minji@example.com", password=PASSWORD, password2=PASSWORD
        )
    finally:
        await container.aclose()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no password is asked for a promotion

    code = await create_admin(settings, "MINJI", None, from_stdin=True)

    assert code == 0
    assert "is now an administrator" in capsys.readouterr().out
    assert await _profile_of(settings, "minji") == (True, True)


async def test_a_new_name_creates_an_administrator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="create-admin-test-secret-0123456789")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))

    assert await create_admin(settings, "boss", None, from_stdin=True) == 0

    assert "Administrator 'boss' created" in capsys.readouterr().out
    assert await _profile_of(settings, "boss") == (True, True)


async def test_creating_and_promoting_are_recorded_in_the_audit_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="create-admin-test-secret-0123456789")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert await create_admin(settings, "boss", None, from_stdin=True) == 0
    container = build_container(settings)
    try:
        await container.accounts.register(
            username="minji", email="minji@example.com", password=PASSWORD, password2=PASSWORD
        )
    finally:
        await container.aclose()
    assert await create_admin(settings, "minji", None, from_stdin=True) == 0

    container = build_container(settings)
    try:
        entries = (await container.admin.audit(SHELL)).items
    finally:
        await container.aclose()
    assert [(e.admin_name, e.action, e.target_name, e.before, e.after) for e in entries] == [
        (SHELL_NAME, "set_role", "minji", {"is_admin": False}, {"is_admin": True}),
        (SHELL_NAME, "set_role", "boss", {"is_admin": False}, {"is_admin": True}),
    ]
