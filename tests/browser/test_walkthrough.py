"""A learner's day in Chromium: sign up, log in, an interview chat whose replies stream in, the
quota badge counting down, stop mid-stream, retry after an upstream failure, the refused sixth
request saying when the quota resets, a reload that keeps everything, rename, delete, log out."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from browser.conftest import (
    PASSWORD,
    REPLY,
    Tab,
    log_in,
    new_chat,
    new_tab,
    new_username,
    send,
    sign_up,
    wait_for_answer,
)
from e2e.server import Server
from fakes.fake_openai_process import FakeOpenAIProcess

pytestmark = pytest.mark.e2e

IN = r"in \d+\s?(h|hr|hrs|min|m)\.?"
BADGE = re.compile(rf"^(\d)/5 left · resets 00:00 \({IN}\)$")
"""The badge in the learner's zone (the browser's Asia/Seoul, en-GB), whose midnight resets."""


async def badge_remaining(tab: Tab) -> int:
    text = await tab.page.locator("#quota-badge").inner_text()
    found = BADGE.match(text)
    assert found, text
    return int(found[1])


async def expect_remaining(tab: Tab, remaining: int) -> None:
    await expect(tab.page.locator("#quota-badge")).to_have_text(re.compile(rf"^{remaining}/5 left"))
    assert await badge_remaining(tab) == remaining


async def watch_growth(tab: Tab) -> list[int]:
    """The lengths the streaming reply's text had while it streamed, sampled every 20 ms."""
    reply = tab.page.locator("li.message.assistant").last
    await expect(reply).to_have_attribute("aria-busy", "true")
    lengths: list[int] = []
    while await reply.get_attribute("aria-busy") == "true":
        lengths.append(len(await reply.locator(".text").inner_text()))
        await asyncio.sleep(0.02)
    return lengths


