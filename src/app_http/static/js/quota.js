// The remaining-quota badge: "3/5 left · resets 00:00 (in 4 h)" in the user's own time zone,
// updated from the X-RateLimit-* headers of every response and from quota objects.
import { formatIn, formatTime, t } from "./i18n.js";

let state = null; // {limit, remaining, resetAt: Date}
const listeners = new Set();

export function onQuotaChange(listener) {
  listeners.add(listener);
}

function set(next) {
  state = next;
  for (const listener of listeners) listener(state);
}

export function quotaState() {
  return state;
}

export function fromHeaders(headers) {
  const limit = headers.get("X-RateLimit-Limit");
  const remaining = headers.get("X-RateLimit-Remaining");
  const reset = headers.get("X-RateLimit-Reset");
  if (limit === null || remaining === null || reset === null) return;
  set({ limit: Number(limit), remaining: Number(remaining), resetAt: new Date(Date.now() + Number(reset) * 1000) });
}

export function fromQuota(quota) {
  if (!quota) return;
  set({ limit: quota.limit, remaining: quota.remaining, resetAt: new Date(quota.resets_at) });
}

export function resetPhrase(resetAt) {
  const seconds = Math.max(0, (resetAt.getTime() - Date.now()) / 1000);
  return t("quota.resets", { time: formatTime(resetAt), in: formatIn(seconds) });
}

export function describe(current = state) {
  if (!current) return "";
  return `${t("quota.left", { remaining: current.remaining, limit: current.limit })} · ${resetPhrase(current.resetAt)}`;
}

export function renderBadge(badge) {
  if (!state) {
    badge.hidden = true;
    return;
  }
  badge.hidden = false;
  badge.textContent = describe();
  badge.classList.toggle("low", state.remaining === 0);
}

export function forget() {
  state = null;
  for (const listener of listeners) listener(state);
}
