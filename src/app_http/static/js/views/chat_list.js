// The history sidebar: the new-chat form, my chats (newest activity first, a page at a time),
// rename and delete (after a confirmation).
import { api } from "../api.js";
import { confirmDialog, promptDialog } from "../dialog.js";
import { field, h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDateTime, t } from "../i18n.js";

export const LEVELS = ["beginner", "intermediate", "advanced"];

/** The level select (intermediate unless told), for the new-chat form and the chat's header. */
export function levelSelect(attrs = {}, value = "intermediate") {
  // defaultSelected: a form reset goes back to it.
  return h("select", attrs,
    LEVELS.map((level) => h("option", { value: level, defaultSelected: level === value }, t(`chat.level_${level}`))));
}

export function sidebar({ onDeleted, onRenamed }) {
  const list = h("ul", { class: "chat-list", id: "chat-list" });
  const more = h("button", { type: "button", class: "secondary small", hidden: true }, t("chat.load_more"));
  const status = statusLine();
  let cursor = null;
  let current = null;

  const mode = h("select", { name: "mode" },
    h("option", { value: "conversation" }, t("chat.mode_conversation")),
    h("option", { value: "interview" }, t("chat.mode_interview")));
  const level = levelSelect({ name: "level" });
  const topic = h("input", { name: "topic", maxlength: 200, placeholder: t("chat.topic_placeholder") });
  // More settings of a new chat are added here as named fields: the form's fields are what is sent.
  const newChatHeading = h("h2", { id: "new-chat-heading", tabindex: "-1" }, t("chat.new_chat"));
  const form = h("form", { id: "new-chat", "aria-labelledby": "new-chat-heading" },
    newChatHeading,
    field(t("chat.mode"), mode),
    field(t("chat.level"), level),
    field(t("chat.topic"), topic, t("chat.topic_hint")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("chat.start"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const [name, value] of new FormData(form)) if (String(value).trim()) body[name] = String(value).trim();
    try {
      const created = await api.post("/chatbot/chats/", body);
      form.reset();
      list.querySelector("li.empty")?.remove();
      list.prepend(entry(created.chat));
      location.hash = `#/chat/${created.chat.id}`;
    } catch (error) {
      showMessage(status, describeError(error));
    }
  });

  function entry(chat) {
    const link = h("a", { href: `#/chat/${chat.id}` }, chat.title);
    const meta = h("span", { class: "chat-meta" }, formatDateTime(chat.updated_at));
    const item = h("li", { "data-chat-id": String(chat.id) },
      h("div", { class: "entry" }, link, meta),
      h("button", { type: "button", class: "small secondary rename", "aria-label": t("chat.rename_named", { title: chat.title }),
        onclick: () => rename(chat, item) }, t("chat.rename")),
      h("button", { type: "button", class: "small danger delete", "aria-label": t("chat.delete_named", { title: chat.title }),
        onclick: () => remove(chat, item) }, t("chat.delete")));
    item.chat = chat;
    if (chat.id === current) link.setAttribute("aria-current", "page");
    return item;
  }

  async function rename(chat, item) {
    const title = await promptDialog({ title: t("chat.rename_title"), label: t("chat.new_title"), value: chat.title, okLabel: t("chat.rename") });
    if (!title) return;
    try {
      const updated = await api.patch(`/chatbot/chats/${chat.id}/`, { title });
      const next = entry({ ...chat, title: updated.title, updated_at: updated.updated_at });
      item.replaceWith(next);
      onRenamed(updated);
      next.querySelector(".rename").focus();
    } catch (error) {
      showMessage(status, describeError(error));
    }
  }

  async function remove(chat, item) {
    const ok = await confirmDialog({
      title: t("chat.delete_title"),
      text: t("chat.delete_text", { title: chat.title }),
      lines: [t("chat.delete_loses", { n: chat.message_count })],
      okLabel: t("chat.delete"),
    });
    if (!ok) return;
    try {
      await api.del(`/chatbot/chats/${chat.id}/`);
      const neighbour = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      onDeleted(chat.id);
      (neighbour ? neighbour.querySelector("a") : form.querySelector("select")).focus();
    } catch (error) {
      showMessage(status, describeError(error));
    }
  }

  async function load() {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    try {
      const page = await api.get(`/chatbot/chats/${query}`);
      list.append(...page.items.map(entry));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!list.children.length) list.append(h("li", { class: "muted empty" }, t("chat.no_chats")));
    } catch (error) {
      showMessage(status, describeError(error));
    }
  }
  more.addEventListener("click", load);

  const node = h("aside", { class: "sidebar", "aria-labelledby": "history-heading" },
    form, h("h2", { id: "history-heading" }, t("chat.history")), list, more, status);
  return {
    node,
    load,
    newChatHeading,
    /** Marks the open chat; moves it to the top after activity (updated) when given. */
    select(id, updated = null) {
      current = id;
      for (const li of list.querySelectorAll("li[data-chat-id]")) {
        const link = li.querySelector("a");
        if (Number(li.dataset.chatId) === id) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
        if (updated && Number(li.dataset.chatId) === id) {
          const fresh = entry({ ...li.chat, ...updated });
          li.replaceWith(fresh);
          list.prepend(fresh);
        }
      }
      list.querySelector("li.empty")?.remove();
    },
    add(chat) {
      list.querySelector("li.empty")?.remove();
      if (!list.querySelector(`li[data-chat-id="${chat.id}"]`)) list.prepend(entry(chat));
    },
  };
}
