"""Browser tests: Debian's Chromium driven by Playwright (async, on each test's event loop),
against the real ``chatcore serve`` process: one on the fake OpenAI server (its replies stream
piece by piece, slowly enough to watch), one on the built-in offline tutor.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``. Without it the
tests skip, except in CI (``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from e2e.server import Server, base_env, free_port, running_server
from fakes.fake_openai_process import FakeOpenAIProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PASSWORD = "browser pass 1"
REPLY = (
    "Thanks for sharing that. Could you tell me about a project where you designed an API, "
    "and what you would do differently today?"
)
"""The fake upstream's answer: twenty-two streamed pieces."""
CHUNK_DELAY = 0.06
MODEL = "browser-tutor-model"
SCREENSHOTS = os.environ.get("CHATCORE_SCREENSHOTS", "")
"""When set, a directory where the tests leave the README's screenshots."""
_names = itertools.count(1)


@pytest.fixture(scope="session")
def chromium() -> str:
    # Waits long enough for a loaded CI machine (password hashing, two cores, several servers).
    expect.set_options(timeout=15_000)
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium (see .ci/run)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def upstream(chromium: str) -> Iterator[FakeOpenAIProcess]:
    with FakeOpenAIProcess(port=free_port()) as fake:
        yield fake


@pytest.fixture(scope="session")
def server(upstream: FakeOpenAIProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = base_env(
        tmp_path_factory.mktemp("browser") / "data",
        OPENAI_API_KEY="sk-browser-test",
        OPENAI_BASE_URL=upstream.base_url,
        CHATCORE_LLM_MODEL=MODEL,
        CHATCORE_LLM_TIMEOUT="10",
    )
    with running_server(env) as running:
        yield running


@pytest.fixture(scope="session")
def offline_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(base_env(tmp_path_factory.mktemp("browser-offline") / "data")) as running:
        yield running


@pytest.fixture
def fake(upstream: FakeOpenAIProcess) -> FakeOpenAIProcess:
    """The fake upstream, answering ``REPLY`` in pieces ``CHUNK_DELAY`` apart."""
    upstream.configure(mode="ok", reply=REPLY, chunk_delay=CHUNK_DELAY, delay=30.0, api_key=None)
    upstream.clear()
    return upstream


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Tab:
    """A page of the app in a fresh browser context, and what its scripts did wrong."""

    page: Page
    context: BrowserContext
    base_url: str
    errors: list[str]

    async def open(self, route: str = "") -> None:
        await self.page.goto(f"{self.base_url}/{route}")

    def assert_no_script_errors(self) -> None:
        assert self.errors == [], self.errors


async def new_tab(browser: Browser, server: Server, **context: Any) -> Tab:
    options: dict[str, Any] = {"locale": "en-GB", "timezone_id": "Asia/Seoul", **context}
    ctx = await browser.new_context(**options)
    ctx.set_default_timeout(15_000)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return Tab(page=page, context=ctx, base_url=server.url, errors=errors)


def new_username(prefix: str = "learner") -> str:
    return f"{prefix}{next(_names)}_{os.getpid()}"


async def sign_up(tab: Tab, username: str, *, password: str = PASSWORD) -> None:
    """Through the sign-up form; ends signed in on the chat view."""
    page = tab.page
    await tab.open("#/join")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=email]").fill(f"{username}@example.com")
    await page.locator("input[name=password]").fill(password)
    await page.locator("input[name=password2]").fill(password)
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("#new-chat")).to_be_visible()


async def log_in(tab: Tab, username: str, *, password: str = PASSWORD) -> None:
    page = tab.page
    await expect(page.locator("input[name=username]")).to_be_visible()
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("#new-chat")).to_be_visible()


async def new_chat(
    tab: Tab, *, mode: str = "interview", topic: str = "backend developer at a fintech"
) -> None:
    page = tab.page
    await page.locator("select[name=mode]").select_option(mode)
    await page.locator("input[name=topic]").fill(topic)
    await page.locator("#new-chat button[type=submit]").click()
    await expect(page.locator("#composer")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"#/chat/\d+$"))


async def send(tab: Tab, text: str) -> None:
    await tab.page.locator("#message").fill(text)
    await tab.page.locator("#message").press("Enter")


async def wait_for_answer(tab: Tab, count: int) -> None:
    """Until ``count`` replies are stored (they have an id) and nothing is streaming."""
    page = tab.page
    await expect(page.locator("li.message.assistant[data-id]")).to_have_count(count)
    await expect(page.locator("#stop")).to_be_hidden()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the context must be
    made with ``bypass_csp=True`` for the engine to be injected)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"))
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot_path(name: str, fallback: Path) -> Path:
    return Path(SCREENSHOTS) / name if SCREENSHOTS else fallback / name
