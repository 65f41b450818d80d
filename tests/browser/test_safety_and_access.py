"""Inert text, the keyboard alone, axe-core on every view (light and dark), 360 px wide, and the
OAuth return and login buttons."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, expect

from browser.conftest import (
    PASSWORD,
    Tab,
    axe_violations,
    new_chat,
    new_tab,
    new_username,
    screenshot_path,
    send,
    sign_up,
    wait_for_answer,
)
from e2e.server import Server
from fakes.fake_openai_process import FakeOpenAIProcess

pytestmark = pytest.mark.e2e

XSS = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script>'
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"


def test_the_vendored_axe_core_is_the_pinned_release() -> None:
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


async def test_message_and_reply_markup_render_as_text(
    browser: Browser, server: Server, fake: FakeOpenAIProcess
) -> None:
    fake.configure(reply=f"Here is some HTML: {XSS}", chunk_delay=0.0)
    tab = await new_tab(browser, server)
    page = tab.page
    await sign_up(tab, new_username("xss"))
    await new_chat(tab, topic=XSS)
    await send(tab, f"My message {XSS}")
    await wait_for_answer(tab, 1)
    await expect(page.locator("li.message.user .text")).to_have_text(f"My message {XSS}")
    await expect(page.locator("li.message.assistant .text")).to_contain_text(
        '<img src=x onerror="window.__xss = 1">'
    )
    await page.reload()
    await expect(page.locator("li.message.assistant .text")).to_contain_text("<script>")
    await expect(page.locator("#chat-topic")).to_contain_text('onerror="window.__xss = 1"')
    assert await page.locator("main img, main script").count() == 0
    assert await page.evaluate("window.__xss") is None
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_keyboard_only_sign_up_and_send(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    keys = page.keyboard
    await tab.open("#/join")
    await expect(page.locator("h1")).to_be_focused()
    name = new_username("keys")
    for value in (name, f"{name}@example.com", PASSWORD, PASSWORD):
        await keys.press("Tab")
        await keys.type(value)
    await keys.press("Tab")
    await expect(page.get_by_role("button", name="Sign up")).to_be_focused()
    await keys.press("Enter")
    # Signed in, on the chat view: focus starts at the new-chat form.
    await expect(page.locator("#new-chat-heading")).to_be_focused()
    await keys.press("Tab")
    await expect(page.locator("select[name=mode]")).to_be_focused()
    await keys.press("ArrowDown")  # interview
    await keys.press("Tab")  # the level: intermediate, as it is
    await keys.press("Tab")
    await keys.type("data engineer")
    await keys.press("Tab")
    await keys.press("Enter")
    await expect(page.locator("#chat-title")).to_be_focused()
    await expect(page.locator("#chat-title")).to_have_text("Interview: data engineer")
    await keys.press("Tab")
    await expect(page.locator("#chat-level")).to_be_focused()
    await keys.press("Tab")
    await expect(page.locator("#message")).to_be_focused()
    await keys.type("Hello, I am ready.")
    await keys.press("Enter")
    await wait_for_answer(tab, 1)
    await expect(page.locator("li.message.user .text")).to_have_text("Hello, I am ready.")
    # This server has no model configured: its replies are marked as the offline tutor's.
    await expect(page.locator("li.message.assistant .badge.offline")).to_have_text("Offline tutor")
    await expect(page.locator(".chat-head .badge.offline")).to_be_visible()
    tab.assert_no_script_errors()
    await tab.context.close()


async def _check_views(page: Page, tab: Tab, label: str) -> dict[str, list[dict[str, Any]]]:
    """axe on each view: login, sign-up, chat (empty and with messages), my page, OAuth error."""
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(view: str) -> None:
        found[f"{label} {view}"] = await axe_violations(page)

    await tab.open("#/login")
    await expect(page.locator("h1")).to_be_visible()
    await check("login")
    await tab.open("#/join")
    await expect(page.locator("input[name=password2]")).to_be_visible()
    await check("join")
    await tab.open("#/oauth?error=access_denied")
    await expect(page.locator("main .error")).to_be_visible()
    await check("oauth error")
    await sign_up(tab, new_username("axe"))
    await check("chat, empty")
    await new_chat(tab)
    await send(tab, "Hello, I am ready.")
    await wait_for_answer(tab, 1)
    await check("chat")
    await page.locator("#chat-list li button.delete").first.click()
    await expect(page.locator("#dialog")).to_be_visible()
    await check("confirmation dialog")
    await page.keyboard.press("Escape")
    await page.locator("#nav-me").click()
    await expect(page.locator("#key-form")).to_be_visible()
    await check("my page")
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_axe_finds_no_serious_violation_on_any_view(
    browser: Browser, offline_server: Server, scheme: str
) -> None:
    # The engine is injected as a script, which the page's CSP would (rightly) refuse.
    tab = await new_tab(browser, offline_server, bypass_csp=True, color_scheme=scheme)
    found = await _check_views(tab.page, tab, scheme)
    assert len(found) == 7
    assert {view: v for view, v in found.items() if v} == {}
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_360_px_wide(browser: Browser, offline_server: Server, tmp_path: Path) -> None:
    tab = await new_tab(
        browser, offline_server, viewport={"width": 360, "height": 740}, device_scale_factor=2
    )
    page = tab.page
    await sign_up(tab, new_username("narrow"))
    await new_chat(tab, topic="a very long interview role: senior backend developer at a fintech company")
    await send(tab, "Supercalifragilisticexpialidocious-and-an-unbroken-string-" * 3)
    await wait_for_answer(tab, 1)
    shot = screenshot_path("chat-360px.png", tmp_path)
    await page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 0
    for route in ("#/chat", "#/me", "#/login"):
        if route == "#/login":
            await page.locator("#logout").click()
        else:
            await tab.open(route)
        await expect(page.locator("h1")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (route, width)
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_login_buttons_come_from_the_providers_list(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    # The server answers 404 until a provider is configured: no buttons.
    await tab.open("#/login")
    await expect(page.locator("h1")).to_have_text("Log in")
    await expect(page.locator("[data-provider]")).to_have_count(0)

    async def providers(route: Route) -> None:
        body = {
            "providers": [
                {"name": "kakao", "login_url": "/accounts/oauth/kakao/login"},
                {"name": "github", "login_url": "/accounts/oauth/github/login"},
                {"name": "evil", "login_url": "javascript:alert(1)"},
                {"name": "elsewhere", "login_url": "https://phish.example/login"},
            ]
        }
        await route.fulfill(json=body)

    await page.route("**/accounts/oauth/providers/", providers)
    await page.reload()
    buttons = page.locator("[data-provider]")
    await expect(buttons).to_have_count(2)
    await expect(buttons.nth(0)).to_have_text("Continue with Kakao")
    await expect(buttons.nth(0)).to_have_attribute("href", "/accounts/oauth/kakao/login")
    await expect(buttons.nth(1)).to_have_text("Continue with GitHub")
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_oauth_return_exchanges_the_code_for_a_cookie_session(
    browser: Browser, offline_server: Server
) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    exchanged: list[object] = []

    async def exchange(route: Route) -> None:
        exchanged.append(route.request.post_data_json)
        await route.fulfill(status=400, json={"code": "invalid_code", "detail": "The code is not valid."})

    await page.route("**/accounts/oauth/exchange/", exchange)
    await tab.open("#/oauth?code=one-time-code")
    await expect(page.locator("main .error")).to_contain_text("did not work")
    assert exchanged == [{"code": "one-time-code", "cookie": True}]
    await expect(page).to_have_url(re.compile(r"#/oauth$"))  # the code left the address bar
    await tab.open("#/oauth?linked=github")
    await expect(page.locator("main [role=status]")).to_have_text("GitHub is now linked to your account.")
    await tab.open("#/oauth?error=already_linked")
    await expect(page.locator("main .error")).to_have_text("That account is already linked to another user.")
    tab.assert_no_script_errors()
    await tab.context.close()
