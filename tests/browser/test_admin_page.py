"""The admin page in Chromium: an administrator finds a user, changes their daily limit and the
user's own page shows it; deactivation ends the user's session; someone else gets no link and a
polite refusal; axe-core on the admin views (light and dark, 360 px wide); Korean without English.

The administrator is made as an operator would: ``chatcore create-admin`` on the running
server's database (the shell promotes an existing account)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Request, Route, expect

from browser.conftest import (
    PASSWORD,
    Tab,
    axe_violations,
    log_in,
    new_chat,
    new_tab,
    new_username,
    screenshot_path,
    send,
    sign_up,
    wait_for_answer,
)
from browser.test_language_and_voice import ALLOWED_LATIN, VISIBLE_UI_TEXT
from e2e.server import Server, base_env, chatcore_binary

pytestmark = pytest.mark.e2e


async def make_admin(server: Server, username: str) -> None:
    await shell(server, "create-admin", username)


async def shell(server: Server, *args: str) -> None:
    """``chatcore ARGS...`` with the server's own settings (its data directory holds the log and
    the SQLite database; see ``e2e.server.running_server``), as an operator on the server would."""
    env = base_env(server.log_path.parent)
    done = await asyncio.to_thread(
        subprocess.run,
        [chatcore_binary(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")


async def admin_tab(browser: Browser, server: Server, **context: object) -> tuple[Tab, str]:
    """A signed-in administrator on the chat view, with the admin link in the header."""
    tab = await new_tab(browser, server, **context)
    name = new_username("admin")
    await sign_up(tab, name)
    await make_admin(server, name)
    await tab.page.reload()  # the page asks for the role when the session starts
    await expect(tab.page.locator("#nav-admin")).to_be_visible()
    return tab, name


async def open_user(page: Page, username: str) -> None:
    """From the admin page: search for ``username`` and open their page."""
    await page.locator("#admin-search").fill(username)
    rows = page.locator("#admin-users tr[data-user-id]")
    await expect(rows).to_have_count(1)
    await expect(rows.first.locator("th")).to_have_text(username)
    await rows.first.locator("th a").click()
    await expect(page.locator("h1")).to_have_text(username)


async def test_an_admin_finds_a_user_and_changes_the_limit_the_user_sees_it(
    browser: Browser, offline_server: Server, tmp_path: Path
) -> None:
    learner = await new_tab(browser, offline_server)
    name = new_username("limited")
    await sign_up(learner, name)
    await new_chat(learner)
    await send(learner, "Hello, I am ready for the interview.")
    await wait_for_answer(learner, 1)
    tab, admin_name = await admin_tab(browser, offline_server)
    page = tab.page

    await page.locator("#nav-admin").click()
    await expect(page.locator("h1")).to_have_text("Administration")
    await expect(page.locator("#nav-admin")).to_have_attribute("aria-current", "page")
    await expect(page.locator("#stats-requests")).to_be_visible()
    await open_user(page, name)
    await expect(page.locator("#fact-email")).to_have_text(f"{name}@example.com")
    await expect(page.locator("#fact-limit")).to_have_text("default")
    await expect(page.locator("#fact-used")).to_have_text("1")
    # Thirty days, today's bar the one request; the chart's name sums it up.
    bars = page.locator("#usage-chart rect.chart-bar")
    await expect(bars).to_have_count(30)
    await expect(bars.last).to_have_attribute("data-value", "1")
    await expect(page.locator("#usage-chart rect.chart-bar[data-value='0']")).to_have_count(29)
    await expect(page.locator("#usage-chart")).to_have_accessible_name(
        re.compile(r"^Requests: 1 in 30 days, at most 1 a day \(\d+ \w+\)\.$")
    )

    # Out of range is refused by the form itself; 12 is taken.
    await page.locator("#limit-input").fill("10001")
    await page.locator("#limit-form button[type=submit]").click()
    await expect(page.locator("#fact-limit")).to_have_text("default")
    await page.locator("#limit-input").fill("12")
    await page.locator("#limit-form button[type=submit]").click()
    await expect(page.locator("main .notice.success")).to_have_text("The daily limit is now 12.")
    await expect(page.locator("#fact-limit")).to_have_text("12")
    await page.screenshot(path=screenshot_path("admin-user.png", tmp_path), full_page=True)

    # The learner's own page and quota badge show the new limit.
    await learner.open("#/me")
    await expect(learner.page.locator("#my-quota")).to_contain_text("11/12 left")
    await expect(learner.page.locator("#quota-badge")).to_contain_text("11/12 left")

    # The audit trail on the admin page says who did it, to whom, before and after.
    await page.locator("#admin-back").click()
    entry = page.locator("#admin-audit tr").first
    await expect(entry).to_contain_text(admin_name)
    await expect(entry.locator(".action")).to_have_text("changed the daily limit")
    await expect(entry).to_contain_text(name)
    await expect(entry.locator(".change")).to_have_text("Daily limit: default → 12")
    await page.screenshot(path=screenshot_path("admin-page.png", tmp_path), full_page=True)

    # Back to the default: the learner is on 5 again.
    await entry.locator("a", has_text=name).click()
    await page.locator("#limit-default").click()
    await expect(page.locator("main .notice.success")).to_have_text("The user is back on the default limit.")
    await expect(page.locator("#fact-limit")).to_have_text("default")
    await learner.page.reload()
    await expect(learner.page.locator("#my-quota")).to_contain_text("4/5 left")
    tab.assert_no_script_errors()
    learner.assert_no_script_errors()
    await tab.context.close()
    await learner.context.close()


async def test_deactivation_ends_the_users_session_and_reactivation_lets_them_back(
    browser: Browser, offline_server: Server
) -> None:
    learner = await new_tab(browser, offline_server)
    name = new_username("abuser")
    await sign_up(learner, name)
    tab, admin_name = await admin_tab(browser, offline_server)
    page = tab.page
    await tab.open("#/admin")
    await open_user(page, name)

    # Cancelling the confirmation changes nothing.
    await page.locator("#toggle-active").click()
    await expect(page.locator("#dialog-title")).to_have_text(f"Deactivate {name}?")
    await page.locator("#dialog-cancel").click()
    await expect(page.locator("#fact-active")).to_have_text("yes")
    await page.locator("#toggle-active").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("main .notice.success")).to_have_text("The user was deactivated.")
    await expect(page.locator("#fact-active")).to_have_text("no")
    await expect(page.locator("#toggle-active")).to_have_text("Reactivate")

    # The learner's access token is refused at its next use, and the session cannot be renewed.
    await learner.open("#/me")
    await expect(learner.page.locator("main [role=alert]")).to_have_text("This account is disabled.")
    await learner.page.reload()
    await expect(learner.page).to_have_url(re.compile(r"#/login$"))
    await learner.page.locator("input[name=username]").fill(name)
    await learner.page.locator("input[name=password]").fill(PASSWORD)
    await learner.page.locator("main form button[type=submit]").click()
    await expect(learner.page.locator("main .notice")).to_have_text("This account is disabled.")

    # Reactivated, they can log in again.
    await page.locator("#toggle-active").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#fact-active")).to_have_text("yes")
    await log_in(learner, name)
    await expect(learner.page.locator("#nav-admin")).to_be_hidden()

    # Made an administrator (after a confirmation), the learner's header links the admin page.
    await page.locator("#toggle-admin").click()
    await expect(page.locator("#dialog-title")).to_have_text(f"Make {name} an administrator?")
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#fact-admin")).to_have_text("yes")
    await learner.page.reload()
    await expect(learner.page.locator("#nav-admin")).to_be_visible()
    await page.locator("#toggle-admin").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#fact-admin")).to_have_text("no")
    await learner.page.locator("#nav-admin").click()
    await expect(learner.page.locator("#admin-only")).to_be_visible()
    await expect(learner.page.locator("#nav-admin")).to_be_hidden()

    # An administrator cannot deactivate themself: the refusal is explained.
    await tab.open("#/admin")
    await open_user(page, admin_name)
    await page.locator("#toggle-active").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("main .notice.error")).to_have_text("You cannot deactivate your own account.")
    await expect(page.locator("#fact-active")).to_have_text("yes")

    # Deleting the learner, after a confirmation that names what they lose.
    await tab.open("#/admin")
    await open_user(page, name)
    await page.locator("#delete-user").click()
    await expect(page.locator("#dialog-title")).to_have_text(f"Delete {name} for good?")
    await expect(page.locator("#dialog-body li").nth(1)).to_have_text("all their chats and messages")
    await page.locator("#dialog-ok").click()
    await expect(page).to_have_url(re.compile(r"#/admin$"))
    entry = page.locator("#admin-audit tr").first
    await expect(entry.locator(".action")).to_have_text("deleted the user")
    await expect(entry).to_contain_text(name)
    await page.locator("#admin-search").fill(name)
    await expect(page.locator("#admin-users tr.empty")).to_have_text("No user matches.")
    await learner.page.reload()
    await expect(learner.page).to_have_url(re.compile(r"#/login$"))
    tab.assert_no_script_errors()
    await tab.context.close()
    await learner.context.close()


async def test_search_waits_for_typing_to_stop_and_more_pages_through_users_and_the_audit(
    browser: Browser, offline_server: Server
) -> None:
    prefix = new_username("paged")
    names = [f"{prefix}_{n}" for n in range(3)]
    outside = await new_tab(browser, offline_server)
    for name in names:
        joined = await outside.context.request.post(
            f"{offline_server.url}/accounts/join/",
            data={
                "username": name,
                "email": f"{name}@example.com",
                "password": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert joined.status == 201, await joined.text()
    await outside.context.close()
    # Made after them, the administrator is the newest user: the first in the list before a search.
    tab, admin_name = await admin_tab(browser, offline_server)
    page = tab.page
    await shell(offline_server, "admin", "limit", names[0], "3")  # the newest audit entry

    # The server pages for real, one item at a time: the page's own limit is rewritten.
    async def one_per_page(route: Route) -> None:
        await route.continue_(url=route.request.url.replace("limit=50", "limit=1"))

    await page.route(re.compile(r"/admin/(users|audit)/\?"), one_per_page)
    searches: list[str] = []

    def seen(request: Request) -> None:
        if "/admin/users/?" in request.url and "q=" in request.url:
            searches.append(request.url)

    page.on("request", seen)
    await tab.open("#/admin")
    rows = page.locator("#admin-users tr[data-user-id] th")
    await expect(rows).to_have_text([admin_name])
    # (On a loaded machine a pause in the typing may send a part of it first: the answer to the
    # whole of it is the one to wait for.)
    async with page.expect_response(lambda response: f"q={prefix}" in response.url):
        await page.locator("#admin-search").press_sequentially(prefix, delay=20)
    await expect(rows).to_have_text([names[2]])  # newest first
    assert 1 <= len(searches) < len(prefix), searches
    shown = page.locator("#admin-users-shown")
    await expect(shown).to_have_text("Users shown: 1. Show more for the next ones.")
    await page.locator("#admin-users-more").click()
    await expect(rows).to_have_text([names[2], names[1]])
    await page.locator("#admin-users-more").click()
    await expect(rows).to_have_text([names[2], names[1], names[0]])
    await expect(page.locator("#admin-users-more")).to_be_hidden()
    await expect(shown).to_have_text("Users shown: 3.")

    # The audit trail, one entry at a time: the limit set from the shell, then the promotion.
    audit = page.locator("#admin-audit tr[data-audit-id]")
    await expect(audit).to_have_count(1)
    await expect(audit.first.locator(".action")).to_have_text("changed the daily limit")
    await expect(audit.first).to_contain_text("the server's command line")
    await page.locator("#admin-audit-more").click()
    await expect(audit).to_have_count(2)
    await expect(audit.nth(1).locator(".action")).to_have_text("changed the role")
    await expect(audit.nth(1)).to_contain_text(admin_name)
    first, second = [int(await row.get_attribute("data-audit-id") or 0) for row in await audit.all()]
    assert second < first
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_a_non_admin_sees_no_admin_link_and_a_polite_message(
    browser: Browser, offline_server: Server
) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    await sign_up(tab, new_username("curious"))
    await expect(page.locator("#nav-me")).to_be_visible()
    await expect(page.locator("#nav-admin")).to_be_hidden()
    for route in ("#/admin", "#/admin/users/1"):
        await tab.open(route)
        await expect(page.locator("h1")).to_have_text("Administration")
        await expect(page.locator("#admin-only")).to_have_text(
            "This page is for administrators only. If you need something changed, ask an "
            "administrator of this site."
        )
        await expect(page.locator("#admin-users, #admin-user-facts")).to_have_count(0)
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_axe_finds_no_serious_violation_on_the_admin_views_and_they_fit_360_px(
    browser: Browser, offline_server: Server
) -> None:
    learner = await new_tab(browser, offline_server)
    name = new_username("axed")
    await sign_up(learner, name)
    await learner.context.close()
    # The engine is injected as a script, which the page's CSP would (rightly) refuse.
    tab, _ = await admin_tab(browser, offline_server, bypass_csp=True)
    page = tab.page
    found = {}
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        await tab.open("#/admin")
        await expect(page.locator("#admin-audit")).to_be_attached()
        await page.locator("#admin-stats details summary").click()
        found[f"{scheme} admin"] = await axe_violations(page)
        await open_user(page, name)
        await page.locator("#limit-input").fill("7")
        await page.locator("#limit-form button[type=submit]").click()
        await expect(page.locator("main .notice.success")).to_be_visible()
        found[f"{scheme} user"] = await axe_violations(page)
        await page.locator("#delete-user").click()
        await expect(page.locator("#dialog")).to_be_visible()
        await expect(page.locator("#dialog-body li")).to_have_count(6)
        found[f"{scheme} delete confirmation"] = await axe_violations(page)
        await page.keyboard.press("Escape")
    await tab.open("#/admin")
    await expect(page.locator("#admin-audit tr").first).to_contain_text(name)
    assert {view: v for view, v in found.items() if v} == {}

    await page.set_viewport_size({"width": 360, "height": 740})
    await expect(page.locator("#admin-audit tr").first).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await open_user(page, name)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_the_korean_admin_views_have_no_english_left(browser: Browser, offline_server: Server) -> None:
    learner = await new_tab(browser, offline_server)
    name = new_username("hangul")
    await sign_up(learner, name)
    await learner.context.close()
    tab, admin_name = await admin_tab(browser, offline_server, locale="ko-KR")
    page = tab.page
    await expect(page.locator("#nav-admin")).to_have_text("관리")
    await page.locator("#nav-admin").click()
    await expect(page.locator("h1")).to_have_text("관리")
    await open_user(page, name)
    await page.locator("#limit-input").fill("9")
    await page.locator("#limit-form button[type=submit]").click()
    await expect(page.locator("main .notice.success")).to_have_text("일일 한도가 이제 9회입니다.")
    await page.locator("#toggle-admin").click()
    await expect(page.locator("#dialog")).to_be_visible()

    async def english_on_page() -> list[str]:
        # Usernames and e-mail addresses are data (class "data"), as is the language's own name.
        texts = await page.evaluate(VISIBLE_UI_TEXT.replace('option[value=en]"', 'option[value=en], .data"'))
        texts = [text.replace(name, "").replace(admin_name, "") for text in texts]
        return sorted({w for text in texts for w in re.findall(r"[A-Za-z]{2,}", text)} - ALLOWED_LATIN)

    assert await english_on_page() == []
    await page.keyboard.press("Escape")
    await page.locator("#admin-back").click()
    await expect(page.locator("#admin-audit tr").first).to_contain_text("일일 한도 변경")
    await page.locator("#admin-stats details summary").click()
    assert await english_on_page() == []
    tab.assert_no_script_errors()
    await tab.context.close()
