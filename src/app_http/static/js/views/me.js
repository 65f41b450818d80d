// My page: profile and e-mail, password, linked accounts, API keys (a new key shown once, with a
// copy button), today's quota, downloading all my data and deleting my account.
import { dropSession, login } from "../auth.js";
import { api, errorOf, send } from "../api.js";
import { confirmDialog } from "../dialog.js";
import { field, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDate, formatDateTime, t } from "../i18n.js";
import { describe, fromQuota, quotaState } from "../quota.js";
import { providerLabel, providers } from "./login.js";

export async function render(view) {
  const root = h("div", { class: "page" }, h("h1", {}, t("me.title")));
  view.append(root);
  let me;
  try {
    me = await api.get("/accounts/mypage/");
  } catch (error) {
    root.append(h("p", { class: "error", role: "alert" }, describeError(error)));
    return;
  }
  fromQuota(me.quota);
  root.append(
    profileCard(me),
    passwordCard(me),
    linkedCard(me),
    await keysCard(),
    quotaCard(),
    dataCard(me),
  );
}

function card(titleKey, ...children) {
  const id = `card-${titleKey.replace(/\W/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, t(titleKey)), ...children);
}

function profileCard(me) {
  const email = h("input", { type: "email", name: "email", value: me.email || "", autocomplete: "email", maxlength: 320, required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = statusLine();
  const shown = h("dd", { id: "profile-email" }, me.email || t("me.no_email"));
  const form = h("form", { id: "email-form" },
    field(t("me.new_email"), email),
    field(t("me.current_password"), password),
    status,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("me.change_email"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const updated = await api.patch("/accounts/mypage/", { email: email.value.trim(), password: password.value });
      shown.textContent = updated.email || t("me.no_email");
      password.value = "";
      showMessage(status, t("me.email_changed"), "success");
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });
  return card("me.profile",
    h("dl", {},
      h("dt", {}, t("me.username")), h("dd", { id: "profile-username" }, me.username),
      h("dt", {}, t("me.email")), shown,
      h("dt", {}, t("me.joined")), h("dd", {}, formatDate(me.date_joined))),
    form);
}

function passwordCard(me) {
  const old = h("input", { type: "password", name: "old_password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", name: "new_password", autocomplete: "new-password", required: true, minlength: 8 });
  const again = h("input", { type: "password", name: "new_password2", autocomplete: "new-password", required: true, minlength: 8 });
  const status = statusLine();
  const form = h("form", { id: "password-form" },
    field(t("me.old_password"), old),
    field(t("me.new_password"), next, t("join.password_hint")),
    field(t("me.new_password2"), again),
    status,
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("me.change_password"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.post("/accounts/password/", { old_password: old.value, new_password: next.value, new_password2: again.value });
      // A new password signs out every session, this one too: sign in again with it.
      const response = await login(me.username, next.value);
      if (!response.ok) throw await errorOf(response);
      form.reset();
      showMessage(status, t("me.password_changed"), "success");
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });
  return card("me.password", form);
}

function linkedCard(me) {
  const status = statusLine();
  const unlink = async (account, item) => {
    const ok = await confirmDialog({
      title: t("me.unlink_title", { provider: providerLabel(account.provider) }),
      text: t("me.unlink_text", { provider: providerLabel(account.provider), login: account.login }),
      okLabel: t("me.unlink"),
    });
    if (!ok) return;
    try {
      await api.del(`/accounts/oauth/${encodeURIComponent(account.provider)}/`);
      item.remove();
      showMessage(status, t("me.unlinked", { provider: providerLabel(account.provider) }), "success");
    } catch (error) {
      showMessage(status, describeError(error));
    }
  };
  const list = me.linked_accounts.length
    ? h("ul", { id: "linked-accounts" }, me.linked_accounts.map((account) => {
      const item = h("li", { "data-provider": account.provider }, `${providerLabel(account.provider)}: ${account.login} `);
      item.append(h("button", { type: "button", class: "small secondary",
        "aria-label": t("me.unlink_named", { provider: providerLabel(account.provider) }),
        onclick: () => unlink(account, item) }, t("me.unlink")));
      return item;
    }))
    : h("p", { class: "muted", id: "linked-accounts" }, t("me.no_linked"));
  const section = card("me.linked", list, status);
  providers().then((available) => {
    const linked = new Set(me.linked_accounts.map((a) => a.provider));
    const buttons = available.filter((p) => !linked.has(p.name)).map((p) =>
      h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          const { url } = await api.post(`/accounts/oauth/${encodeURIComponent(p.name)}/link/`, {});
          location.assign(url);
        } catch (error) {
          showMessage(status, describeError(error));
        }
      } }, t("me.link", { provider: providerLabel(p.name) })));
    if (buttons.length) status.before(h("div", { class: "actions" }, buttons));
  });
  return section;
}

async function keysCard() {
  const table = h("tbody");
  const status = statusLine();
  const name = h("input", { name: "name", maxlength: 100, required: true, value: "API key" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const created = h("div", { id: "new-key", hidden: true, role: "status" });
  const row = (key) => {
    const tr = h("tr", { "data-key-id": String(key.id) },
      h("td", {}, key.name), h("td", {}, `${key.prefix}…`), h("td", {}, formatDateTime(key.created_at)),
      h("td", {}, key.last_used_at ? formatDateTime(key.last_used_at) : t("me.never")),
      h("td", {}, h("button", { type: "button", class: "small danger", "aria-label": t("me.delete_key_named", { name: key.name }),
        onclick: async () => {
          const ok = await confirmDialog({ title: t("me.delete_key_title"), text: t("me.delete_key_text", { name: key.name }), okLabel: t("me.delete_key") });
          if (!ok) return;
          try {
            await api.del(`/accounts/api-keys/${key.id}/`);
            tr.remove();
            showMessage(status, t("me.key_deleted"), "success");
          } catch (error) {
            showMessage(status, describeError(error));
          }
        } }, t("me.delete_key"))));
    return tr;
  };
  try {
    table.append(...(await api.get("/accounts/api-keys/")).map(row));
  } catch (error) {
    showMessage(status, describeError(error));
  }
  const form = h("form", { id: "key-form" },
    field(t("me.key_name"), name),
    field(t("me.current_password"), password),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("me.create_key"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const key = await api.post("/accounts/api-keys/", { name: name.value.trim(), password: password.value });
      password.value = "";
      const secret = h("code", { class: "key-secret", id: "new-key-secret" }, key.key);
      const copy = h("button", { type: "button", class: "secondary", id: "copy-key" }, t("me.copy"));
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(key.key);
          copy.textContent = t("me.copied");
        } catch {
          copy.textContent = t("me.copy_failed");
        }
      });
      created.replaceChildren(h("p", {}, t("me.key_once")), secret, h("div", { class: "actions" }, copy));
      created.hidden = false;
      table.prepend(row(key));
      copy.focus();
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });
  return card("me.keys",
    h("p", { class: "muted" }, t("me.keys_hint")),
    h("table", {}, h("caption", { class: "visually-hidden" }, t("me.keys")),
      h("thead", {}, h("tr", {}, [t("me.key_name"), t("me.key_prefix"), t("me.key_created"), t("me.key_used"), h("span", { class: "visually-hidden" }, t("me.actions"))].map((c) => h("th", { scope: "col" }, c)))),
      table),
    created, form, status);
}

function quotaCard() {
  return card("me.quota", h("p", { id: "my-quota" }, quotaState() ? describe() : ""));
}

function dataCard(me) {
  const status = statusLine();
  const download = h("button", { type: "button", class: "secondary", id: "download-data" }, t("me.download"));
  download.addEventListener("click", async () => {
    try {
      const response = await send("GET", "/accounts/export/");
      if (!response.ok) throw await errorOf(response);
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: `chatcore-export-${me.username}.json`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      showMessage(status, t("me.downloaded"), "success");
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });
  const noPassword = h("input", { type: "checkbox", id: "no-password" });
  const secret = h("input", { type: "password", name: "password", id: "delete-password", autocomplete: "current-password", required: true });
  const secretLabel = h("label", { for: "delete-password" }, t("me.current_password"));
  noPassword.addEventListener("change", () => {
    secret.type = noPassword.checked ? "text" : "password";
    secret.autocomplete = noPassword.checked ? "off" : "current-password";
    secretLabel.textContent = noPassword.checked ? t("me.type_username", { username: me.username }) : t("me.current_password");
  });
  const form = h("form", { id: "delete-form" },
    h("p", {}, t("me.delete_intro")),
    h("label", { class: "inline", for: "no-password" }, noPassword, t("me.no_password")),
    h("div", { class: "field" }, secretLabel, secret),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, t("me.delete_account"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = await confirmDialog({
      title: t("me.delete_title"),
      text: t("me.delete_text", { username: me.username }),
      lines: [t("me.loses_profile"), t("me.loses_chats"), t("me.loses_keys"), t("me.loses_linked"), t("me.loses_forever")],
      okLabel: t("me.delete_account"),
    });
    if (!ok) return;
    const body = noPassword.checked ? { confirm: secret.value.trim() } : { password: secret.value };
    try {
      await api.del("/accounts/mypage/", body);
      dropSession();
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });
  return card("me.data", h("p", {}, t("me.download_intro")), h("div", { class: "actions" }, download), form, status);
}
