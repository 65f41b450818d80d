"""Several worker processes, one view (SPEC §4.4): each writes its numbers to files in
``PROMETHEUS_MULTIPROC_DIR``; any worker's ``/metrics`` adds them all up, and the streams a dead
worker had open are not counted. Real processes (the test's own process keeps its values in
memory, as every in-process app does)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from api.prometheus_text import parse, value
from app_http.metric_files import MULTIPROCESS_ENV, multiprocess_dir, remove_multiprocess_dir
from app_http.metrics import Metrics

WORKER = """
import os
from app_http.metrics import Metrics
metrics = Metrics()
metrics.request_done(route="/chatbot/quota", method="GET", status=200, seconds=0.02)
metrics.request_done(route=None, method="GET", status=404, seconds=0.001)
metrics.refused("quota_exceeded", route="/chatbot/chats/{chat_id}/messages")
metrics.tutor_called("llm_timeout", 30.0)
metrics.streams_open.inc()  # and dies without closing it
os._exit(0)
"""
SCRAPER = """
from app_http.metrics import Metrics
metrics = Metrics()
metrics.streams_open.inc()  # a stream open in the worker that answers
print(metrics.render()[0].decode())
"""


def run(code: str, directory: Path) -> str:
    env = {**os.environ, MULTIPROCESS_ENV: str(directory)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_workers_numbers_add_up_and_a_dead_workers_streams_are_not_open(tmp_path: Path) -> None:
    for _ in range(3):
        run(WORKER, tmp_path)
    samples = parse(run(SCRAPER, tmp_path))
    assert (
        value(samples, "chatcore_http_requests_total", route="/chatbot/quota", method="GET", status="200")
        == 3
    )
    assert (
        value(samples, "chatcore_http_requests_total", route="<unmatched>", method="GET", status="404") == 3
    )
    assert (
        value(samples, "chatcore_http_request_duration_seconds_count", route="/chatbot/quota", method="GET")
        == 3
    )
    assert value(samples, "chatcore_quota_refusals_total") == 3
    assert value(samples, "chatcore_tutor_calls_total", outcome="llm_timeout") == 3
    assert value(samples, "chatcore_tutor_calls_total", outcome="ok") == 0
    assert (
        value(samples, "chatcore_tutor_call_duration_seconds_bucket", outcome="llm_timeout", le="30.0") == 3
    )
    assert value(samples, "chatcore_http_streams_open") == 1  # only the living worker's
    assert len(list(tmp_path.glob("gauge_livesum_*.db"))) == 1  # the scraper's, until the next scrape


def test_metrics_refuse_to_start_on_a_storage_chosen_without_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This process imported prometheus_client with no PROMETHEUS_MULTIPROC_DIR: its values stay in
    # memory. Setting the variable now would silently give a per-process view; it is refused.
    monkeypatch.setenv(MULTIPROCESS_ENV, str(tmp_path))
    with pytest.raises(RuntimeError, match=MULTIPROCESS_ENV):
        Metrics()


def test_serve_makes_a_fresh_private_directory_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROCESS_ENV, "/somewhere/else")
    first = multiprocess_dir()
    try:
        assert os.environ[MULTIPROCESS_ENV] == first
        assert stat.S_IMODE(Path(first).stat().st_mode) == 0o700
        assert not list(Path(first).iterdir())
        second = multiprocess_dir()
        assert second != first
        remove_multiprocess_dir(second)
        assert not Path(second).exists()
    finally:
        remove_multiprocess_dir(first)
    assert not Path(first).exists()
    assert MULTIPROCESS_ENV not in os.environ
