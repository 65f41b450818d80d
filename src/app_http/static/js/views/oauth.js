// The return from Kakao or GitHub: #/oauth?code=... (exchange it for a session),
// #/oauth?error=... (say why) or #/oauth?linked=... (a provider was linked on my page).
import { adoptSession, signedIn } from "../auth.js";
import { errorOf, networkError } from "../api.js";
import { h } from "../dom.js";
import { describeError } from "../errors.js";
import { t } from "../i18n.js";
import { providerLabel } from "./login.js";

export async function render(root, { query }) {
  const title = h("h1", {}, t("oauth.title"));
  const message = h("p", { role: "status" }, t("oauth.working"));
  root.append(h("section", { class: "card narrow" }, title, message));
  const code = query.get("code");
  const error = query.get("error");
  const linked = query.get("linked");
  // The code must not stay in the address bar or the history.
  history.replaceState(null, "", location.pathname + "#/oauth");
  if (linked) {
    title.textContent = t("me.linked");
    message.textContent = t("oauth.linked", { provider: providerLabel(linked) });
    message.after(h("p", {}, h("a", { href: "#/me" }, t("oauth.to_me"))));
    return;
  }
  if (error || !code) {
    message.className = "error";
    message.textContent = t(`oauth.errors.${error}`) === `oauth.errors.${error}` ? t("oauth.failed") : t(`oauth.errors.${error}`);
    message.after(h("p", {}, h("a", { href: signedIn() ? "#/me" : "#/login" }, t("oauth.back"))));
    return;
  }
  try {
    const response = await fetch("/accounts/oauth/exchange/", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ code, cookie: true }),
      credentials: "same-origin",
    });
    if (!response.ok) throw await errorOf(response);
    adoptSession(await response.json());
    location.replace("#/chat");
  } catch (failure) {
    message.className = "error";
    message.textContent = `${t("oauth.failed")} ${describeError(failure.code ? failure : networkError())}`;
    message.after(h("p", {}, h("a", { href: "#/login" }, t("oauth.back"))));
  }
}
