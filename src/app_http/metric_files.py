"""Where the workers of ``chatcore serve`` keep their metrics: a private directory named in
``PROMETHEUS_MULTIPROC_DIR`` (:mod:`app_http.metrics` reads it).

Kept apart from :mod:`app_http.metrics` so that the process that starts the workers can make the
directory without importing the web framework or prometheus_client (which must not be imported
before the variable is set).
"""

from __future__ import annotations

import os
import shutil
import tempfile

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str:
    """A fresh private directory (mode 0700) for the workers' metric files, named in
    ``PROMETHEUS_MULTIPROC_DIR`` for the workers to inherit; :func:`remove_multiprocess_dir` ends it.

    Always a new one, even if the variable was set: files left by another run would add up
    into this one's numbers."""
    directory = tempfile.mkdtemp(prefix="chatcore-metrics-")
    os.environ[MULTIPROCESS_ENV] = directory
    return directory


def remove_multiprocess_dir(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    if os.environ.get(MULTIPROCESS_ENV) == directory:
        del os.environ[MULTIPROCESS_ENV]
