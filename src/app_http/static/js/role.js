// Whether the signed-in user is an administrator (from my page's is_admin): it decides whether the
// header links to the admin page. The server decides on every /admin request anyway.
import { api } from "./api.js";

let admin = false;
const listeners = new Set();

export function isAdmin() {
  return admin;
}

export function onRoleChange(listener) {
  listeners.add(listener);
}

function set(next) {
  if (next === admin) return;
  admin = next;
  for (const listener of listeners) listener(admin);
}

/** Asks the server (my page) and remembers the answer; false when it cannot tell. */
export async function loadRole() {
  try {
    const me = await api.get("/accounts/mypage/");
    set(me !== null && me.is_admin === true);
  } catch {
    set(false);
  }
  return admin;
}

export function forgetRole() {
  set(false);
}
