// Confirmations and prompts in the page's one <dialog> (modal, keyboard and screen-reader friendly).
import { append, clear, h } from "./dom.js";
import { t } from "./i18n.js";

function open({ title, body, okLabel, danger = false, initialFocus = null }) {
  const dialog = document.getElementById("dialog");
  document.getElementById("dialog-title").textContent = title;
  append(clear(document.getElementById("dialog-body")), [body]);
  const ok = document.getElementById("dialog-ok");
  ok.textContent = okLabel;
  ok.className = danger ? "danger" : "";
  document.getElementById("dialog-cancel").textContent = t("common.cancel");
  dialog.returnValue = "";
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === "ok");
      },
      { once: true },
    );
    dialog.showModal();
    (initialFocus || document.getElementById("dialog-cancel")).focus();
  });
}

/** Resolves true when the user confirms. `lines` are shown as a list (what will be lost). */
export function confirmDialog({ title, text, lines = [], okLabel, danger = true }) {
  const body = h("div", {}, h("p", {}, text));
  if (lines.length) body.append(h("ul", { class: "loss-list" }, lines.map((line) => h("li", {}, line))));
  return open({ title, body, okLabel, danger });
}

/** Resolves to the entered text, or null when cancelled. */
export async function promptDialog({ title, label, value = "", okLabel, maxLength = 200 }) {
  const input = h("input", { id: "dialog-input", type: "text", value, maxlength: maxLength, required: true });
  const body = h("div", { class: "field" }, h("label", { for: "dialog-input" }, label), input);
  const confirmed = await open({ title, body, okLabel, initialFocus: input });
  return confirmed ? input.value.trim() : null;
}
