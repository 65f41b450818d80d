// Korean and English: one JSON dictionary per language (static/locales/), the browser's language
// picks the default, the switch keeps the choice; dates and times through Intl.
import { getPref, setPref } from "./prefs.js";

export const LANGUAGES = ["ko", "en"];
let language = "en";
let dictionary = {};
const listeners = new Set();

export function defaultLanguage() {
  const saved = getPref("language");
  if (LANGUAGES.includes(saved)) return saved;
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

export async function setLanguage(lang, { remember = false } = {}) {
  const next = LANGUAGES.includes(lang) ? lang : "en";
  const response = await fetch(`/static/locales/${next}.json`);
  dictionary = await response.json();
  language = next;
  document.documentElement.lang = next;
  if (remember) setPref("language", next);
  for (const listener of listeners) listener(next);
}

export function currentLanguage() {
  return language;
}

/** The locale for Intl: the browser's own regional variant of the UI language when it has one
 * (en-GB shows 24-hour times), else the language itself. */
function locale() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  return wanted.find((tag) => String(tag || "").toLowerCase().split("-")[0] === language) || language;
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** t("chat.send") or t("quota.left", {remaining: 3, limit: 5}); a missing key shows itself. */
export function t(key, vars = {}) {
  const text = key.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), dictionary);
  if (typeof text !== "string") return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** A time of day on the 24-hour clock ("00:00"): a reset at midnight reads unambiguously. */
export function formatTime(date) {
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
}

export function formatDateTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

export function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(date);
}

/** "in 4 h" / "4시간 후": hours when an hour or more, else minutes. */
export function formatIn(seconds) {
  const format = new Intl.RelativeTimeFormat(locale(), { style: "narrow", numeric: "always" });
  if (seconds >= 3600) return format.format(Math.round(seconds / 3600), "hour");
  return format.format(Math.max(1, Math.round(seconds / 60)), "minute");
}
