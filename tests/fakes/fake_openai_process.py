"""The fake OpenAI server in a process of its own, for end-to-end tests of the real server.

::

    with FakeOpenAIProcess(mode="ok") as upstream:
        env["OPENAI_BASE_URL"] = upstream.base_url
        ...
        upstream.configure(mode="500")
        assert upstream.requests()[-1]["headers"]["authorization"] == "Bearer sk-test"

Also the command line of ``python -m fakes.fake_openai`` (run with ``tests`` on ``PYTHONPATH``).
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

from fakes.fake_openai import MODES, STRUCTURED_MODES, FakeOpenAI

TESTS_DIR = Path(__file__).resolve().parent.parent
URL_PREFIX = "FAKE_OPENAI_URL="


class FakeOpenAIProcess:
    """Runs ``python -m fakes.fake_openai``; control it over its ``/_control/`` endpoints."""

    def __init__(self, *, port: int = 0, **behaviour: Any) -> None:
        self._args = ["--port", str(port)]
        for name, value in behaviour.items():
            if value is None and name != "retry_after":
                continue  # the default; for retry_after None means "send no header", passed as ""
            self._args += ["--" + name.replace("_", "-"), "" if value is None else str(value)]
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    @property
    def url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def start(self) -> Self:
        path = os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fakes.fake_openai", *self._args],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith(URL_PREFIX):
            self.stop()
            raise RuntimeError(f"the fake OpenAI server did not start (said {line!r})")
        self.base_url = line.removeprefix(URL_PREFIX)
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
        """Change the behaviour (``mode``, ``retry_after``, ``delay``, ...); returns the new one."""
        result: dict[str, Any] = self._call("POST", "/_control/configure", changes)
        return result

    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far: method, path, headers, body, stream, completed, aborted."""
        result: list[dict[str, Any]] = self._call("GET", "/_control/requests")
        return result

    def clear(self) -> None:
        self._call("DELETE", "/_control/requests")

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


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeOpenAI(
        mode=args.mode,
        reply=args.reply,
        retry_after=args.retry_after or None,
        delay=args.delay,
        chunk_delay=args.chunk_delay,
        api_key=args.api_key or None,
        structured=args.structured,
        answer_delay=args.answer_delay,
        assessment_delay=args.assessment_delay,
    )
    await fake.start(args.host, args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"FAKE_OPENAI_URL={fake.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.aclose()


def main(argv: list[str] | None = None) -> None:
    """Command line: serve until SIGTERM/SIGINT, printing the base URL first."""
    parser = argparse.ArgumentParser(
        prog="python -m fakes.fake_openai", description="A fake OpenAI-compatible server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--reply", default=None, help="fixed reply text (default: echo the user)")
    parser.add_argument("--retry-after", default="7", help="Retry-After of mode 429 ('' for none)")
    parser.add_argument("--delay", type=float, default=30.0, help="seconds of the timeout/stall modes")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed pieces")
    parser.add_argument("--api-key", default=None, help="require this bearer key (else 401)")
    parser.add_argument(
        "--structured", choices=STRUCTURED_MODES, default="json", help="feedback/scorecard answers"
    )
    parser.add_argument("--answer-delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--assessment-delay", type=float, default=None, help="seconds before assessments")
    asyncio.run(_serve(parser.parse_args(argv)))
