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
import signal

from fakes.fake_oauth import FakeOAuth, settings_for
from fakes.process import FakeProcess

URL_PREFIX = "FAKE_OAUTH_URL="


class FakeOAuthProcess(FakeProcess):
    """Runs ``python -m fakes.fake_oauth``; control it over its ``/_control/`` endpoints."""

    module = "fakes.fake_oauth"
    url_prefix = URL_PREFIX

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(["--port", str(port)])

    def settings(self) -> dict[str, str]:
        """The environment variables that point chatcore at this fake, for both providers."""
        return settings_for(self.url)


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
