// The tutor's feedback under a reply: one line ("2 corrections · score 72") that opens into the
// corrections (original → corrected, why, in the UI's language; the other language on demand),
// a more natural phrasing, and in interviews the score as a bar per criterion (<meter>: no
// inline styles under the CSP). Text from the tutor is data: textContent only, marked lang="en"
// where it is English.
import { h } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";

export const CRITERIA = ["relevance", "structure", "clarity", "grammar"];

/** "2 corrections · score 72" */
export function summaryText(feedback) {
  const n = feedback.corrections.length;
  let text = n === 0 ? t("feedback.summary_none") : n === 1 ? t("feedback.summary_one") : t("feedback.summary_many", { n });
  if (feedback.score) text += ` · ${t("feedback.summary_score", { score: feedback.score.overall })}`;
  return text;
}

/** A labelled bar for a 0-100 score. */
export function scoreMeter(name, value) {
  return h("meter", {
    min: "0", max: "100", low: "50", high: "75", optimum: "100", value: String(value),
    "aria-label": t("feedback.meter", { name, value }),
  });
}

/** The criteria of a score (or a scorecard) as rows: name, bar, number. */
export function criteriaList(criteria, { overall = null, overallLabel = t("feedback.overall") } = {}) {
  const rows = [];
  const row = (name, value, extra = "") =>
    h("li", { class: `criterion ${extra}`.trim() },
      h("span", { class: "criterion-name" }, name), scoreMeter(name, value), h("span", { class: "criterion-value" }, String(value)));
  if (overall !== null) rows.push(row(overallLabel, overall, "overall"));
  for (const key of CRITERIA) rows.push(row(t(`feedback.criteria.${key}`), criteria[key]));
  return h("ul", { class: "criteria" }, rows);
}

/** The explanation in the UI's language, and a button that shows the other one. */
function explanation(correction) {
  const korean = currentLanguage() === "ko";
  const [mine, other] = korean
    ? [[correction.explanation_ko, "ko"], [correction.explanation, "en"]]
    : [[correction.explanation, "en"], [correction.explanation_ko, "ko"]];
  const main = h("p", { class: "data explanation", lang: mine[1] }, mine[0]);
  if (!other[0] || other[0] === mine[0]) return [main];
  const second = h("p", { class: "data explanation other", lang: other[1], hidden: true }, other[0]);
  const toggle = h("button", { type: "button", class: "link-button small other-language", "aria-expanded": "false" }, t("feedback.show_other"));
  toggle.addEventListener("click", () => {
    second.hidden = !second.hidden;
    toggle.setAttribute("aria-expanded", String(!second.hidden));
    toggle.textContent = second.hidden ? t("feedback.show_other") : t("feedback.hide_other");
  });
  return [main, toggle, second];
}

/** One correction: what the learner wrote → the better words, then why. */
export function correctionItem(correction, { tag = "li", className = "correction" } = {}) {
  return h(tag, { class: className },
    h("p", { class: "change" },
      h("span", { class: "visually-hidden" }, `${t("feedback.original")}: `),
      h("del", { class: "data original", lang: "en" }, correction.original),
      h("span", { "aria-hidden": "true", class: "arrow" }, " → "),
      h("span", { class: "visually-hidden" }, ` ${t("feedback.corrected")}: `),
      h("ins", { class: "data corrected", lang: "en" }, correction.corrected)),
    explanation(correction));
}

/** The collapsed feedback block of an assistant message, or null when there is none. */
export function feedbackBlock(feedback) {
  if (!feedback || !Array.isArray(feedback.corrections)) return null;
  const parts = [];
  if (feedback.corrections.length) {
    parts.push(h("h3", { class: "feedback-heading" }, t("feedback.corrections")),
      h("ul", { class: "corrections" }, feedback.corrections.map((c) => correctionItem(c))));
  }
  if (feedback.better_phrasing) {
    parts.push(h("h3", { class: "feedback-heading" }, t("feedback.better_phrasing")),
      h("p", { class: "data better-phrasing", lang: "en" }, feedback.better_phrasing));
  }
  if (feedback.score) {
    parts.push(h("h3", { class: "feedback-heading" }, t("feedback.score")),
      criteriaList(feedback.score.criteria, { overall: feedback.score.overall }));
  }
  const line = [h("span", { class: "visually-hidden" }, `${t("feedback.label")}: `), summaryText(feedback)];
  if (!parts.length) return h("p", { class: "feedback empty" }, line);
  return h("details", { class: "feedback" }, h("summary", {}, line), h("div", { class: "feedback-body" }, parts));
}
