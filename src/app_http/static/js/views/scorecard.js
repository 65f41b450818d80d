// The interview scorecard of a chat: "finish and score" (it counts against the day's quota, and
// the confirmation says so), the latest scorecard when the chat is opened, and its view: the
// overall score and a bar per criterion, strengths, improvements, a model answer.
import { api } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDateTime, t } from "../i18n.js";
import { quotaState } from "../quota.js";
import { criteriaList } from "./feedback.js";

function textList(items, className) {
  return h("ul", { class: className }, items.map((text) => h("li", { class: "data", lang: "en" }, text)));
}

/** The scorecard as a section (its heading is the section's name). */
export function scorecardView(card) {
  return h("section", { class: "card scorecard", id: "scorecard", "aria-labelledby": "scorecard-title" },
    h("h2", { id: "scorecard-title", tabindex: "-1" }, t("scorecard.title")),
    h("p", { class: "muted" }, t("scorecard.created", { when: formatDateTime(card.created_at) })),
    h("p", { class: "overall-score" }, `${t("scorecard.overall")}: `, h("strong", {}, String(card.overall))),
    criteriaList(card.criteria, { overall: card.overall, overallLabel: t("scorecard.overall") }),
    h("h3", {}, t("scorecard.strengths")), textList(card.strengths, "strengths"),
    h("h3", {}, t("scorecard.improvements")), textList(card.improvements, "improvements"),
    h("h3", {}, t("scorecard.model_answer")),
    h("dl", { class: "model-answer" },
      h("dt", {}, t("scorecard.question")), h("dd", { class: "data", lang: "en" }, card.model_answer.question),
      h("dt", {}, t("scorecard.answer")), h("dd", { class: "data", lang: "en" }, card.model_answer.answer)));
}

/**
 * The scorecard part of an interview chat: the button, its status line and the latest card.
 * `isCurrent()` says whether the chat is still the open one when an answer arrives.
 */
export function scorecardPanel(chatId, { isCurrent }) {
  const button = h("button", { type: "button", class: "secondary", id: "finish-score" }, t("chat.finish"));
  const status = statusLine();
  status.id = "scorecard-status";
  const slot = h("div", { class: "scorecard-slot" });
  const node = h("div", { class: "scorecard-panel" }, h("div", { class: "actions" }, button), status, slot);

  function show(card) {
    slot.replaceChildren(scorecardView(card));
  }

  button.addEventListener("click", async () => {
    const quota = quotaState();
    const ok = await confirmDialog({
      title: t("chat.finish_title"),
      text: t("chat.finish_text"),
      lines: [quota ? t("chat.finish_counts", { remaining: quota.remaining }) : t("chat.finish_counts_unknown")],
      okLabel: t("chat.finish"),
      danger: false,
    });
    if (!ok) return;
    button.disabled = true;
    showMessage(status, t("chat.scoring"), "notice");
    try {
      const card = await api.post(`/chatbot/chats/${chatId}/scorecard/`);
      if (!isCurrent()) return;
      showMessage(status, "", "notice");
      show(card);
      slot.querySelector("h2").focus();
    } catch (error) {
      if (isCurrent()) showMessage(status, describeError(error), error.code === "nothing_to_score" ? "notice" : "error");
    } finally {
      button.disabled = false;
    }
  });

  /** The latest scorecard, if the chat has one (404 scorecard_not_found: nothing to show). */
  async function load() {
    try {
      const card = await api.get(`/chatbot/chats/${chatId}/scorecard/`);
      if (isCurrent()) show(card);
    } catch (error) {
      if (error.code !== "scorecard_not_found" && isCurrent()) showMessage(status, describeError(error));
    }
  }

  return { node, load };
}
