"""Every check CI runs. ``uv run nox`` runs them all; ``uv run nox -s tests`` runs one.

Sessions run inside the project's uv environment (``venv_backend="none"``): uv.lock pins the
tools, so nox does not build environments of its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typecheck", "architecture", "tests", "lowest"]
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the sources and the tests."""
    session.run("mypy", "--strict", "src", "tests", "noxfile.py")


@nox.session
def architecture(session: nox.Session) -> None:
    """import-linter: layers, forbidden imports, independent and protected adapters, no cycles."""
    session.run("lint-imports")


@nox.session
def tests(session: nox.Session) -> None:
    """pytest with warnings as errors (configured in pyproject.toml)."""
    session.run("pytest", *session.posargs)


LOWEST = Path(".nox") / "lowest"
LOWEST_TESTS = ("tests/unit", "tests/contract", "tests/sql", "tests/architecture", "tests/llm")


@nox.session
def lowest(session: nox.Session) -> None:
    """The unit, contract, SQL and architecture tests on the LOWEST versions pyproject.toml allows
    (direct dependencies and the dev group), so its lower bounds are true. In its own environment
    (.nox/lowest); uv.lock and the project environment are left as they are."""
    python = LOWEST / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    session.run("uv", "venv", "--quiet", "--clear", "--python", sys.executable, str(LOWEST))
    session.run(
        "uv", "pip", "install", "--quiet", "--python", str(python),
        "--resolution", "lowest-direct", "--editable", ".", "--group", "dev",
    )  # fmt: skip
    session.run("uv", "pip", "list", "--python", str(python))  # the versions, in the CI log
    env = {"VIRTUAL_ENV": str(LOWEST)}
    session.run(str(python), "-m", "pytest", *LOWEST_TESTS, *session.posargs, env=env)
