// One user on the admin page: their facts, their usage of the last 30 quota days as a chart, and
// what an administrator can change: the daily limit, active or not, the role, deleting them.
import { call } from "../api.js";
import { barChart, dataTable } from "../chart.js";
import { confirmDialog } from "../dialog.js";
import { field, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDate, t } from "../i18n.js";
import { loadRole } from "../role.js";
import { data, lastActiveText, limitText, providersText, yesNo } from "./admin_format.js";

const MAX_LIMIT = 10000;

function facts(user) {
  const item = (label, value, id) => [h("dt", {}, label), h("dd", { id }, value)];
  return h("dl", { id: "admin-user-facts" },
    item(t("admin.col_email"), user.email ? data(user.email) : t("admin.none"), "fact-email"),
    item(t("admin.col_joined"), formatDate(user.date_joined), "fact-joined"),
    item(t("admin.col_admin"), yesNo(user.is_admin), "fact-admin"),
    item(t("admin.col_active"), yesNo(user.is_active), "fact-active"),
    item(t("admin.col_limit"), limitText(user.daily_limit), "fact-limit"),
    item(t("admin.col_used"), String(user.used_today), "fact-used"),
    item(t("admin.col_last_active"), lastActiveText(user.last_active_at), "fact-last-active"),
    item(t("admin.col_providers"), providersText(user.providers), "fact-providers"));
}

function usageCard(user) {
  const label = t("admin.usage_requests");
  return h("section", { class: "card", "aria-labelledby": "admin-usage-heading" },
    h("h2", { id: "admin-usage-heading" }, t("admin.usage", { days: user.usage.length })),
    barChart({ id: "usage-chart", label, points: user.usage.map((u) => ({ day: u.day, value: u.requests })) }),
    dataTable({
      caption: t("admin.usage", { days: user.usage.length }),
      rows: user.usage,
      columns: [{ label, value: (u) => u.requests }, { label: t("admin.usage_failed"), value: (u) => u.failed }],
    }));
}

export async function renderUser(root, user) {
  const status = statusLine();
  const base = `/admin/users/${user.id}`;
  let current = user;
  let factsNode = facts(user);

  const limit = h("input", { type: "number", name: "daily_limit", id: "limit-input", min: 0, max: MAX_LIMIT, step: 1, required: true, inputmode: "numeric" });
  const toDefault = h("button", { type: "button", class: "secondary", id: "limit-default" }, t("admin.limit_default"));
  const limitForm = h("form", { id: "limit-form" },
    field(t("admin.limit_label"), limit, t("admin.limit_hint")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("admin.limit_save")), toDefault));
  const activeButton = h("button", { type: "button", id: "toggle-active" });
  const roleButton = h("button", { type: "button", id: "toggle-admin" });
  const deleteButton = h("button", { type: "button", class: "danger", id: "delete-user" }, t("admin.delete"));

  function show(next) {
    current = { ...current, ...next };
    const replacement = facts(current);
    factsNode.replaceWith(replacement);
    factsNode = replacement;
    limit.value = current.daily_limit === null ? "" : String(current.daily_limit);
    activeButton.textContent = current.is_active ? t("admin.deactivate") : t("admin.reactivate");
    activeButton.className = current.is_active ? "danger" : "";
    roleButton.textContent = current.is_admin ? t("admin.remove_admin") : t("admin.make_admin");
    roleButton.className = "secondary";
  }

  async function change(method, path, json, done) {
    try {
      show(await call(method, `${base}${path}`, { json }));
      showMessage(status, done(current), "success");
    } catch (error) {
      showMessage(status, describeError(error));
    }
  }

  limitForm.addEventListener("submit", (event) => {
    event.preventDefault();
    change("PUT", "/limit", { daily_limit: Number(limit.value) }, (u) => t("admin.limit_set", { limit: u.daily_limit }));
  });
  toDefault.addEventListener("click", () => change("PUT", "/limit", { daily_limit: null }, () => t("admin.limit_reset")));

  activeButton.addEventListener("click", async () => {
    const name = current.username;
    const deactivating = current.is_active;
    const ok = await confirmDialog(deactivating
      ? { title: t("admin.deactivate_title", { username: name }), text: t("admin.deactivate_text"), okLabel: t("admin.deactivate") }
      : { title: t("admin.reactivate_title", { username: name }), text: t("admin.reactivate_text"), okLabel: t("admin.reactivate"), danger: false });
    if (!ok) return;
    await change("POST", deactivating ? "/deactivate" : "/reactivate", undefined,
      () => (deactivating ? t("admin.deactivated") : t("admin.reactivated")));
  });

  roleButton.addEventListener("click", async () => {
    const name = current.username;
    const promoting = !current.is_admin;
    const ok = await confirmDialog(promoting
      ? { title: t("admin.make_admin_title", { username: name }), text: t("admin.make_admin_text"), okLabel: t("admin.make_admin") }
      : { title: t("admin.remove_admin_title", { username: name }), text: t("admin.remove_admin_text"), okLabel: t("admin.remove_admin") });
    if (!ok) return;
    await change("PUT", "/role", { is_admin: promoting }, () => (promoting ? t("admin.made_admin") : t("admin.removed_admin")));
    loadRole(); // this may have been the administrator's own role: the header's link follows
  });

  deleteButton.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: t("admin.delete_title", { username: current.username }),
      text: t("admin.delete_text", { username: current.username }),
      lines: [t("admin.loses_profile"), t("admin.loses_chats"), t("admin.loses_keys"), t("admin.loses_linked"),
        t("admin.loses_sessions"), t("admin.delete_keeps")],
      okLabel: t("admin.delete"),
    });
    if (!ok) return;
    try {
      await call("DELETE", `${base}/`);
      location.hash = "#/admin";
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });

  show(user);
  root.append(
    h("p", {}, h("a", { href: "#/admin", id: "admin-back" }, t("admin.back"))),
    h("h1", {}, data(user.username)),
    factsNode,
    status,
    usageCard(user),
    h("section", { class: "card", "aria-labelledby": "admin-limit-heading" },
      h("h2", { id: "admin-limit-heading" }, t("admin.limit")), limitForm),
    h("section", { class: "card", "aria-labelledby": "admin-access-heading" },
      h("h2", { id: "admin-access-heading" }, t("admin.access")),
      h("p", { class: "muted" }, t("admin.access_hint")),
      h("div", { class: "actions" }, activeButton, roleButton)),
    h("section", { class: "card", "aria-labelledby": "admin-delete-heading" },
      h("h2", { id: "admin-delete-heading" }, t("admin.delete_heading")),
      h("p", {}, t("admin.delete_intro")),
      h("div", { class: "actions" }, deleteButton)));
}
