"""docs/configuration.md has one row for every setting the code reads, and no other rows.

What the code reads is found two ways, so a new setting cannot slip past both: ``Settings.from_env``
runs on a mapping that records every name it looks up (this finds names built at run time, such as
the OAuth ones), and every ``CHATCORE_*`` / ``OPENAI_*`` name written anywhere in ``src/`` counts
too (this finds a variable read outside ``from_env``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from app_http.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
NAME = r"(?:CHATCORE|OPENAI)_[A-Z0-9_]*[A-Z0-9]"
ROW = re.compile(rf"^\|\s*`(?P<name>{NAME})`\s*\|(?P<rest>.*)\|\s*$")
SETTING_ROW = re.compile(rf"^\|\s*`{NAME}`")


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.looked_up: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.looked_up.add(name)
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def documented() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in CONFIGURATION.read_text().splitlines():
        row = ROW.match(line)
        if row is None:
            continue
        assert row["name"] not in rows, f"{row['name']} has two rows"
        rows[row["name"]] = [cell.strip() for cell in row["rest"].split("|")]
    return rows


def read_by_from_env() -> set[str]:
    # With both OAuth clients configured, from_env also reads their endpoint URLs.
    env = RecordingEnv(
        {
            f"CHATCORE_{provider}_{part}": "x"
            for provider in ("GITHUB", "KAKAO")
            for part in ("CLIENT_ID", "CLIENT_SECRET")
        }
    )
    Settings.from_env(env)
    return env.looked_up


def named_in_src() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        names.update(re.findall(rf"\b{NAME}\b", path.read_text()))
    return names


def test_every_setting_the_code_reads_has_a_row() -> None:
    missing = (read_by_from_env() | named_in_src()) - documented().keys()
    assert not missing, f"docs/configuration.md has no row for {sorted(missing)}"


def test_every_row_is_a_setting_the_code_reads() -> None:
    stale = documented().keys() - read_by_from_env() - named_in_src()
    assert not stale, f"docs/configuration.md documents settings nothing reads: {sorted(stale)}"


def test_every_row_gives_a_default_and_a_meaning() -> None:
    rows = documented()
    assert len(rows) >= 20
    for name, cells in rows.items():
        assert len(cells) == 2, f"{name}: expected `| name | default | meaning |`"
        assert all(cells), f"{name}: an empty default or meaning"


def test_the_recording_env_sees_what_from_env_reads() -> None:
    # Guards the check above: if from_env stopped reading through the mapping it is given,
    # "missing" would be empty for the wrong reason.
    assert {"CHATCORE_DAILY_LIMIT", "OPENAI_API_KEY", "CHATCORE_KAKAO_USERINFO_URL"} <= read_by_from_env()


def test_the_table_lives_in_one_place() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path == CONFIGURATION:
            continue
        text = path.read_text()
        rows = [line for line in text.splitlines() if SETTING_ROW.match(line)]
        assert not rows, f"{path.name} repeats rows of docs/configuration.md: {rows[:3]}"
    for path in (ROOT / "README.md", ROOT / "docs" / "deployment.md"):
        assert "configuration.md)" in path.read_text(), f"{path.name} does not link to the settings"
