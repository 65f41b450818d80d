"""The learning views in Chromium, on the offline tutor (its feedback is deterministic): an
interview from the first question to the scorecard (the feedback line under a reply, opened, the
score bars, finish and score), then the notebook review (the correction is there, a card flipped,
marked reviewed, the CSV downloaded) and the progress view's streak and charts; the Korean view
with no English UI string; axe-core on the chat with feedback, the notebook and progress."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from browser.conftest import (
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
from browser.test_language_and_voice import ALLOWED_LATIN
from e2e.server import Server
from fakes.fake_openai_process import FakeOpenAIProcess

pytestmark = pytest.mark.e2e

READY = "Hello, I am ready for the interview."
ANSWER = "Yesterday I go to school and I am boring."
"""Two mistakes the offline tutor corrects: the past tense and "boring" for "bored"."""


async def interview_with_feedback(tab: Tab, *, level: str | None = None) -> None:
    """A new interview chat: the tutor's first question, then an answer with two mistakes."""
    page = tab.page
    if level:
        await page.locator("#new-chat select[name=level]").select_option(level)
    await new_chat(tab)
    await send(tab, READY)
    await wait_for_answer(tab, 1)
    await send(tab, ANSWER)
    await wait_for_answer(tab, 2)


async def finish_and_score(page: Page) -> None:
    await page.locator("#finish-score").click()
    await expect(page.locator("#dialog")).to_be_visible()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#scorecard")).to_be_visible()


