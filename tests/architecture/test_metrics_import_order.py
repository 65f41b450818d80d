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
