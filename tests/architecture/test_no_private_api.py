"""``src/`` uses no private member of a third-party library.

A private member (``_name``) may change or vanish in any release: code that reads one breaks
under a version that ``pyproject.toml`` allows (it happened: aiosqlite's ``_execute``, ``_conn``...).
The check, on every module of ``src/``:

- ``x._name`` is allowed only on ``self`` or ``cls``, and only if a class of ours in the MRO
  defines ``_name`` (a method, a class attribute, or ``self._name = ...``);
- a class of ours defines no private name that a third-party base class has (that would
  override or reuse the library's internals);
- ``getattr``/``setattr``/``hasattr``/``delattr`` with a private name count as access too;
- SQLAlchemy compiler internals without an underscore (listed below) are refused by name;
- documented API that starts with an underscore (``Row._asdict``...) is listed as allowed.

It imports the modules, so it sees the real MRO of the installed libraries' versions.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
OURS = ("chatcore", "adapters", "app_http")

INTERNALS_WITHOUT_UNDERSCORE = frozenset(
    {"positiontup", "binds", "bind_names", "post_compile_params", "literal_execute_params"}
)
"""Attributes of SQLAlchemy's compiler that are internal though their names look public."""

PUBLIC_WITH_UNDERSCORE = frozenset({"_asdict", "_fields", "_replace", "_make", "_mapping", "_t", "_tuple"})
"""Documented API that starts with ``_`` only to keep clear of field names: named tuples' and
SQLAlchemy ``Row``'s methods."""


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Finding:
    where: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.what}"


def _defined_in(node: ast.ClassDef) -> set[str]:
    """Names a class body defines, and attributes its methods assign on ``self``/``cls``."""
    names: set[str] = set()
    for statement in node.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            names.add(statement.target.id)
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.ctx, ast.Store)
            and isinstance(inner.value, ast.Name)
            and inner.value.id in {"self", "cls"}
        ):
            names.add(inner.attr)
    return names


def _is_ours(klass: type, ours: tuple[str, ...]) -> bool:
    return klass.__module__.partition(".")[0] in ours


@cache
def _class_node(klass: type) -> ast.ClassDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # a class written in C, or without source
        return None
    node = ast.parse(source).body[0]
    return node if isinstance(node, ast.ClassDef) else None


@cache
def _third_party_privates(klass: type) -> frozenset[str]:
    """Private names of a library class: its attributes and those its code uses on ``self``."""
    names = {name for name in vars(klass) if is_private(name)}
    node = _class_node(klass)
    if node is not None:
        names.update(
            inner.attr
            for inner in ast.walk(node)
            if isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "self"
            and is_private(inner.attr)
        )
    return frozenset(names)


def _mro_names(klass: type | None, node: ast.ClassDef, ours: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(private names our classes in the MRO define, private names third-party bases have)."""
    if klass is None:  # a class nested in a function: only its own body is known
        return _defined_in(node), set()
    own: set[str] = set()
    foreign: set[str] = set()
    for base in klass.__mro__:
        if base is klass:
            own |= _defined_in(node)
        elif _is_ours(base, ours):
            base_node = _class_node(base)
            own |= _defined_in(base_node) if base_node is not None else set()
        elif base.__module__ not in {"builtins", "typing", "abc"}:
            foreign |= _third_party_privates(base)
    return own, foreign


class _Checker(ast.NodeVisitor):
    def __init__(self, module: object, where: str, ours: tuple[str, ...]) -> None:
        self.module = module
        self.where = where
        self.ours = ours
        self.findings: list[Finding] = []
        self.classes: list[tuple[set[str], set[str]]] = []
        self.depth = 0  # functions we are inside of: classes there cannot be looked up

    def flag(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.where, getattr(node, "lineno", 0), what))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        klass = getattr(self.module, node.name, None) if self.depth == 0 and not self.classes else None
        own, foreign = _mro_names(klass if isinstance(klass, type) else None, node, self.ours)
        for name in sorted(_defined_in(node) & foreign):
            self.flag(node, f"{node.name} defines {name}, a private name of a third-party base class")
        self.classes.append((own, foreign))
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        if node.attr in INTERNALS_WITHOUT_UNDERSCORE:
            self.flag(node, f".{node.attr} is a SQLAlchemy compiler internal")
        if not is_private(node.attr) or node.attr in PUBLIC_WITH_UNDERSCORE:
            return
        on_self = isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}
        if not on_self:
            self.flag(node, f".{node.attr} on an object that is not self/cls")
        elif not self.classes or node.attr not in self.classes[-1][0]:
            self.flag(node, f"self.{node.attr} is not defined by a class of ours")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and is_private(node.args[1].value)
        ):
            self.flag(node, f"{node.func.id}(..., {node.args[1].value!r})")


def check_module(name: str, path: Path, ours: tuple[str, ...] = OURS) -> list[Finding]:
    module = importlib.import_module(name)
    checker = _Checker(module, str(path), ours)
    checker.visit(ast.parse(path.read_text(encoding="utf-8")))
    return checker.findings


def src_modules() -> list[tuple[str, Path]]:
    modules = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if "migrations" in parts:  # Alembic scripts, loaded by Alembic rather than imported
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules.append((name, path))
    return modules


def test_src_uses_no_private_member_of_a_library() -> None:
    modules = src_modules()
    assert len(modules) > 40  # the walk found the package, so an empty result means something
    findings = [finding for name, path in modules for finding in check_module(name, path)]
    assert findings == [], "\n".join(map(str, findings))


BAD = """
import aiosqlite


class Conn(aiosqlite.Connection):
    def __init__(self) -> None:
        super().__init__(lambda: None, 64)
        self._thread.daemon = True
        self._mine = 1

    async def run(self) -> object:
        return await self._execute(print) if self._mine else None

    async def _connect(self) -> "Conn":
        return self


def peek(conn: aiosqlite.Connection, compiled: object) -> object:
    return conn._conn, getattr(conn, "_running"), compiled.positiontup


class Fine:
    def __init__(self) -> None:
        self._state = 0

    def bump(self) -> int:
        self._state += 1
        return self._state
"""


def test_the_check_finds_what_it_is_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private_probe.py"
    path.write_text(BAD, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = {(f.line, f.what.split()[0]) for f in check_module("private_probe", path, ("private_probe",))}
    finally:
        sys.modules.pop("private_probe", None)
    assert found == {
        (5, "Conn"),  # defines _connect, aiosqlite's own
        (8, "self._thread"),
        (12, "self._execute"),
        (19, ".positiontup"),
        (19, "._conn"),
        (19, "getattr(...,"),
    }