async def test_an_interview_to_its_scorecard_then_the_notebook_and_progress(
    browser: Browser, offline_server: Server, tmp_path: Path
) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    await sign_up(tab, new_username("learn"))
    # The new-chat form offers the level, intermediate unless chosen.
    await expect(page.locator("#new-chat select[name=level]")).to_have_value("intermediate")
    await interview_with_feedback(tab, level="advanced")
    await expect(page.locator("#chat-level")).to_have_value("advanced")
    await expect(page.locator("#new-chat select[name=level]")).to_have_value("intermediate")

    # The greeting had nothing to correct and answered no question: one quiet line, no score.
    first, second = page.locator("li.message.assistant").nth(0), page.locator("li.message.assistant").nth(1)
    await expect(first.locator(".feedback")).to_have_text(re.compile(r"No corrections$"))
    await expect(first.locator("meter")).to_have_count(0)
    # The answer (feedback from the stream's done event): collapsed to one line.
    feedback = second.locator("details.feedback")
    await expect(feedback.locator("summary")).to_have_text(re.compile(r"2 corrections · score \d+$"))
    await expect(feedback.locator(".corrections")).to_be_hidden()
    await feedback.locator("summary").click()
    corrections = feedback.locator("li.correction")
    await expect(corrections).to_have_count(2)
    await expect(corrections.nth(0).locator("del.original")).to_have_text("Yesterday I go")
    await expect(corrections.nth(0).locator("ins.corrected")).to_have_text("Yesterday I went")
    await expect(corrections.nth(0).locator(".explanation").first).to_contain_text("past")
    # The Korean explanation on demand.
    korean = corrections.nth(0).locator(".explanation[lang=ko]")
    await expect(korean).to_be_hidden()
    await corrections.nth(0).locator("button.other-language").click()
    await expect(korean).to_be_visible()
    await expect(korean).to_contain_text("과거")
    better = "Yesterday I went to school and I am bored."
    await expect(feedback.locator(".better-phrasing")).to_have_text(better)
    # The score: a bar per criterion, plus the overall one, with their numbers.
    meters = feedback.locator("meter")
    await expect(meters).to_have_count(5)
    for n in range(5):
        value = await meters.nth(n).get_attribute("value")
        assert value is not None
        assert 0 <= int(value) <= 100
    await expect(meters.nth(1)).to_have_attribute("aria-label", re.compile(r"^Relevance: \d+ of 100$"))

    # The level can be changed in the chat's header.
    await page.locator("#chat-level").select_option("beginner")
    await expect(page.locator("#chat-notice")).to_have_text("The level is now Beginner.")

    # Finish and score: the confirmation says it counts; the badge follows the answer's headers.
    await expect(page.locator("#quota-badge")).to_contain_text("3/5 left")
    await page.locator("#finish-score").click()
    await expect(page.locator("#dialog")).to_contain_text("This uses one of today's requests (3 left).")
    await page.locator("#dialog-ok").click()
    card = page.locator("#scorecard")
    await expect(card.locator("h2")).to_have_text("Interview scorecard")
    await expect(card.locator("h2")).to_be_focused()
    await expect(card.locator(".overall-score strong")).to_have_text(re.compile(r"^\d+$"))
    await expect(card.locator("meter")).to_have_count(5)
    assert await card.locator(".strengths li").count() + await card.locator(".improvements li").count() > 0
    await expect(card.locator(".model-answer dd").nth(1)).not_to_have_text("")
    await expect(page.locator("#quota-badge")).to_contain_text("2/5 left")
    await page.screenshot(path=screenshot_path("scorecard.png", tmp_path), full_page=True)

    # A reload: the feedback comes with the stored messages, the latest scorecard with the chat.
    await page.reload()
    await expect(page.locator("#scorecard h2")).to_have_text("Interview scorecard")
    await expect(page.locator("#chat-level")).to_have_value("beginner")
    await expect(
        page.locator("li.message.assistant").nth(1).locator("details.feedback summary")
    ).to_have_text(re.compile(r"2 corrections · score \d+$"))

    # An interview without an answer yet: nothing to score, nothing counted.
    await new_chat(tab, topic="data engineer")
    await expect(page.locator("#scorecard")).to_have_count(0)
    await page.locator("#finish-score").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("#scorecard-status")).to_contain_text(
        "answer at least one of the interviewer's questions"
    )
    await expect(page.locator("#quota-badge")).to_contain_text("2/5 left")
    # A conversation has no scorecard button.
    await new_chat(tab, mode="conversation", topic="weekend plans")
    await expect(page.locator("#finish-score")).to_have_count(0)

    # The notebook: both corrections, newest first.
    await page.locator("#nav-notebook").click()
    await expect(page.locator("h1")).to_have_text("My notebook")
    await expect(page.locator("#nav-notebook")).to_have_attribute("aria-current", "page")
    entries = page.locator("#notebook-list li.notebook-entry")
    await expect(entries).to_have_count(2)
    originals = await entries.locator("del.original").all_inner_texts()
    assert sorted(originals) == ["I am boring", "Yesterday I go"]

    # Review mode: the front asks, the keyboard flips, the back answers; mark it reviewed.
    await page.locator("#review-start").click()
    flashcard = page.locator("#review-card")
    await expect(flashcard).to_be_focused()
    await expect(page.locator("#review-counter")).to_have_text("Card 1 of 2")
    await expect(flashcard).to_have_attribute("data-side", "front")
    front = await flashcard.locator(".front-text").inner_text()
    assert front == originals[0]
    await expect(flashcard.locator("ins.corrected")).to_have_count(0)
    await page.keyboard.press("Space")
    await expect(flashcard).to_have_attribute("data-side", "back")
    await expect(flashcard.locator("ins.corrected")).to_be_visible()
    await page.locator("#review-mark").click()
    await expect(page.locator("#review-mark")).to_have_text("Mark as not reviewed")
    await flashcard.focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#review-counter")).to_have_text("Card 2 of 2")
    await expect(flashcard).to_have_attribute("data-side", "front")
    await page.locator("#review-flip").click()
    await expect(flashcard).to_have_attribute("data-side", "back")
    await page.screenshot(path=screenshot_path("notebook-review.png", tmp_path), full_page=True)
    await page.locator("#review-end").click()

    # Back in the list: the reviewed one is checked, the filter hides it, a reload keeps it.
    reviewed = entries.filter(has=page.locator("input.reviewed:checked"))
    await expect(reviewed).to_have_count(1)
    await expect(reviewed.locator("del.original")).to_have_text(front)
    await page.locator("#notebook-unreviewed").check()
    await expect(entries).to_have_count(1)
    await page.reload()
    await expect(entries.filter(has=page.locator("input.reviewed:checked"))).to_have_count(1)
    # Unmark it from the list.
    async with page.expect_response(
        lambda r: r.request.method == "PATCH" and "/notebook/" in r.url
    ) as patched:
        await entries.filter(has=page.locator("input.reviewed:checked")).locator("input.reviewed").uncheck()
    assert (await patched.value).status == 200
    await page.reload()
    await expect(entries).to_have_count(2)
    await expect(entries.filter(has=page.locator("input.reviewed:checked"))).to_have_count(0)

    # The CSV for Anki, downloaded with the session's token.
    async with page.expect_download() as download_info:
        await page.locator("#notebook-export").click()
    download = await download_info.value
    assert download.suggested_filename == "chatcore-notebook.csv"
    saved = tmp_path / "notebook.csv"
    await download.save_as(saved)
    csv = saved.read_text(encoding="utf-8")
    assert csv.startswith("#separator:comma\n")
    assert "Yesterday I went" in csv
    await expect(page.locator("#notebook-status")).to_have_text("The CSV file was downloaded.")

    # Progress: one day practised, a streak of one, the answered messages, both charts.
    await page.locator("#nav-progress").click()
    await expect(page.locator("h1")).to_have_text("My progress")
    await expect(page.locator("[data-stat=streak] dd")).to_have_text("1 day")
    await expect(page.locator("#quota-badge")).to_contain_text("2/5 left")  # after the reloads, too
    await expect(page.locator("[data-stat=days] dd")).to_have_text("1")
    await expect(page.locator("[data-stat=messages] dd")).to_have_text("2")
    await expect(page.locator("#chart-corrections rect.bar")).to_have_count(1)
    await expect(page.locator("#chart-corrections rect.bar")).to_have_attribute("data-value", "1.00")
    await expect(page.locator("#chart-scores rect.bar")).to_have_count(1)
    await expect(page.locator("#chart-corrections")).to_have_attribute("role", "img")
    label = await page.locator("#chart-scores > title").text_content()
    assert label is not None
    assert label.startswith("Interview scores, by day: "), label
    await page.screenshot(path=screenshot_path("progress.png", tmp_path), full_page=True)
    tab.assert_no_script_errors()
    await tab.context.close()


