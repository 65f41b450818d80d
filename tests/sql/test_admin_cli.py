"""``chatcore admin ...`` (SPEC §3, §4.6): the administration from a shell, with its exit codes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app_http.bootstrap import build_container, prepare_database
from app_http.cli import main
from app_http.settings import Settings
from chatcore.admin import SHELL, SHELL_NAME
from chatcore.testing import QuickHasher

PASSWORD = "learner password 1"
SECRET = "admin-cli-test-secret-0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CHATCORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATCORE_SECRET_KEY", SECRET)
    settings = Settings(data_dir=tmp_path / "data", secret_key=SECRET)

    async def setup() -> None:
        await prepare_database(settings, upgrade=True)
        container = build_container(settings, hasher=QuickHasher())
        try:
            for name, admin in (("root", True), ("minji", False), ("minsu", False)):
                await container.accounts.register(
                    username=name,
                    email=f"{name}@example.com",
                    password=PASSWORD,
                    password2=PASSWORD,
                    is_admin=admin,
                )
        finally:
            await container.aclose()

    asyncio.run(setup())
    return settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit code, standard output, and the command's own lines on standard error (without the
    start-up log lines)."""
    try:
        code = main(["admin", *argv])
    finally:
        out, err = capsys.readouterr()
    return code, out, "\n".join(line for line in err.splitlines() if line.startswith("chatcore"))


def audit(settings: Settings) -> list[tuple[str, str, str | None]]:
    async def read() -> list[tuple[str, str, str | None]]:
        container = build_container(settings, hasher=QuickHasher())
        try:
            page = await container.admin.audit(SHELL)
        finally:
            await container.aclose()
        return [(e.admin_name, e.action, e.target_name) for e in page.items]

    return asyncio.run(read())


def test_users_are_listed_as_a_table_or_json(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "users")
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split()[:3] == ["id", "username", "email"]
    assert [line.split()[1] for line in lines[1:]] == ["minsu", "minji", "root"]

    code, out, _ = run(capsys, "users", "--q", "MIN", "--json")
    assert code == 0
    assert [u["username"] for u in json.loads(out)["items"]] == ["minsu", "minji"]


def test_limit_deactivate_reactivate_role_are_done_and_audited(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "limit", "minji", "20", "--json")
    assert code == 0
    assert json.loads(out)["items"][0]["daily_limit"] == 20
    code, out, _ = run(capsys, "limit", "minji", "--default", "--json")
    assert code == 0
    assert json.loads(out)["items"][0]["daily_limit"] is None
    code, out, _ = run(capsys, "deactivate", "2", "--as", "root", "--json")
    assert code == 0
    assert json.loads(out)["items"][0]["is_active"] is False
    assert run(capsys, "reactivate", "minji")[0] == 0
    code, out, _ = run(capsys, "role", "minsu", "--admin")
    assert code == 0
    assert "minsu" in out

    assert audit(settings) == [
        (SHELL_NAME, "set_role", "minsu"),
        (SHELL_NAME, "reactivate", "minji"),
        ("root", "deactivate", "minji"),
        (SHELL_NAME, "set_limit", "minji"),
        (SHELL_NAME, "set_limit", "minji"),
    ]
    code, out, _ = run(capsys, "audit", "--limit", "2")
    assert code == 0
    assert len(out.splitlines()) == 3


def test_refusals_exit_1_with_one_line(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, words in (
        (("deactivate", "nobody"), "not found"),
        (("role", "root", "--no-admin"), "last active administrator"),
        (("deactivate", "root"), "last active administrator"),
        (("deactivate", "root", "--as", "root"), "cannot deactivate their own"),
        (("users", "--as", "minji"), "Only administrators"),
        (("delete", "minji"), "--yes"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert words in err, err
    assert audit(settings) == []


def test_bad_usage_exits_2(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ("limit", "minji"),
        ("limit", "minji", "many"),
        ("role", "minji"),
        ("nonsense",),
        ("stats", "--days", "x"),
    ):
        with pytest.raises(SystemExit) as exited:
            run(capsys, *argv)
        assert exited.value.code == 2, argv
    for argv in (("limit", "minji", "10001"), ("stats", "--days", "0"), ("users", "--limit", "0")):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert len(err.splitlines()) == 1


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("users", "limit", "deactivate", "reactivate", "role", "delete", "stats", "audit", ""):
        with pytest.raises(SystemExit) as exited:
            main(["admin", *([command] if command else []), "--help"])
        assert exited.value.code == 0
        assert "usage: chatcore admin" in capsys.readouterr().out


def test_delete_and_stats(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "delete", "minsu", "--yes")
    assert code == 0
    assert "Deleted 'minsu'" in out
    assert audit(settings) == [(SHELL_NAME, "delete", "minsu")]
    code, out, _ = run(capsys, "stats", "--days", "3")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "day",
        "requests",
        "refused",
        "failed",
        "active_users",
        "new_users",
    ]
    assert len(out.splitlines()) == 4
    code, out, _ = run(capsys, "stats", "--days", "1", "--json")
    assert json.loads(out)["days"][0]["new_users"] == 3  # minsu too, anonymously
