"""The Korean UI (no English string left on the chat view), the language switch, and voice with
fake speech engines injected before the page's scripts run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from browser.conftest import (
    REPLY,
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

ALLOWED_LATIN = {"chatcore", "English", "API", "GitHub", "Kakao"}
"""Names that stay as they are in Korean: the product, the language's own name, brands."""

VISIBLE_UI_TEXT = """() => {
  // Every piece of UI text a user can see or hear on the page, minus what the user or the tutor
  // wrote (messages, the chat's title and topic).
  // .data: what the tutor's feedback quotes or explains (English words on purpose).
  const data = "#messages .text, #messages .data, #chat-title, #chat-topic, #chat-list a, option[value=en]";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(data) || el.closest("[hidden], dialog:not([open]), noscript")) continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    if (el.closest("[hidden]")) continue;
    for (const name of ["aria-label", "placeholder", "title"]) {
      const value = el.getAttribute(name);
      if (value && !el.closest(data)) out.push(value);
    }
  }
  out.push(document.title);
  return out;
}"""


async def test_the_korean_chat_view_has_no_english_left(
    browser: Browser, server: Server, fake: FakeOpenAIProcess, tmp_path: Path
) -> None:
    tab = await new_tab(browser, server, locale="ko-KR")
    page = tab.page
    await tab.open()
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.locator("h1")).to_have_text("로그인")
    await sign_up(tab, new_username("hangul"))
    await new_chat(tab, topic="backend developer at a fintech")
    await send(tab, "Hello! I am ready for the interview.")
    await wait_for_answer(tab, 1)
    await expect(page.locator("#quota-badge")).to_have_text(
        re.compile(r"^4/5회 남음 · 00:00에 초기화 \(\d+(시간|분) 후\)$")
    )
    # The chat's title is data (the server names a new chat after its mode and topic); it also
    # appears inside the labels of its rename and delete buttons.
    title = await page.locator("#chat-title").inner_text()
    texts = [text.replace(title, "") for text in await page.evaluate(VISIBLE_UI_TEXT)]
    english = sorted({word for text in texts for word in re.findall(r"[A-Za-z]{2,}", text)} - ALLOWED_LATIN)
    assert english == [], (english, texts)
    await page.locator("#message").blur()
    await page.screenshot(path=screenshot_path("chat-korean.png", tmp_path))

    # The switch keeps the choice across a reload; the page's language follows.
    await page.locator("#language").select_option("en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#send")).to_have_text("Send")
    await page.reload()
    await expect(page.locator("#send")).to_have_text("Send")
    assert await page.evaluate("Object.keys(localStorage)") == ["chatcore.language"]
    tab.assert_no_script_errors()
    await tab.context.close()


FAKE_SPEECH = """
(() => {
  // Speech recognition: interim words first, then the final sentence, then the end.
  class FakeRecognition {
    start() {
      window.__recognition = {lang: this.lang, interim: this.interimResults};
      const result = (text, isFinal) => {
        const r = [{transcript: text}];
        r.isFinal = isFinal;
        return r;
      };
      setTimeout(() => this.onresult({results: [result("I would like", false)]}), 100);
      setTimeout(() => this.onresult({results: [result("I would like to practise", true)]}), 900);
      setTimeout(() => this.onend(), 950);
    }
    stop() { this.onend(); }
  }
  window.webkitSpeechRecognition = FakeRecognition;
  window.SpeechRecognition = FakeRecognition;

  // Speech synthesis: the voices arrive late, with "voiceschanged", as in real browsers.
  const voices = [
    {name: "Korean", lang: "ko-KR", localService: true},
    {name: "English (US)", lang: "en-US", localService: true},
  ];
  let loaded = false;
  const target = new EventTarget();
  window.__spoken = [];
  const synthesis = {
    getVoices() {
      const arrive = () => { loaded = true; target.dispatchEvent(new Event("voiceschanged")); };
      if (!loaded) setTimeout(arrive, 200);
      return loaded ? voices : [];
    },
    speak(u) {
      window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.lang, rate: u.rate});
      u.onend && setTimeout(() => u.onend(), 50);
    },
    cancel() {},
    addEventListener: (...a) => target.addEventListener(...a),
    removeEventListener: (...a) => target.removeEventListener(...a),
  };
  Object.defineProperty(window, "speechSynthesis", {value: synthesis, configurable: true});
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
})();
"""


async def test_voice_fills_the_box_and_reads_replies_in_english(
    browser: Browser, server: Server, fake: FakeOpenAIProcess
) -> None:
    tab = await new_tab(browser, server)
    await tab.context.add_init_script(FAKE_SPEECH)
    page = tab.page
    await sign_up(tab, new_username("voice"))
    await new_chat(tab)
    mic = page.locator("#mic")
    await expect(mic).to_be_visible()
    await mic.click()
    await expect(page.locator("#message")).to_have_value("I would like")  # interim, shown at once
    await expect(page.locator("#message")).to_have_value("I would like to practise")
    assert await page.evaluate("window.__recognition") == {"lang": "en-US", "interim": True}
    await expect(mic).to_have_attribute("aria-pressed", "false")
    await page.locator("#message").press("Enter")
    await wait_for_answer(tab, 1)

    play = page.locator("li.message.assistant button.play")
    await play.click()
    await expect(play).to_have_text("Listen")  # back after the (fake) speech ended
    spoken = await page.evaluate("window.__spoken")
    assert spoken == [{"text": REPLY, "lang": "en-US", "voice": "en-US", "rate": 1}]
    await page.locator("#slow-speech").check()
    await play.click()
    await expect(play).to_have_text("Listen")
    assert (await page.evaluate("window.__spoken"))[-1]["rate"] < 1
    # Nothing audio reached the server: the only message sent was the text.
    # (one call, for the reply and the feedback on the message).
    assert [(r["path"], r["kind"], r["feedback"]) for r in fake.requests()] == [
        ("/v1/chat/completions", "reply", True)
    ]
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_no_microphone_button_without_speech_recognition(browser: Browser, server: Server) -> None:
    tab = await new_tab(browser, server)
    await tab.context.add_init_script(
        "delete window.webkitSpeechRecognition; delete window.SpeechRecognition;"
        "Object.defineProperty(window, 'webkitSpeechRecognition', {value: undefined});"
    )
    await sign_up(tab, new_username("nomic"))
    await new_chat(tab)
    await expect(tab.page.locator("#composer")).to_be_visible()
    await expect(tab.page.locator("#mic")).to_be_hidden()
    tab.assert_no_script_errors()
    await tab.context.close()
