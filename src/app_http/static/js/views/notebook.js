// The notebook (#/notebook): every correction the tutor made, newest first, a page at a time;
// only the unreviewed ones on demand; mark reviewed or not; a review mode with cards (front: what
// the learner wrote, to fix in their head; back: the better words and why), flipped by a button or
// the keyboard; the Anki CSV, downloaded with the session's token (fetch + Blob).
import { api, errorOf, send } from "../api.js";
import { h, showMessage, statusLine } from "../dom.js";
import { describeError } from "../errors.js";
import { formatDate, t } from "../i18n.js";
import { fromQuota } from "../quota.js";
import { correctionItem } from "./feedback.js";

let view = null;

export async function render(root) {
  const unreviewedOnly = h("input", { type: "checkbox", id: "notebook-unreviewed" });
  const reviewButton = h("button", { type: "button", id: "review-start" }, t("notebook.review"));
  const exportButton = h("button", { type: "button", class: "secondary", id: "notebook-export" }, t("notebook.export"));
  const list = h("ul", { class: "notebook-list", id: "notebook-list" });
  const more = h("button", { type: "button", class: "secondary small", id: "notebook-more", hidden: true }, t("notebook.more"));
  const empty = h("p", { class: "muted", id: "notebook-empty", hidden: true });
  const status = statusLine();
  status.id = "notebook-status";
  const review = h("section", { class: "card review", id: "review", hidden: true, "aria-labelledby": "review-title" });
  const listPart = h("div", { id: "notebook-entries" },
    h("div", { class: "actions toolbar" },
      h("label", { class: "inline", for: "notebook-unreviewed" }, unreviewedOnly, t("notebook.unreviewed_only")),
      reviewButton, exportButton),
    status, list, empty, more);
  root.append(h("div", { class: "page notebook" },
    h("h1", {}, t("notebook.title")), h("p", { class: "muted" }, t("notebook.intro")), review, listPart));
  view = { list, more, empty, status, review, listPart, unreviewedOnly, reviewButton, entries: [], cursor: null, items: new Map() };
  unreviewedOnly.addEventListener("change", showList);
  more.addEventListener("click", loadMore);
  reviewButton.addEventListener("click", startReview);
  exportButton.addEventListener("click", exportCsv);
  // The header's quota badge after a reload on this page, as the chat view does.
  await Promise.all([loadMore(), api.get("/chatbot/quota/").then(fromQuota).catch(() => {})]);
  return () => {
    view = null;
  };
}

async function loadMore() {
  const current = view;
  const query = current.cursor ? `?cursor=${encodeURIComponent(current.cursor)}` : "";
  try {
    const page = await api.get(`/chatbot/notebook/${query}`);
    if (view !== current) return;
    current.entries.push(...page.items);
    current.cursor = page.next_cursor;
    current.more.hidden = !current.cursor;
    showList();
  } catch (error) {
    if (view === current) showMessage(current.status, describeError(error));
  }
}

function visibleEntries() {
  return view.unreviewedOnly.checked ? view.entries.filter((e) => !e.reviewed) : view.entries;
}

function showList() {
  const shown = visibleEntries();
  view.items.clear();
  view.list.replaceChildren(...shown.map(entryItem));
  view.empty.hidden = shown.length > 0;
  view.empty.textContent = view.entries.length ? t("notebook.none_left") : t("notebook.empty");
  view.reviewButton.disabled = shown.length === 0;
}

function entryItem(entry) {
  const box = h("input", { type: "checkbox", id: `reviewed-${entry.id}`, class: "reviewed", checked: entry.reviewed });
  box.addEventListener("change", () => setReviewed(entry, box.checked));
  const item = correctionItem(entry, { className: "notebook-entry" });
  item.dataset.entryId = String(entry.id);
  item.classList.toggle("is-reviewed", entry.reviewed);
  item.append(h("div", { class: "entry-meta" },
    h("span", { class: "muted" }, formatDate(entry.created_at)),
    h("a", { href: `#/chat/${entry.chat_id}` }, t("notebook.from_chat")),
    h("label", { class: "inline", for: box.id }, box, t("notebook.reviewed"))));
  view.items.set(entry.id, { item, box });
  return item;
}

/** PATCHes the entry; the list and the review card show the answer. */
async function setReviewed(entry, reviewed) {
  const current = view;
  try {
    const updated = await api.patch(`/chatbot/notebook/${entry.id}/`, { reviewed });
    entry.reviewed = updated.reviewed;
  } catch (error) {
    if (view === current) showMessage(current.status, describeError(error));
  }
  if (view !== current) return;
  const shown = current.items.get(entry.id);
  if (shown) {
    shown.box.checked = entry.reviewed;
    shown.item.classList.toggle("is-reviewed", entry.reviewed);
  }
  if (current.deck) drawCard();
}

