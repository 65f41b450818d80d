// Small bar charts of one value per quota day, as inline SVG built with DOM calls (no markup from
// strings). The chart is one image with a summary as its accessible name; the numbers themselves
// are in a table next to it (dataTable), for screen readers and for anyone who wants them.
import { h } from "./dom.js";
import { formatDay, t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 360;
const HEIGHT = 150;
const LEFT = 38;
const TOP = 10;
const BOTTOM = 22;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** "Requests: 42 in 30 days, at most 7 a day (3 Dec)". */
export function summarise(label, points) {
  const total = points.reduce((sum, p) => sum + p.value, 0);
  const peak = points.reduce((best, p) => (p.value > best.value ? p : best), { value: -1, day: null });
  if (!points.length || total === 0) return t("chart.summary_none", { label, days: points.length });
  return t("chart.summary", { label, total, days: points.length, max: peak.value, day: formatDay(peak.day) });
}

/** points: [{day: "2026-12-03", value: 3}], oldest first. */
export function barChart({ id, label, points }) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const plotWidth = WIDTH - LEFT - 2;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const step = plotWidth / Math.max(1, points.length);
  const titleId = `${id}-title`;
  const chart = svg("svg", { id, class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": titleId });
  chart.append(svg("title", { id: titleId }, summarise(label, points)));
  const baseline = TOP + plotHeight;
  chart.append(
    svg("line", { class: "chart-grid", x1: LEFT, x2: WIDTH - 2, y1: TOP, y2: TOP }),
    svg("line", { class: "chart-axis", x1: LEFT, x2: WIDTH - 2, y1: baseline, y2: baseline }),
    svg("text", { class: "chart-label", x: LEFT - 6, y: TOP + 4, "text-anchor": "end" }, String(max)),
    svg("text", { class: "chart-label", x: LEFT - 6, y: baseline + 4, "text-anchor": "end" }, "0"),
  );
  points.forEach((point, index) => {
    const height = (point.value / max) * plotHeight;
    const bar = svg("rect", {
      class: "chart-bar",
      x: LEFT + index * step + step * 0.15,
      y: baseline - height,
      width: step * 0.7,
      height,
      "data-day": point.day,
      "data-value": point.value,
    });
    bar.append(svg("title", {}, `${formatDay(point.day)}: ${point.value}`));
    chart.append(bar);
  });
  const ticks = points.length > 2 ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : points.map((_, i) => i);
  for (const index of ticks) {
    // The first label starts at its bar, the last one ends at its bar: neither is cut off.
    const anchor = index === 0 ? "start" : index === points.length - 1 ? "end" : "middle";
    const x = LEFT + index * step + (anchor === "start" ? 0 : anchor === "end" ? step : step / 2);
    chart.append(svg("text", { class: "chart-label", x, y: HEIGHT - 6, "text-anchor": anchor }, formatDay(points[index].day)));
  }
  return chart;
}

/** The numbers behind one or more charts: a day column and one column per series, in a
 * collapsed <details> so they do not crowd the page. columns: [{label, value: (row) => number}] */
export function dataTable({ caption, rows, columns }) {
  const head = h("tr", {}, h("th", { scope: "col" }, t("chart.day")), columns.map((c) => h("th", { scope: "col", class: "number" }, c.label)));
  const body = rows.map((row) =>
    h("tr", {}, h("th", { scope: "row" }, formatDay(row.day)), columns.map((c) => h("td", { class: "number" }, String(c.value(row))))));
  return h("details", { class: "chart-numbers" },
    h("summary", {}, t("chart.show_numbers")),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption },
      h("table", {}, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, head), h("tbody", {}, body))));
}
