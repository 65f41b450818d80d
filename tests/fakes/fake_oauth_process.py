"""The fake Kakao/GitHub server in a process of its own, for end-to-end tests of the real server.

::

    with FakeOAuthProcess() as provider:
        env.update(provider.settings())
        provider.configure(mode="deny")
        provider.configure(kakao_user={"id": 7, "login": "jiwoo", "email": None})
        assert "client_secret" in provider.requests()[-1]["form"]

Also the command line of ``python -m fakes.fake_oauth`` (run with ``tests`` on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from fakes.fake_oauth import FakeOAuth, settings_for

TESTS_DIR = Path(__file__).resolve().parent.parent
URL_PREFIX = "FAKE_OAUTH_URL="


class FakeOAuthProcess:
    """Runs ``python -m fakes.fake_oauth``; control it over its ``/_control/`` endpoints."""

    def __init__(self, *, port: int = 0) -> None:
        self._port = port
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Self:
        path = os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fakes.fake_oauth", "--port", str(self._port)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith(URL_PREFIX):
            self.stop()
            raise RuntimeError(f"the fake OAuth server did not start (said {line!r})")
        self.url = line.removeprefix(URL_PREFIX)
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

    def settings(self) -> dict[str, str]:
        """The environment variables that point chatcore at this fake, for both providers."""
        return settings_for(self.url)

    def configure(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/_control/configure", changes)
        return result

    def requests(self) -> list[dict[str, Any]]:
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


async def _serve(port: int) -> None:
    fake = await FakeOAuth().start("127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"{URL_PREFIX}{fake.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.aclose()


def main(argv: list[str] | None = None) -> None:
    """Command line: serve until SIGTERM/SIGINT, printing the URL first."""
    parser = argparse.ArgumentParser(
        prog="python -m fakes.fake_oauth", description="A fake Kakao and GitHub."
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    asyncio.run(_serve(parser.parse_args(argv).port))
