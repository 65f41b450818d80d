// One message of a chat as a list item: its text (inert), who wrote it, its tools (play a reply
// aloud, the offline-tutor mark, retry a message that got no answer) and, under a reply, the
// tutor's feedback on the learner's message.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { speak, stopSpeaking, synthesisAvailable } from "../voice.js";
import { feedbackBlock } from "./feedback.js";

export const OFFLINE_MODEL = "offline-tutor";

export function messageItem(message, { onRetry } = {}) {
  const text = h("p", { class: "text" });
  text.textContent = message.content; // never markup
  const item = h(
    "li",
    { class: `message ${message.role}`, "data-role": message.role },
    h("span", { class: "who" }, message.role === "user" ? t("chat.you") : t("chat.tutor")),
    text,
    h("div", { class: "tools" }),
    h("div", { class: "feedback-slot" }),
  );
  item.textNode = text;
  setState(item, message, { onRetry });
  return item;
}

/** Updates an item from the stored message: id, status, the tools that go with them. */
export function setState(item, message, { onRetry } = {}) {
  if (message.id) item.dataset.id = String(message.id);
  item.dataset.status = message.status || "ok";
  item.classList.toggle("failed", message.status === "failed");
  if (message.content !== undefined && item.textNode.textContent !== message.content) {
    item.textNode.textContent = message.content;
  }
  const tools = item.querySelector(".tools");
  tools.replaceChildren();
  const slot = item.querySelector(".feedback-slot");
  const feedback = message.role === "assistant" ? feedbackBlock(message.feedback) : null;
  if (feedback) slot.replaceChildren(feedback);
  else slot.replaceChildren();
  if (message.role === "assistant") {
    if (message.status === "failed") tools.append(h("span", { class: "error" }, t("chat.reply_incomplete")));
    if (synthesisAvailable() && item.textNode.textContent) tools.append(playButton(item));
    if (message.model === OFFLINE_MODEL) {
      tools.append(h("span", { class: "badge offline", title: t("chat.offline_hint") }, t("chat.offline")));
    }
  } else if (message.status === "failed") {
    tools.append(h("span", { class: "error" }, t("chat.not_answered")));
    if (onRetry) {
      tools.append(
        h("button", { type: "button", class: "small secondary retry", onclick: () => onRetry(item, message.content) }, t("chat.retry")),
      );
    }
  }
}

function playButton(item) {
  const button = h("button", { type: "button", class: "small secondary play", "aria-pressed": "false" }, t("chat.play"));
  const reset = () => {
    button.textContent = t("chat.play");
    button.setAttribute("aria-pressed", "false");
  };
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-pressed") === "true") {
      stopSpeaking();
      return;
    }
    button.textContent = t("chat.stop_playing");
    button.setAttribute("aria-pressed", "true");
    speak(item.textNode.textContent, reset);
  });
  return button;
}