DATA = ".data, #messages .text, #chat-title, #chat-topic, #chat-list a, option[value=en], svg text, svg title"
"""What the learner or the tutor wrote (English on purpose), the chart's day numbers aside."""

VISIBLE_UI_TEXT = """(data) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(data) || el.closest("[hidden], dialog:not([open]), noscript")) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  const names = ["aria-label", "placeholder", "title", "aria-roledescription"];
  for (const el of document.querySelectorAll(names.map((name) => `[${name}]`).join(", "))) {
    if (el.closest("[hidden]") || el.closest(data)) continue;
    for (const name of names) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  out.push(document.title);
  return out;
}"""


async def english_words(page: Page) -> list[str]:
    title = (
        await page.locator("#chat-title").inner_text() if await page.locator("#chat-title").count() else ""
    )
    texts = [
        text.replace(title, "") if title else text for text in await page.evaluate(VISIBLE_UI_TEXT, DATA)
    ]
    allowed = ALLOWED_LATIN | {"AI", "Anki", "CSV"}  # AI: the offline-tutor badge says "not an AI model"
    return sorted({word for text in texts for word in re.findall(r"[A-Za-z]{2,}", text)} - allowed)


async def test_the_korean_feedback_notebook_and_progress_have_no_english_left(
    browser: Browser, offline_server: Server
) -> None:
    tab = await new_tab(browser, offline_server, locale="ko-KR")
    page = tab.page
    await sign_up(tab, new_username("hangul"))
    await interview_with_feedback(tab)
    feedback = page.locator("li.message.assistant").nth(1).locator("details.feedback")
    await expect(feedback.locator("summary")).to_have_text(re.compile(r"교정 2개 · 점수 \d+$"))
    await feedback.locator("summary").click()
    # Korean first; the English explanation only on demand.
    await expect(feedback.locator(".explanation[lang=ko]").first).to_be_visible()
    await expect(feedback.locator(".explanation[lang=en]").first).to_be_hidden()
    await finish_and_score(page)
    await expect(page.locator("#scorecard h2")).to_have_text("면접 평가표")
    assert await english_words(page) == []

    await page.locator("#nav-notebook").click()
    await expect(page.locator("h1")).to_have_text("오답 노트")
    await expect(page.locator("#notebook-list li.notebook-entry")).to_have_count(2)
    assert await english_words(page) == []
    await page.locator("#review-start").click()
    await page.locator("#review-flip").click()
    await expect(page.locator("#review-card")).to_have_attribute("data-side", "back")
    assert await english_words(page) == []

    await page.locator("#nav-progress").click()
    await expect(page.locator("[data-stat=streak] dd")).to_have_text("1일")
    await expect(page.locator("#chart-scores rect.bar")).to_have_count(1)
    assert await english_words(page) == []
    tab.assert_no_script_errors()
    await tab.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_axe_finds_no_serious_violation_on_the_learning_views(
    browser: Browser, offline_server: Server, scheme: str
) -> None:
    tab = await new_tab(browser, offline_server, bypass_csp=True, color_scheme=scheme)
    page = tab.page
    found: dict[str, list[dict[str, Any]]] = {}
    await sign_up(tab, new_username("axelearn"))
    await interview_with_feedback(tab)
    await page.locator("li.message.assistant").nth(1).locator("details.feedback summary").click()
    await finish_and_score(page)
    found["chat with feedback and scorecard"] = await axe_violations(page)
    await page.locator("#nav-notebook").click()
    await expect(page.locator("#notebook-list li.notebook-entry")).to_have_count(2)
    found["notebook"] = await axe_violations(page)
    await page.locator("#review-start").click()
    await page.locator("#review-flip").click()
    found["notebook review"] = await axe_violations(page)
    await page.locator("#nav-progress").click()
    await expect(page.locator("#chart-corrections")).to_be_visible()
    found["progress"] = await axe_violations(page)
    assert {view: v for view, v in found.items() if v} == {}
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_the_learning_views_fit_360_px(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server, viewport={"width": 360, "height": 740})
    page = tab.page
    await sign_up(tab, new_username("narrowlearn"))
    await interview_with_feedback(tab)
    await page.locator("li.message.assistant").nth(1).locator("details.feedback summary").click()
    await finish_and_score(page)
    widths = {"chat": await page.evaluate("document.documentElement.scrollWidth")}
    await page.locator("#nav-notebook").click()
    await expect(page.locator("#notebook-list li.notebook-entry")).to_have_count(2)
    widths["notebook"] = await page.evaluate("document.documentElement.scrollWidth")
    await page.locator("#review-start").click()
    await page.locator("#review-flip").click()
    widths["review"] = await page.evaluate("document.documentElement.scrollWidth")
    await page.locator("#nav-progress").click()
    await expect(page.locator("#chart-scores")).to_be_visible()
    widths["progress"] = await page.evaluate("document.documentElement.scrollWidth")
    assert {view: width for view, width in widths.items() if width > 360} == {}
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_a_reply_without_feedback_shows_no_feedback_line(
    browser: Browser, server: Server, fake: FakeOpenAIProcess
) -> None:
    # The fake upstream answers the reply call with plain text, not the JSON asked (reply and
    # feedback): the text is the reply, stored with "feedback": null, and the page shows the
    # reply alone, without an error.
    fake.configure(structured="text")
    tab = await new_tab(browser, server)
    page = tab.page
    try:
        await sign_up(tab, new_username("nofeedback"))
        await new_chat(tab)
        await send(tab, ANSWER)
        await wait_for_answer(tab, 1)
    finally:
        fake.configure(structured="json")
    await expect(page.locator("li.message.assistant .feedback-slot")).to_be_empty()
    await page.reload()
    await expect(page.locator("li.message.assistant[data-id]")).to_have_count(1)
    await expect(page.locator("li.message.assistant .feedback-slot")).to_be_empty()
    await expect(page.locator("#chat-notice")).to_have_text("")
    tab.assert_no_script_errors()
    await tab.context.close()
