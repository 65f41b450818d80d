"""A fake server in a process of its own, driven over its ``/_control/`` endpoints.

Subclasses name the module to run (``python -m <module> ...``) and the line it prints first
(``<URL_PREFIX><its url>``); the rest (start, stop, configure, requests) is the same for every fake.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

TESTS_DIR = Path(__file__).resolve().parent.parent


class FakeProcess:
    """Runs ``python -m <module> <args>`` with ``tests`` on ``PYTHONPATH``."""

    module: ClassVar[str]
    url_prefix: ClassVar[str]
    """What the fake prints before its URL on its first line of output."""

    def __init__(self, args: list[str]) -> None:
        self._args = args
        self._process: subprocess.Popen[str] | None = None
        self.printed_url = ""

    @property
    def url(self) -> str:
        """The fake's root URL (``http://127.0.0.1:<port>``)."""
        return self.printed_url

    def start(self) -> Self:
        path = os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self._args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith(self.url_prefix):
            self.stop()
            raise RuntimeError(f"{self.module} did not start (said {line!r})")
        self.printed_url = line.removeprefix(self.url_prefix)
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the fake's behaviour; returns the new one."""
        result: dict[str, Any] = self._call("POST", "/_control/configure", changes)
        return result

    def requests(self) -> list[dict[str, Any]]:
        """Every request the fake received so far."""
        result: list[dict[str, Any]] = self._call("GET", "/_control/requests")
        return result

    def _call(self, method: str, path: str, payload: object = None) -> Any:
        address = urlsplit(self.url)
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=5)
        try:
            body = None if payload is None else json.dumps(payload)
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = json.loads(response.read())
            if response.status != 200:
                raise RuntimeError(f"fake control {path} failed: {data}")
            return data
        finally:
            connection.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
