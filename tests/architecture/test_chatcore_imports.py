"""chatcore is pure: every import in it is the standard library or chatcore itself (STYLE.md).

This complements the import-linter contracts: it also sees imports inside functions and under
``if TYPE_CHECKING:``, and it needs no list of forbidden packages.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CHATCORE = Path(__file__).resolve().parents[2] / "src" / "chatcore"


def imported_modules(source: str) -> list[str]:
    """The module names ``source`` imports anywhere: relative imports are reported as ``.``, and
    any ``__import__``/``import_module`` call as ``<dynamic import>`` (it would escape the check)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append("." if node.level else str(node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            found.append("<dynamic import>")
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def is_allowed(module: str) -> bool:
    top = module.partition(".")[0]
    return module == "." or top == "chatcore" or top in sys.stdlib_module_names


def foreign_imports(source: str) -> list[str]:
    return [module for module in imported_modules(source) if not is_allowed(module)]


def test_chatcore_imports_only_the_standard_library_and_itself() -> None:
    files = sorted(CHATCORE.rglob("*.py"))
    assert CHATCORE / "tutoring.py" in files, f"chatcore sources not found under {CHATCORE}"

    offenders = {
        str(path.relative_to(CHATCORE)): found
        for path in files
        if (found := foreign_imports(path.read_text(encoding="utf-8")))
    }

    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "import litestar",
        "import os, msgspec.json",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "def f():\n    import structlog",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from adapters.memory import MemoryStore",
        "class C:\n    def m(self):\n        from app_http import settings",
        "try:\n    import orjson as json\nexcept ImportError:\n    import json",
        "import importlib\nmodule = importlib.import_module('openai')",
        "module = __import__('openai')",
    ],
)
def test_the_check_sees_every_kind_of_foreign_import(source: str) -> None:
    assert foreign_imports(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from __future__ import annotations",
        "import asyncio, collections.abc\nfrom zoneinfo import ZoneInfo",
        "from chatcore.model import Chat",
        "from . import model\nfrom .errors import NotFound",
        "def f():\n    import json",
    ],
)
def test_the_check_accepts_the_standard_library_and_chatcore(source: str) -> None:
    assert foreign_imports(source) == []
