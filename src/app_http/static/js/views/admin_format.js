// How the admin views write a user's facts and an audit entry's change, in the UI's language.
// Usernames and e-mail addresses are data: they go in as text, marked with the class "data".
import { h } from "../dom.js";
import { formatDateTime, t } from "../i18n.js";
import { providerLabel } from "./login.js";

export function yesNo(value) {
  return value ? t("admin.yes") : t("admin.no");
}

export function limitText(limit) {
  return limit === null || limit === undefined ? t("admin.default_limit") : String(limit);
}

export function providersText(providers) {
  return providers && providers.length ? providers.map(providerLabel).join(", ") : t("admin.none");
}

export function lastActiveText(at) {
  return at ? formatDateTime(at) : t("admin.never");
}

export function data(text, tag = "span", attrs = {}) {
  return h(tag, { ...attrs, class: attrs.class ? `data ${attrs.class}` : "data" }, text);
}

/** A user's name as a link to their page in the admin view (plain text once they are deleted). */
export function userLink(person) {
  if (!person) return "—";
  if (person.id === null || person.id === undefined) return data(person.username);
  return data(person.username, "a", { href: `#/admin/users/${person.id}` });
}

const ACTIONS = {
  set_limit: "admin.action_set_limit",
  deactivate: "admin.action_deactivate",
  reactivate: "admin.action_reactivate",
  set_role: "admin.action_set_role",
  delete: "admin.action_delete",
};

const FIELDS = {
  daily_limit: "admin.col_limit",
  is_active: "admin.col_active",
  is_admin: "admin.col_admin",
};

export function actionText(action) {
  return ACTIONS[action] ? t(ACTIONS[action]) : action;
}

function valueText(field, value) {
  if (value === undefined) return "—";
  if (field === "daily_limit") return limitText(value);
  if (typeof value === "boolean") return yesNo(value);
  return value === null ? "—" : String(value);
}

/** "Daily limit: default → 20", one line per field the entry changed. */
export function changeLines(before, after) {
  const fields = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  return fields.map((field) => {
    const label = FIELDS[field] ? t(FIELDS[field]) : field;
    const from = before ? valueText(field, before[field]) : "—";
    const to = after ? valueText(field, after[field]) : t("admin.removed");
    return `${label}: ${from} → ${to}`;
  });
}

/** The actor of an audit entry; the server's shell has no account. */
export function actorNode(admin) {
  if (admin.id === null && admin.username === "(command line)") return t("admin.command_line");
  return userLink(admin);
}
