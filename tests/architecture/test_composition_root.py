"""The composition root is the one place that knows the adapters, and it says what it accepts."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from app_http.bootstrap import build_container
from app_http.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WIRING = {"app_http.bootstrap", "app_http.cli", "app_http.asgi", "app_http.__init__"}
"""The modules allowed to reach adapters: the composition root and the two entry points."""


def test_every_other_app_http_module_is_kept_free_of_adapters_by_a_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    guarded = next(
        set(c["source_modules"])
        for c in contracts
        if c["type"] == "forbidden" and c["forbidden_modules"] == ["adapters"]
    )
    modules = {f"app_http.{p.stem}" for p in (ROOT / "src" / "app_http").glob("*.py")} - WIRING
    assert guarded == modules, "a new app_http module must be added to the contract's source_modules"


def test_a_misspelled_part_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    parts: dict[str, Any] = {"lmm": object()}
    with pytest.raises(TypeError, match="lmm"):
        build_container(Settings(data_dir=tmp_path), **parts)
