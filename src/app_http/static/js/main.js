// The page: language, session, quota badge and the hash router (#/login, #/join, #/chat/<id>,
// #/notebook, #/progress, #/me, #/oauth?..., #/admin, #/admin/users/<id>). Each view is a module with render(root, params) -> cleanup.
import { logout, onSessionChange, refresh, signedIn } from "./auth.js";
import { focusHeading, h } from "./dom.js";
import { currentLanguage, defaultLanguage, onLanguageChange, setLanguage, t } from "./i18n.js";
import { forget, onQuotaChange, renderBadge } from "./quota.js";
import { forgetRole, isAdmin, loadRole, onRoleChange } from "./role.js";
import * as adminView from "./views/admin.js";
import * as chatView from "./views/chat.js";
import * as joinView from "./views/join.js";
import * as loginView from "./views/login.js";
import * as meView from "./views/me.js";
import * as notebookView from "./views/notebook.js";
import * as oauthView from "./views/oauth.js";
import * as progressView from "./views/progress.js";

const ROUTES = [
  { pattern: /^\/login$/, view: loginView, auth: false },
  { pattern: /^\/join$/, view: joinView, auth: false },
  { pattern: /^\/oauth$/, view: oauthView, auth: null },
  { pattern: /^\/chat(?:\/(\d+))?$/, view: chatView, auth: true },
  { pattern: /^\/notebook$/, view: notebookView, auth: true },
  { pattern: /^\/progress$/, view: progressView, auth: true },
  { pattern: /^\/me$/, view: meView, auth: true },
  { pattern: /^\/admin(?:\/users\/(\d+))?$/, view: adminView, auth: true },
];

let current = null; // {view, cleanup}

export function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, query: new URLSearchParams(query) };
}

function chrome() {
  document.getElementById("skip-link").textContent = t("nav.skip");
  document.getElementById("nav-chat").textContent = t("nav.chat");
  document.getElementById("nav-notebook").textContent = t("nav.notebook");
  document.getElementById("nav-progress").textContent = t("nav.progress");
  document.getElementById("nav-me").textContent = t("nav.me");
  document.getElementById("nav-admin").textContent = t("nav.admin");
  document.getElementById("nav-admin").hidden = !(signedIn() && isAdmin());
  document.getElementById("logout").textContent = t("nav.logout");
  document.getElementById("language-label").textContent = t("nav.language");
  document.getElementById("topnav").setAttribute("aria-label", t("nav.main"));
  document.getElementById("language").value = currentLanguage();
  document.getElementById("topnav").hidden = !signedIn();
  document.title = t("app.title");
  renderBadge(document.getElementById("quota-badge"));
}

function markCurrent(path) {
  for (const [id, prefix] of [["nav-chat", "/chat"], ["nav-notebook", "/notebook"], ["nav-progress", "/progress"], ["nav-me", "/me"], ["nav-admin", "/admin"]]) {
    const link = document.getElementById(id);
    if (path.startsWith(prefix)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route({ force = false } = {}) {
  const { path, query } = parseHash(location.hash);
  const found = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (!found) {
    location.replace(signedIn() ? "#/chat" : "#/login");
    return;
  }
  const { r, m } = found;
  if (r.auth === true && !signedIn()) {
    location.replace("#/login");
    return;
  }
  if (r.auth === false && signedIn()) {
    location.replace("#/chat");
    return;
  }
  markCurrent(path);
  const root = document.getElementById("view");
  const params = { id: m[1] ? Number(m[1]) : null, query };
  if (!force && current && current.view === r.view && r.view.update) {
    await r.view.update(params);
    return;
  }
  if (current && current.cleanup) current.cleanup();
  root.replaceChildren();
  current = { view: r.view, cleanup: null };
  current.cleanup = (await r.view.render(root, params)) || null;
  focusHeading(root);
}

async function start() {
  await setLanguage(defaultLanguage());
  chrome();
  onLanguageChange(() => {
    chrome();
    route({ force: true });
  });
  document.getElementById("language").addEventListener("change", (event) => {
    setLanguage(event.target.value, { remember: true });
  });
  const badge = document.getElementById("quota-badge");
  onQuotaChange(() => renderBadge(badge));
  setInterval(() => renderBadge(badge), 60_000);
  document.getElementById("logout").addEventListener("click", async () => {
    await logout();
  });
  onRoleChange(() => chrome());
  onSessionChange((isIn) => {
    chrome();
    if (isIn) loadRole(); // the admin link follows (onRoleChange)
    if (!isIn) {
      forget();
      forgetRole();
      if (current && current.cleanup) current.cleanup();
      current = null;
      if (parseHash(location.hash).path === "/login") route({ force: true });
      else location.hash = "#/login";
    }
  });
  // A reload keeps the session: the refresh cookie gives a new access token (an OAuth return
  // brings its own code instead).
  if (parseHash(location.hash).path !== "/oauth") await refresh();
  chrome();
  window.addEventListener("hashchange", () => route());
  await route();
}

start().catch(() => {
  const root = document.getElementById("view");
  root.replaceChildren(h("p", { class: "error", role: "alert" }, "chatcore could not start. Reload the page."));
});
