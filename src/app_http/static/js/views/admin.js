// The admin page (administrators only; the server answers 403 admin_only to anyone else):
// #/admin has the user search, the statistics and the audit trail; #/admin/users/<id> one user.
import { api } from "../api.js";
import { h } from "../dom.js";
import { describeError } from "../errors.js";
import { t } from "../i18n.js";
import { loadRole } from "../role.js";
import { auditSection, statsSection } from "./admin_activity.js";
import { renderUser } from "./admin_user.js";
import { usersSection } from "./admin_users.js";

/** The polite answer to someone who is not an administrator. */
function refusal(root) {
  root.replaceChildren(
    h("h1", {}, t("admin.title")),
    h("p", { id: "admin-only", role: "status" }, t("admin.only")),
    h("p", {}, h("a", { href: "#/chat" }, t("admin.to_chat"))));
  // The role may have changed since the header was drawn: ask again so the link follows.
  loadRole();
}

function failure(root, error) {
  if (error && error.code === "admin_only") {
    refusal(root);
    return;
  }
  root.append(h("p", { class: "error", role: "alert" }, describeError(error)));
}

export async function render(view, params) {
  const root = h("div", { class: "page admin" });
  view.append(root);
  if (params.id !== null) {
    try {
      await renderUser(root, await api.get(`/admin/users/${params.id}/`));
    } catch (error) {
      root.append(h("p", {}, h("a", { href: "#/admin" }, t("admin.back"))), h("h1", {}, t("admin.title")));
      failure(root, error);
    }
    return null;
  }
  root.append(h("h1", {}, t("admin.title")));
  let first;
  try {
    first = await api.get("/admin/users/?limit=50");
  } catch (error) {
    failure(root, error);
    return null;
  }
  const [stats, audit] = await Promise.all([statsSection(), auditSection()]);
  // All at once, when everything is there: the router then moves the focus to the heading, and
  // nothing typed into the search box in the meantime can be cut off by it.
  const users = usersSection(first);
  root.append(users.section, stats, audit);
  return users.cleanup;
}
