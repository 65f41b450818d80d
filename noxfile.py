"""Every check CI runs. ``uv run nox`` runs them all; ``uv run nox -s tests`` runs one.

Sessions run inside the project's uv environment (``venv_backend="none"``): uv.lock pins the
tools, so nox does not build environments of its own.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typecheck", "architecture", "tests"]
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