async function exportCsv() {
  const current = view;
  try {
    const response = await send("GET", "/chatbot/notebook/export.csv", { headers: { Accept: "text/csv" } });
    if (!response.ok) throw await errorOf(response);
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: "chatcore-notebook.csv", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    if (view === current) showMessage(current.status, t("notebook.exported"), "success");
  } catch (error) {
    if (view === current) showMessage(current.status, describeError(error));
  }
}

// Review mode: the not-yet-reviewed entries shown (all of them when every one is reviewed).
function startReview() {
  const shown = visibleEntries();
  const unreviewed = shown.filter((e) => !e.reviewed);
  view.deck = { cards: unreviewed.length ? unreviewed : shown, index: 0, flipped: false };
  view.listPart.hidden = true;
  view.review.hidden = false;
  drawReview();
}

function endReview() {
  view.deck = null;
  view.review.hidden = true;
  view.review.replaceChildren();
  view.listPart.hidden = false;
  showList();
  view.reviewButton.focus();
}

function drawReview() {
  const card = h("div", { class: "flashcard", id: "review-card", tabindex: "0", role: "group", "aria-live": "polite",
    "aria-roledescription": t("notebook.cards") });
  const counter = h("p", { class: "muted", id: "review-counter" });
  const flip = h("button", { type: "button", id: "review-flip" });
  const previous = h("button", { type: "button", class: "secondary", id: "review-previous" }, t("notebook.previous"));
  const next = h("button", { type: "button", class: "secondary", id: "review-next" }, t("notebook.next"));
  const mark = h("button", { type: "button", class: "secondary", id: "review-mark" });
  const end = h("button", { type: "button", class: "secondary", id: "review-end" }, t("notebook.end_review"));
  flip.addEventListener("click", () => turn());
  previous.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  mark.addEventListener("click", () => {
    const entry = view.deck.cards[view.deck.index];
    setReviewed(entry, !entry.reviewed);
  });
  end.addEventListener("click", endReview);
  view.review.replaceChildren(
    h("h2", { id: "review-title" }, t("notebook.cards")), counter, card,
    h("div", { class: "actions" }, previous, flip, next, mark, end),
    h("p", { class: "muted small-print" }, t("notebook.keys")));
  view.review.addEventListener("keydown", onKey);
  view.deck.parts = { card, counter, flip, previous, next, mark };
  drawCard();
  card.focus();
}

function onKey(event) {
  if (!view || !view.deck || event.altKey || event.ctrlKey || event.metaKey) return;
  const onCard = event.target === view.deck.parts.card;
  if (event.key === "ArrowRight") move(1);
  else if (event.key === "ArrowLeft") move(-1);
  else if (event.key === "f" || event.key === "F" || (onCard && (event.key === " " || event.key === "Enter"))) turn();
  else return;
  event.preventDefault();
}

function turn() {
  view.deck.flipped = !view.deck.flipped;
  drawCard();
}

function move(step) {
  const deck = view.deck;
  const index = deck.index + step;
  if (index < 0 || index >= deck.cards.length) return;
  deck.index = index;
  deck.flipped = false;
  drawCard();
}

function drawCard() {
  const deck = view.deck;
  const { card, counter, flip, previous, next, mark } = deck.parts;
  const entry = deck.cards[deck.index];
  counter.textContent = t("notebook.card_of", { n: deck.index + 1, total: deck.cards.length });
  card.dataset.side = deck.flipped ? "back" : "front";
  if (deck.flipped) {
    card.replaceChildren(correctionItem(entry, { tag: "div", className: "card-back" }));
  } else {
    card.replaceChildren(h("div", { class: "card-front" },
      h("p", { class: "muted" }, t("notebook.front_prompt")),
      h("p", { class: "data front-text", lang: "en" }, entry.original)));
  }
  flip.textContent = deck.flipped ? t("notebook.flip_back") : t("notebook.flip");
  // aria-disabled, not disabled: a button the focus is on stays focusable at either end.
  previous.setAttribute("aria-disabled", String(deck.index === 0));
  next.setAttribute("aria-disabled", String(deck.index === deck.cards.length - 1));
  mark.textContent = entry.reviewed ? t("notebook.mark_unreviewed") : t("notebook.mark_reviewed");
}
