// The chat view: the history sidebar, the open chat's messages (with the tutor's feedback), the
// composer whose replies stream in as they arrive (fetch + ReadableStream + the SSE parser), with a
// stop button; the chat's level; in interviews, "finish and score" and the scorecard.
import { ApiError, api, errorOf, networkError, send } from "../api.js";
import { focusHeading, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { t } from "../i18n.js";
import { fromQuota } from "../quota.js";
import { readEvents } from "../sse.js";
import { listen, recognitionAvailable, setSlowSpeech, slowSpeech, stopSpeaking } from "../voice.js";
import { levelSelect, sidebar } from "./chat_list.js";
import { OFFLINE_MODEL, messageItem, setState } from "./messages.js";
import { scorecardPanel } from "./scorecard.js";

let view = null; // the mounted view's parts and state

export async function render(root, params) {
  const side = sidebar({
    onDeleted: (id) => {
      if (view.chatId === id) location.hash = "#/chat";
    },
    onRenamed: (chat) => {
      if (view.chatId === chat.id) view.title.textContent = chat.title;
    },
  });
  const title = h("h1", { id: "chat-title" }, t("chat.title"));
  const modeBadge = h("span", { class: "badge", hidden: true });
  const offlineBadge = h("span", { class: "badge offline", hidden: true, title: t("chat.offline_hint") }, t("chat.offline"));
  const topic = h("p", { class: "muted", id: "chat-topic", hidden: true });
  const level = levelSelect({ id: "chat-level", class: "small-select" });
  const levelField = h("span", { class: "level-field", hidden: true },
    h("label", { class: "inline", for: "chat-level" }, t("chat.level")), level);
  level.addEventListener("change", changeLevel);
  const scoring = h("div", { id: "scorecard-area" });
  const older = h("button", { type: "button", class: "secondary small", hidden: true }, t("chat.load_older"));
  const messages = h("ol", { class: "messages", id: "messages" });
  // The conversation is a log: what is added (a streaming reply, too) is announced politely.
  const log = h("div", { id: "messages-log", role: "log", "aria-live": "polite", "aria-label": t("chat.messages") }, messages);
  const notice = statusLine();
  notice.id = "chat-notice";
  const composer = buildComposer();
  const conversation = h("section", { class: "conversation", "aria-labelledby": "chat-title" },
    h("div", { class: "chat-head" }, title, modeBadge, offlineBadge, levelField), topic, older, log, notice, composer.form, scoring);
  root.append(h("div", { class: "chat-layout" }, side.node, conversation));
  view = { side, title, modeBadge, offlineBadge, levelField, level, scoring, topic, older, messages, notice, composer, chatId: null, olderCursor: null, controller: null };
  older.addEventListener("click", loadOlder);
  await Promise.all([side.load(), api.get("/chatbot/quota/").then(fromQuota).catch(() => {})]);
  await open(params.id);
  return cleanup;
}

export async function update(params) {
  await open(params.id);
  focusHeading(view.title.closest(".chat-layout"));
}

function cleanup() {
  if (view && view.controller) view.controller.abort();
  stopSpeaking();
  view = null;
}

async function open(id) {
  if (view.controller) view.controller.abort();
  view.chatId = id;
  view.side.select(id);
  // With no chat open, keyboard users start at the new-chat form; otherwise at the chat's title.
  view.side.newChatHeading.toggleAttribute("data-focus-first", id === null);
  view.messages.replaceChildren();
  showMessage(view.notice, "", "notice");
  view.offlineBadge.hidden = true;
  view.levelField.hidden = true;
  view.scoring.replaceChildren();
  if (id === null) {
    view.title.textContent = t("chat.title");
    view.modeBadge.hidden = true;
    view.topic.hidden = true;
    view.older.hidden = true;
    view.composer.form.hidden = true;
    view.messages.append(h("li", { class: "muted" }, t("chat.pick")));
    return;
  }
  try {
    const chat = await api.get(`/chatbot/chats/${id}/`);
    if (view === null || view.chatId !== id) return;
    view.title.textContent = chat.title;
    view.modeBadge.hidden = false;
    view.modeBadge.textContent = t(`chat.mode_${chat.mode}`);
    view.topic.hidden = !chat.topic;
    view.topic.textContent = chat.topic ? t("chat.topic_is", { topic: chat.topic }) : "";
    view.level.value = chat.level || "intermediate";
    view.levelValue = view.level.value;
    view.levelField.hidden = false;
    if (chat.mode === "interview") {
      const current = view;
      const panel = scorecardPanel(id, { isCurrent: () => view === current && current.chatId === id });
      view.scoring.replaceChildren(panel.node);
      panel.load();
    }
    view.messages.append(...chat.messages.map(item));
    markOffline(chat.messages);
    setOlder(chat.older_cursor);
    view.composer.form.hidden = false;
    view.messages.lastElementChild?.scrollIntoView({ block: "end" });
  } catch (error) {
    view.title.textContent = t("chat.title");
    view.composer.form.hidden = true;
    showMessage(view.notice, describeError(error));
  }
}

async function changeLevel() {
  const current = view;
  const chatId = current.chatId;
  const wanted = current.level.value;
  try {
    const chat = await api.patch(`/chatbot/chats/${chatId}/`, { level: wanted });
    if (view !== current || current.chatId !== chatId) return;
    current.level.value = chat.level;
    current.levelValue = chat.level;
    showMessage(current.notice, t("chat.level_changed", { level: t(`chat.level_${chat.level}`) }), "success");
  } catch (error) {
    if (view !== current) return;
    current.level.value = current.levelValue; // unchanged on the server
    showMessage(current.notice, describeError(error));
  }
}

function item(message) {
  return messageItem(message, { onRetry: retry });
}

function markOffline(messages) {
  if (messages.some((m) => m.role === "assistant" && m.model === OFFLINE_MODEL)) view.offlineBadge.hidden = false;
}

function setOlder(cursor) {
  view.olderCursor = cursor;
  view.older.hidden = !cursor;
}

async function loadOlder() {
  try {
    const chat = await api.get(`/chatbot/chats/${view.chatId}/?before=${encodeURIComponent(view.olderCursor)}`);
    view.messages.prepend(...chat.messages.map(item));
    setOlder(chat.older_cursor);
  } catch (error) {
    showMessage(view.notice, describeError(error));
  }
}

function buildComposer() {
  const box = h("textarea", { id: "message", name: "content", maxlength: 4000, required: true, rows: 3 });
  const sendButton = h("button", { type: "submit", id: "send" }, t("chat.send"));
  const stopButton = h("button", { type: "button", id: "stop", class: "danger", hidden: true }, t("chat.stop"));
  const mic = h("button", { type: "button", id: "mic", class: "secondary", hidden: !recognitionAvailable(), "aria-pressed": "false" }, t("chat.mic"));
  const slow = h("input", { type: "checkbox", id: "slow-speech", checked: slowSpeech() });
  const form = h("form", { class: "composer", id: "composer", hidden: true },
    h("label", { for: "message" }, t("chat.your_message")),
    box,
    h("div", { class: "actions" }, sendButton, stopButton, mic,
      h("label", { class: "inline", for: "slow-speech" }, slow, t("chat.slow_speech"))));
  slow.addEventListener("change", () => setSlowSpeech(slow.checked));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const content = box.value.trim();
    if (!content || view.controller) return;
    box.value = "";
    ask(content);
  });
  box.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a new line; never while an input method (Korean) is composing.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener("click", () => view.controller && view.controller.abort());
  let stopListening = null;
  mic.addEventListener("click", () => {
    if (stopListening) {
      stopListening();
      return;
    }
    const before = box.value ? `${box.value.trimEnd()} ` : "";
    mic.setAttribute("aria-pressed", "true");
    mic.textContent = t("chat.mic_stop");
    const done = () => {
      stopListening = null;
      mic.setAttribute("aria-pressed", "false");
      mic.textContent = t("chat.mic");
      box.focus();
    };
    try {
      stopListening = listen({ onText: (text) => { box.value = before + text; }, onEnd: done, onError: done });
    } catch {
      done();
    }
  });
  return { form, box, sendButton, stopButton };
}

