"""prometheus_client decides once, when first imported, whether values go to the worker files of
``PROMETHEUS_MULTIPROC_DIR``. ``chatcore serve`` sets that variable just before it starts the
workers (which fork from it), so nothing it imports before may import prometheus_client."""

from __future__ import annotations

import subprocess
import sys

ENTRY_POINTS = ("app_http.cli", "app_http.asgi", "app_http.app", "app_http.bootstrap", "app_http.metrics")


def test_importing_the_entry_points_does_not_import_prometheus_client() -> None:
    code = f"import sys, {', '.join(ENTRY_POINTS)}; print('prometheus_client' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False", result.stderr


def test_the_serving_supervisor_imports_no_application_library() -> None:
    """``chatcore serve`` forks its workers from a process that imported only the command line:
    whatever it imports, every worker carries too (about 70 MB for these)."""
    heavy = ("sqlalchemy", "alembic", "litestar", "openai", "asyncpg", "aiosqlite", "chatcore.tutoring")
    code = f"import sys, app_http.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
