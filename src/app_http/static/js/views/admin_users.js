// The admin page's user search: q matches a part of the username or e-mail (asked for a moment
// after typing stops), a table of users, and "more" for the next page.
import { api } from "../api.js";
import { h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDate, t } from "../i18n.js";
import { data, lastActiveText, limitText, providersText, yesNo } from "./admin_format.js";

const DEBOUNCE_MS = 300;
const PAGE = 50;

function row(user) {
  return h("tr", { "data-user-id": String(user.id) },
    h("th", { scope: "row" }, data(user.username, "a", { href: `#/admin/users/${user.id}` })),
    h("td", {}, user.email ? data(user.email) : t("admin.none")),
    h("td", {}, formatDate(user.date_joined)),
    h("td", {}, yesNo(user.is_admin)),
    h("td", {}, yesNo(user.is_active)),
    h("td", { class: "limit" }, limitText(user.daily_limit)),
    h("td", {}, String(user.used_today)),
    h("td", {}, lastActiveText(user.last_active_at)),
    h("td", {}, providersText(user.providers)));
}

/** The section, filled with `first` (the first page without a query); cleanup() stops a
 * pending search. */
export function usersSection(first) {
  const search = h("input", { type: "search", name: "q", id: "admin-search", maxlength: 254, autocomplete: "off", spellcheck: false });
  const body = h("tbody", { id: "admin-users" });
  const more = h("button", { type: "button", class: "secondary small", id: "admin-users-more", hidden: true }, t("admin.more"));
  const status = statusLine();
  const shown = h("p", { class: "muted", id: "admin-users-shown", role: "status", "aria-live": "polite" });
  let cursor = null;
  let query = "";
  let timer = null;
  let controller = null;

  function show(page, { reset }) {
    if (reset) body.replaceChildren();
    body.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const count = body.querySelectorAll("tr[data-user-id]").length;
    if (!count) body.append(h("tr", { class: "empty" }, h("td", { colspan: 9, class: "muted" }, t("admin.no_users"))));
    // Said once the table changed, so a screen reader hears what the search found.
    shown.textContent = cursor ? t("admin.shown_more", { n: count }) : t("admin.shown", { n: count });
  }

  async function load({ reset }) {
    if (controller) controller.abort();
    controller = new AbortController();
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (query) params.set("q", query);
    if (!reset && cursor) params.set("cursor", cursor);
    try {
      const page = await api.get(`/admin/users/?${params}`, { signal: controller.signal });
      status.textContent = "";
      show(page, { reset });
    } catch (error) {
      if (error && error.name === "AbortError") return;
      showMessage(status, describeError(error));
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = search.value.trim();
      load({ reset: true });
    }, DEBOUNCE_MS);
  });
  more.addEventListener("click", () => load({ reset: false }));
  show(first, { reset: true });

  const columns = [t("admin.col_username"), t("admin.col_email"), t("admin.col_joined"), t("admin.col_admin"), t("admin.col_active"),
    t("admin.col_limit"), t("admin.col_used"), t("admin.col_last_active"), t("admin.col_providers")];
  const section = h("section", { class: "card", "aria-labelledby": "admin-users-heading" },
    h("h2", { id: "admin-users-heading" }, t("admin.users")),
    h("div", { class: "field" },
      h("label", { for: "admin-search" }, t("admin.search")), search,
      h("small", { class: "muted", id: "admin-search-hint" }, t("admin.search_hint"))),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "admin-users-heading" },
      h("table", { id: "admin-users-table" },
        h("caption", { class: "visually-hidden" }, t("admin.users")),
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
        body)),
    h("div", { class: "actions" }, more),
    shown,
    status);
  search.setAttribute("aria-describedby", "admin-search-hint");
  return {
    section,
    cleanup: () => {
      clearTimeout(timer);
      if (controller) controller.abort();
    },
  };
}
