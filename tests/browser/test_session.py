"""The session in the browser: renewed silently before the access token expires and once after a
401, shared by several tabs without tripping the refresh token's reuse detection; and the page's
SSE parser on events split anywhere across network chunks."""

from __future__ import annotations

import asyncio
import json

import pytest
from playwright.async_api import Browser, Request, Route, expect

from browser.conftest import new_tab, new_username, sign_up
from e2e.server import Server

pytestmark = pytest.mark.e2e

REFRESH = "/accounts/token/refresh/"


async def test_the_access_token_is_renewed_before_it_expires(
    browser: Browser, offline_server: Server
) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    await page.clock.install()
    renewals: list[Request] = []
    page.on("request", lambda request: renewals.append(request) if request.url.endswith(REFRESH) else None)
    await sign_up(tab, new_username("renew"))
    renewals.clear()  # the page's first load asked once (no session yet)
    await page.clock.run_for("13:59")  # the token lives 15 minutes: renewed a minute before
    for _ in range(100):
        if renewals:
            break
        await asyncio.sleep(0.05)
    assert len(renewals) == 1
    response = await renewals[0].response()
    assert response is not None
    assert response.status == 200
    assert renewals[0].post_data_json == {"cookie": True}
    await page.locator("#nav-me").click()
    await expect(page.locator("#profile-username")).to_be_visible()
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_a_401_renews_the_session_once_and_retries(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    name = new_username("retry")
    await sign_up(tab, name)
    renewals: list[str] = []
    page.on(
        "request", lambda request: renewals.append(request.url) if request.url.endswith(REFRESH) else None
    )
    refused: list[str] = []

    async def expire_once(route: Route) -> None:
        if not refused:
            refused.append(route.request.headers.get("authorization", ""))
            await route.fulfill(status=401, json={"code": "invalid_token", "detail": "expired"})
        else:
            await route.continue_()

    await page.route("**/accounts/mypage/", expire_once)
    await page.locator("#nav-me").click()
    await expect(page.locator("#profile-username")).to_have_text(name)
    assert len(refused) == 1
    assert refused[0].startswith("Bearer ")
    assert len(renewals) == 1
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_tabs_of_one_browser_share_the_session(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server)
    await sign_up(tab, new_username("tabs"))
    others = [await tab.context.new_page() for _ in range(3)]
    # All at once: each renews with the refresh cookie, one after another (a Web Lock), so none
    # presents a token another has just used (which would end the session everywhere).
    await asyncio.gather(*(page.goto(f"{offline_server.url}/#/chat") for page in others))
    for page in others:
        await expect(page.locator("#new-chat")).to_be_visible()
    await tab.page.reload()
    await expect(tab.page.locator("#new-chat")).to_be_visible()
    tab.assert_no_script_errors()
    await tab.context.close()


SSE_CHECK = """async (stream) => {
  const { SseParser } = await import("/static/js/sse.js");
  const results = [];
  for (let cut = 0; cut <= stream.length; cut += 1) {
    for (let cut2 = cut; cut2 <= stream.length; cut2 += 7) {
      const parser = new SseParser();
      const events = [
        ...parser.push(stream.slice(0, cut)),
        ...parser.push(stream.slice(cut, cut2)),
        ...parser.push(stream.slice(cut2)),
      ];
      results.push(JSON.stringify(events));
    }
  }
  return [...new Set(results)];
}"""


async def test_the_sse_parser_reassembles_events_split_anywhere(
    browser: Browser, offline_server: Server
) -> None:
    tab = await new_tab(browser, offline_server)
    await tab.open("#/login")
    await expect(tab.page.locator("h1")).to_be_visible()
    stream = (
        ": keep-alive\r\n\r\n"
        'event: delta\r\ndata: {"text": "Hel"}\r\n\r\n'
        'event: delta\ndata: {"text": "lo, 안녕"}\n\n'
        'event: delta\rdata: {"text": "\\n"}\r\r'
        'event: done\ndata: {"a": 1,\ndata:  "b": 2}\n\n'
        "event: delta\ndata: unfinished"
    )
    outcomes = await tab.page.evaluate(SSE_CHECK, stream)
    assert len(outcomes) == 1, outcomes  # the same events wherever the chunks were cut
    events = json.loads(outcomes[0])
    assert events == [
        {"event": "delta", "data": '{"text": "Hel"}'},
        {"event": "delta", "data": '{"text": "lo, 안녕"}'},
        {"event": "delta", "data": '{"text": "\\n"}'},
        {"event": "done", "data": '{"a": 1,\n "b": 2}'},
    ]
    tab.assert_no_script_errors()
    await tab.context.close()
