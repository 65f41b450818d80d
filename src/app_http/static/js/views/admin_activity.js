// The admin page's usage statistics (the last 30 quota days as charts) and the audit trail
// (who did what to whom, newest first, "more" for older entries).
import { api } from "../api.js";
import { barChart, dataTable } from "../chart.js";
import { h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDateTime, t } from "../i18n.js";
import { actionText, actorNode, changeLines, userLink } from "./admin_format.js";

const STATS_DAYS = 30;

function failed(day) {
  return Object.values(day.failed_by_code || {}).reduce((sum, n) => sum + n, 0);
}

export async function statsSection() {
  const status = statusLine();
  const section = h("section", { class: "card", "aria-labelledby": "admin-stats-heading", id: "admin-stats" },
    h("h2", { id: "admin-stats-heading" }, t("admin.stats")),
    h("p", { class: "muted" }, t("admin.stats_intro", { days: STATS_DAYS })));
  let days;
  try {
    ({ days } = await api.get(`/admin/stats/?days=${STATS_DAYS}`));
  } catch (error) {
    showMessage(status, describeError(error));
    section.append(status);
    return section;
  }
  const series = [
    { key: "requests", label: t("admin.stat_requests"), value: (d) => d.requests },
    { key: "refused", label: t("admin.stat_refused"), value: (d) => d.refused },
    { key: "failed", label: t("admin.stat_failed"), value: failed },
    { key: "active", label: t("admin.stat_active_users"), value: (d) => d.active_users },
    { key: "new", label: t("admin.stat_new_users"), value: (d) => d.new_users },
  ];
  const charts = series.map((s) =>
    h("figure", { class: "chart-figure" },
      h("figcaption", {}, h("h3", {}, s.label)),
      barChart({ id: `stats-${s.key}`, label: s.label, points: days.map((d) => ({ day: d.day, value: s.value(d) })) })));
  section.append(h("div", { class: "charts" }, charts), dataTable({ caption: t("admin.stats"), rows: days, columns: series }));
  return section;
}

function auditRow(entry) {
  const change = changeLines(entry.before, entry.after);
  return h("tr", { "data-audit-id": String(entry.id) },
    h("td", {}, formatDateTime(entry.at)),
    h("td", {}, actorNode(entry.admin)),
    h("td", { class: "action" }, actionText(entry.action)),
    h("td", {}, userLink(entry.target_user)),
    h("td", { class: "change" }, change.length ? change.map((line) => h("span", { class: "change-line" }, line)) : "—"));
}

export async function auditSection() {
  const body = h("tbody", { id: "admin-audit" });
  const more = h("button", { type: "button", class: "secondary small", id: "admin-audit-more", hidden: true }, t("admin.more"));
  const status = statusLine();
  let cursor = null;

  async function load() {
    const params = new URLSearchParams({ limit: "50" });
    if (cursor) params.set("cursor", cursor);
    try {
      const page = await api.get(`/admin/audit/?${params}`);
      body.append(...page.items.map(auditRow));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!body.children.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: 5, class: "muted" }, t("admin.no_audit"))));
    } catch (error) {
      showMessage(status, describeError(error));
    }
  }

  more.addEventListener("click", load);
  await load();
  const columns = [t("admin.audit_when"), t("admin.audit_who"), t("admin.audit_what"), t("admin.audit_target"), t("admin.audit_change")];
  return h("section", { class: "card", "aria-labelledby": "admin-audit-heading", id: "admin-audit-section" },
    h("h2", { id: "admin-audit-heading" }, t("admin.audit")),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "admin-audit-heading" },
      h("table", {},
        h("caption", { class: "visually-hidden" }, t("admin.audit")),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
        body)),
    h("div", { class: "actions" }, more),
    status);
}
