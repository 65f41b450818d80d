// Log in: username (or e-mail) and password, and the Kakao/GitHub buttons the server offers.
import { login } from "../auth.js";
import { errorOf, networkError } from "../api.js";
import { field, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { t } from "../i18n.js";

/** The configured providers ({name, login_url}); none when the server has no such endpoint. */
export async function providers() {
  try {
    const response = await fetch("/accounts/oauth/providers/", { headers: { Accept: "application/json" } });
    if (!response.ok) return [];
    const body = await response.json();
    const list = Array.isArray(body && body.providers) ? body.providers : [];
    // Only links back into this site (the server redirects on to the provider).
    return list.filter((p) => {
      try {
        return typeof p.name === "string" && new URL(p.login_url, location.origin).origin === location.origin;
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

export function providerLabel(name) {
  const known = { kakao: "Kakao", github: "GitHub" };
  return known[name] || name;
}

export async function render(root, { query }) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, maxlength: 320 });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = statusLine();
  if (query.get("joined")) showMessage(status, t("login.joined"), "success");
  const submit = h("button", { type: "submit" }, t("login.submit"));
  const form = h(
    "form",
    { class: "card narrow", novalidate: false },
    h("h1", {}, t("login.title")),
    field(t("login.username"), username),
    field(t("login.password"), password),
    status,
    h("div", { class: "actions" }, submit),
    h("p", {}, t("login.no_account"), " ", h("a", { href: "#/join" }, t("login.join_link"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    showMessage(status, "", "notice");
    try {
      const response = await login(username.value.trim(), password.value);
      if (!response.ok) throw await errorOf(response);
      location.hash = "#/chat";
    } catch (error) {
      showMessage(status, describeError(error.code ? error : networkError()));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form);
  const list = await providers();
  if (list.length) {
    form.append(
      h(
        "div",
        { class: "providers", role: "group", "aria-label": t("login.providers") },
        list.map((p) =>
          h("a", { class: "button secondary", href: p.login_url, "data-provider": p.name }, t("login.with", { provider: providerLabel(p.name) })),
        ),
      ),
    );
  }
}