async def test_a_learners_day(browser: Browser, server: Server, fake: FakeOpenAIProcess) -> None:
    tab = await new_tab(browser, server)
    page = tab.page
    name = new_username()
    await tab.open()
    await expect(page).to_have_url(re.compile("#/login$"))
    await sign_up(tab, name)
    # Log out and in again with the password.
    await page.locator("#logout").click()
    await log_in(tab, name)

    await new_chat(tab)
    await expect(page.locator("#chat-title")).to_have_text("Interview: backend developer at a fintech")
    await expect(page.locator("#quota-badge")).to_have_text(BADGE)
    assert await badge_remaining(tab) == 5

    # 1. A reply that visibly grows while it streams, announced politely.
    await expect(page.locator("#messages-log")).to_have_attribute("aria-live", "polite")
    await send(tab, "Hello! I am ready for the interview.")
    lengths = await watch_growth(tab)
    growing = sorted({n for n in lengths if 0 < n < len(REPLY)})
    assert len(growing) >= 3, lengths
    await wait_for_answer(tab, 1)
    await expect(page.locator("li.message.assistant .text").last).to_have_text(REPLY)
    await expect_remaining(tab, 4)
    # A real model answered: no offline-tutor mark.
    await expect(page.locator("li.message .badge.offline")).to_have_count(0)
    await expect(page.locator(".chat-head .badge.offline")).to_be_hidden()

    # 2. Stop mid-stream: the part read so far stays, the message offers a retry, the slot is spent.
    fake.configure(chunk_delay=0.4)
    await send(tab, "I have built payment APIs in Go for three years.")
    streaming = page.locator("li.message.assistant").last.locator(".text")
    await expect(streaming).not_to_have_text("")
    await page.locator("#stop").click()
    await expect(page.locator("#chat-notice")).to_contain_text("Stopped")
    await expect(page.locator("li.message.user").last.locator("button.retry")).to_be_visible()
    partial = await streaming.inner_text()
    assert 0 < len(partial) < len(REPLY)

    # Stopping closed the stream, and the server stopped the upstream call in turn.
    # (The message's one call, for the reply and its feedback.)
    def last_reply() -> dict[str, Any]:
        return [r for r in fake.requests() if r["kind"] == "reply"][-1]

    for _ in range(100):
        if last_reply()["aborted"]:
            break
        await asyncio.sleep(0.05)
    assert last_reply()["aborted"] is True
    await expect_remaining(tab, 3)

    # 3. An upstream failure: the message is marked, the slot given back, retry works.
    fake.configure(mode="500", chunk_delay=0.0)
    await send(tab, "My biggest project was a ledger service.")
    await expect(page.locator("#chat-notice")).to_contain_text("did not count")
    failed = page.locator("li.message.user").last
    await expect(failed).to_have_attribute("data-status", "failed")
    await expect_remaining(tab, 3)
    fake.configure(mode="ok", chunk_delay=0.01)
    await failed.locator("button.retry").click()
    await wait_for_answer(tab, 2)
    await expect(failed.locator("button.retry")).to_have_count(0)
    await expect_remaining(tab, 2)

    # 4. Two more, then the sixth request is refused and says when the quota resets.
    for n, text in enumerate(["I led a team of four.", "We cut latency by half."], start=3):
        await send(tab, text)
        await wait_for_answer(tab, n)
    await expect_remaining(tab, 0)
    await send(tab, "One more question, please.")
    notice = page.locator("#chat-notice")
    await expect(notice).to_contain_text("You have used all of today's requests")
    await expect(notice).to_contain_text(re.compile(rf"resets 00:00 \({IN}\)"))
    await expect(page.locator("#message")).to_have_value("One more question, please.")
    await expect(page.locator("#quota-badge")).to_have_class(re.compile(r"\blow\b"))

    # 5. A reload keeps the session and the history (the stopped reply too, as incomplete).
    messages_before = await page.locator("li.message").count()
    await page.reload()
    await expect(page.locator("#composer")).to_be_visible()
    await expect(page.locator("li.message")).to_have_count(messages_before)
    await expect(page.locator("li.message.assistant[data-status=failed]")).to_have_count(1)
    # The message the upstream failed (the stopped one was answered in part, and counted).
    await expect(page.locator("li.message.user[data-status=failed]")).to_have_count(1)
    await expect_remaining(tab, 0)

    # 6. Rename, then delete after the confirmation that says what goes.
    entry = page.locator("#chat-list li").first
    await entry.locator("button.rename").click()
    await page.locator("#dialog-input").fill("Fintech mock interview")
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#chat-title")).to_have_text("Fintech mock interview")
    await expect(page.locator("#chat-list li a").first).to_have_text("Fintech mock interview")
    await page.locator("#chat-list li").first.locator("button.delete").click()
    await expect(page.locator("#dialog")).to_contain_text("messages are deleted with it")
    await page.locator("#dialog-cancel").click()
    await expect(page.locator("#chat-list li[data-chat-id]")).to_have_count(1)
    await page.locator("#chat-list li").first.locator("button.delete").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#chat-list li[data-chat-id]")).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"#/chat$"))

    # 7. Log out: the session is gone, a reload does not bring it back.
    await page.locator("#logout").click()
    await expect(page.locator("input[name=username]")).to_be_visible()
    await page.reload()
    await expect(page.locator("input[name=username]")).to_be_visible()
    await expect(page.locator("#topnav")).to_be_hidden()
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_the_history_comes_a_page_at_a_time(browser: Browser, server: Server) -> None:
    tab = await new_tab(browser, server)
    page = tab.page
    name = new_username("pages")
    await sign_up(tab, name)
    api = tab.context.request
    login = await api.post(f"{server.url}/accounts/token/", data={"username": name, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {(await login.json())['access']}"}
    for n in range(1, 23):
        made = await api.post(f"{server.url}/chatbot/chats/", data={"title": f"Chat {n:02}"}, headers=headers)
        assert made.status == 201
    await page.reload()
    entries = page.locator("#chat-list li[data-chat-id]")
    await expect(entries).to_have_count(20)
    await expect(entries.first).to_contain_text("Chat 22")
    await page.locator("#chat-list + button").click()
    await expect(entries).to_have_count(22)
    await expect(entries.last).to_contain_text("Chat 01")
    await expect(page.locator("#chat-list + button")).to_be_hidden()
    tab.assert_no_script_errors()
    await tab.context.close()
