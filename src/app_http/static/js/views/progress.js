// Progress (#/progress): the last 30 quota days: days practised, the current streak, messages, and
// two small bar charts (corrections per message, interview scores) drawn as inline SVG with DOM
// APIs (no markup strings, no inline styles), each with an accessible name that lists its values.
import { api } from "../api.js";
import { h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { currentLanguage, t } from "../i18n.js";
import { fromQuota } from "../quota.js";

const SVG = "http://www.w3.org/2000/svg";
const DAYS = 30;
const WIDTH = 300;
const HEIGHT = 120;
const PAD = { left: 28, right: 4, top: 8, bottom: 20 };

export async function render(root) {
  const status = statusLine();
  const body = h("div", { id: "progress-body" });
  root.append(h("div", { class: "page progress" },
    h("h1", {}, t("progress.title")), h("p", { class: "muted" }, t("progress.intro")), status, body));
  api.get("/chatbot/quota/").then(fromQuota).catch(() => {}); // the header's badge after a reload here
  try {
    const progress = await api.get("/chatbot/progress/");
    body.replaceChildren(...content(progress));
  } catch (error) {
    showMessage(status, describeError(error));
  }
}

function content(progress) {
  const streak = progress.current_streak === 1 ? t("progress.streak_one") : t("progress.streak_days", { n: progress.current_streak });
  const stats = h("dl", { class: "stats", id: "progress-stats" },
    stat("days", t("progress.days_practised"), String(progress.days_practised)),
    stat("streak", t("progress.streak"), streak),
    stat("messages", t("progress.messages"), String(progress.messages)));
  const corrections = progress.corrections_per_message.map((p) => ({ day: p.day, value: p.value }));
  const scores = progress.interview_scores.map((p) => ({ day: p.day, value: p.overall }));
  return [
    stats,
    chartSection("corrections", t("progress.corrections_chart"), corrections, { max: Math.max(1, ...corrections.map((p) => p.value)), digits: 2, empty: t("progress.no_data_corrections") }),
    chartSection("scores", t("progress.scores_chart"), scores, { max: 100, digits: 0, empty: t("progress.no_data_scores") }),
  ];
}

function stat(name, label, value) {
  return h("div", { class: "stat", "data-stat": name }, h("dt", {}, label), h("dd", {}, value));
}

/** "2026-12-02" as a UTC date (days are the server's quota days: no time zone to apply). */
function dayOf(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

function dayLabel(text) {
  return new Intl.DateTimeFormat(currentLanguage(), { month: "short", day: "numeric", timeZone: "UTC" }).format(dayOf(text));
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function chartSection(name, title, points, { max, digits, empty }) {
  const headingId = `chart-${name}-title`;
  const section = h("section", { class: "card chart-card", "aria-labelledby": headingId },
    h("h2", { id: headingId }, title));
  if (!points.length) {
    section.append(h("p", { class: "muted" }, empty));
    return section;
  }
  section.append(chart(name, title, points, { max, digits }));
  return section;
}

/** Bars for the last 30 days ending at the latest of today and the last day with data. */
function chart(name, title, points, { max, digits }) {
  const today = new Date();
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  const last = Math.max(todayUtc, ...points.map((p) => dayOf(p.day).getTime()));
  const first = last - (DAYS - 1) * 86_400_000;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / DAYS;
  const format = (value) => value.toFixed(digits);
  const values = points.map((p) => `${dayLabel(p.day)} ${format(p.value)}`).join(", ");
  const label = t("progress.chart_label", { title, values });
  const titleId = `chart-${name}-desc`;
  const root = svg("svg", {
    class: "chart", id: `chart-${name}`, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": titleId,
    preserveAspectRatio: "xMidYMid meet",
  });
  root.append(svg("title", { id: titleId }, label));
  const baseline = PAD.top + plotH;
  root.append(svg("line", { class: "axis", x1: PAD.left, y1: baseline, x2: WIDTH - PAD.right, y2: baseline }));
  root.append(svg("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: baseline }));
  root.append(svg("text", { class: "tick", x: PAD.left - 4, y: PAD.top + 4, "text-anchor": "end" }, format(max)));
  root.append(svg("text", { class: "tick", x: PAD.left - 4, y: baseline, "text-anchor": "end" }, "0"));
  const startText = new Date(first).toISOString().slice(0, 10);
  const endText = new Date(last).toISOString().slice(0, 10);
  root.append(svg("text", { class: "tick", x: PAD.left, y: HEIGHT - 4, "text-anchor": "start" }, dayLabel(startText)));
  root.append(svg("text", { class: "tick", x: WIDTH - PAD.right, y: HEIGHT - 4, "text-anchor": "end" }, dayLabel(endText)));
  for (const point of points) {
    const index = Math.round((dayOf(point.day).getTime() - first) / 86_400_000);
    if (index < 0 || index >= DAYS) continue;
    const height = Math.max(1, (Math.min(point.value, max) / max) * plotH);
    const bar = svg("rect", {
      class: "bar", x: (PAD.left + index * slot + slot * 0.15).toFixed(2), y: (baseline - height).toFixed(2),
      width: (slot * 0.7).toFixed(2), height: height.toFixed(2), "data-day": point.day, "data-value": format(point.value),
    });
    bar.append(svg("title", {}, `${dayLabel(point.day)}: ${format(point.value)}`));
    root.append(bar);
  }
  return root;
}