function busy(on) {
  const { sendButton, stopButton, box } = view.composer;
  sendButton.disabled = on;
  stopButton.hidden = !on;
  box.setAttribute("aria-busy", on ? "true" : "false");
  // No scoring while a reply is still being written: the scorecard reads the stored answers.
  const finish = view.scoring.querySelector("#finish-score");
  if (finish) finish.disabled = on;
}

function retry(failedItem, content) {
  failedItem.querySelector(".retry")?.remove();
  ask(content);
}

/** Sends `content` and shows the reply as it streams in. */
async function ask(content) {
  const current = view;
  const chatId = current.chatId;
  const mine = item({ role: "user", content, status: "ok" });
  const reply = item({ role: "assistant", content: "", status: "ok" });
  reply.setAttribute("aria-busy", "true");
  current.messages.append(mine, reply);
  reply.scrollIntoView({ block: "end" });
  showMessage(current.notice, "", "notice");
  const controller = new AbortController();
  current.controller = controller;
  busy(true);
  let text = "";
  let finished = false;
  let answered = false;
  const fail = (error) => {
    setState(mine, { role: "user", content, status: "failed" }, { onRetry: retry });
    if (text) setState(reply, { role: "assistant", content: text, status: "failed" });
    else reply.remove();
    if (current.chatId === chatId) showMessage(current.notice, describeError(error));
  };
  try {
    const response = await send("POST", `/chatbot/chats/${chatId}/messages/`, {
      json: { content },
      headers: { Accept: "text/event-stream", "Idempotency-Key": crypto.randomUUID() },
      signal: controller.signal,
    });
    if (!response.ok) {
      const error = await errorOf(response);
      if (error.status === 429 || error.status === 422 || error.status === 404) {
        // Refused before it was stored: nothing to retry, the text goes back in the box.
        mine.remove();
        reply.remove();
        if (!current.composer.box.value) current.composer.box.value = content;
        showMessage(current.notice, describeError(error));
      } else {
        fail(error);
      }
      return;
    }
    for await (const event of readEvents(response)) {
      const data = JSON.parse(event.data);
      if (event.event === "delta") {
        text += data.text;
        reply.textNode.textContent = text;
      } else if (event.event === "done") {
        finished = true;
        answered = true;
        setState(mine, data.message, { onRetry: retry });
        setState(reply, data.reply);
        if (data.reply.model === OFFLINE_MODEL) current.offlineBadge.hidden = false;
        fromQuota(data.quota);
      } else if (event.event === "error") {
        finished = true;
        fail(new ApiError(response.status, data.code, data.detail));
      }
    }
    if (!finished) fail(networkError());
  } catch (error) {
    if (error && error.name === "AbortError") {
      setState(mine, { role: "user", content, status: "failed" }, { onRetry: retry });
      if (text) setState(reply, { role: "assistant", content: text, status: "failed" });
      else reply.remove();
      if (current.chatId === chatId) showMessage(current.notice, t("chat.stopped"), "notice");
    } else {
      fail(error && error.code ? error : networkError());
    }
  } finally {
    // A failed or stopped request may have been given back: ask for the quota as it is now.
    if (!answered) api.get("/chatbot/quota/").then(fromQuota).catch(() => {});
    reply.removeAttribute("aria-busy");
    if (current.controller === controller) current.controller = null;
    if (view === current) {
      busy(false);
      current.side.select(chatId, { updated_at: new Date().toISOString() });
    }
  }
}
