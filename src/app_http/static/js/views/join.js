// Sign up, then sign in at once.
import { login } from "../auth.js";
import { api, errorOf, networkError } from "../api.js";
import { field, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { t } from "../i18n.js";

export async function render(root) {
  const username = h("input", { name: "username", autocomplete: "username", required: true, minlength: 3, maxlength: 30, pattern: "[A-Za-z0-9_.\\-]{3,30}" });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 320 });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const password2 = h("input", { name: "password2", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const status = statusLine();
  const submit = h("button", { type: "submit" }, t("join.submit"));
  const form = h(
    "form",
    { class: "card narrow" },
    h("h1", {}, t("join.title")),
    field(t("join.username"), username, t("join.username_hint")),
    field(t("join.email"), email),
    field(t("join.password"), password, t("join.password_hint")),
    field(t("join.password2"), password2),
    status,
    h("div", { class: "actions" }, submit),
    h("p", {}, t("join.have_account"), " ", h("a", { href: "#/login" }, t("join.login_link"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (password.value !== password2.value) {
      showMessage(status, t("join.mismatch"));
      password2.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api.post("/accounts/join/", {
        username: username.value.trim(),
        email: email.value.trim(),
        password: password.value,
        password2: password2.value,
      });
      const response = await login(username.value.trim(), password.value);
      if (!response.ok) throw await errorOf(response);
      location.hash = "#/chat";
    } catch (error) {
      showMessage(status, describeError(error.code ? error : networkError()));
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form);
}
