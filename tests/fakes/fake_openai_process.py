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
import signal
from typing import Any

from fakes.fake_openai import MODES, STRUCTURED_MODES, FakeOpenAI
from fakes.process import FakeProcess

URL_PREFIX = "FAKE_OPENAI_URL="


class FakeOpenAIProcess(FakeProcess):
    """Runs ``python -m fakes.fake_openai``; control it over its ``/_control/`` endpoints.

    ``configure`` changes the behaviour (``mode``, ``retry_after``, ``delay``, ...); ``requests``
    lists what it received: method, path, headers, body, stream, kind, completed, aborted."""

    module = "fakes.fake_openai"
    url_prefix = URL_PREFIX

    def __init__(self, *, port: int = 0, **behaviour: Any) -> None:
        args = ["--port", str(port)]
        for name, value in behaviour.items():
            if value is None and name != "retry_after":
                continue  # the default; for retry_after None means "send no header", passed as ""
            args += ["--" + name.replace("_", "-"), "" if value is None else str(value)]
        super().__init__(args)

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (``.../v1``), as the fake printed it."""
        return self.printed_url

    @property
    def url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def clear(self) -> None:
        self._call("DELETE", "/_control/requests")


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
