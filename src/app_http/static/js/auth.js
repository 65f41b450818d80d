// The session: the access token lives in this module's memory only; the refresh token is an
// HttpOnly cookie (scoped to /accounts/) that page scripts never see. The page refreshes silently
// a minute before the access token expires, and once on a 401 (api.js).

let access = null;
let timer = null;
let pending = null;
const listeners = new Set();

export function accessToken() {
  return access;
}

export function signedIn() {
  return access !== null;
}

/** Called with true on sign-in, false on sign-out (including a session that could not be renewed). */
export function onSessionChange(listener) {
  listeners.add(listener);
}

function notify(state) {
  for (const listener of listeners) listener(state);
}

/** Takes the tokens of a login, a refresh or an OAuth code exchange ({access, expires_in}). */
export function adoptSession(body) {
  const was = access !== null;
  access = body.access;
  clearTimeout(timer);
  const renewIn = Math.max(5, Number(body.expires_in || 0) - 60) * 1000;
  timer = setTimeout(() => {
    refresh();
  }, renewIn);
  if (!was) notify(true);
}

export function dropSession() {
  const was = access !== null;
  access = null;
  clearTimeout(timer);
  if (was) notify(false);
}

async function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
}

export async function login(username, password) {
  const response = await post("/accounts/token/", { username, password, cookie: true });
  if (response.ok) adoptSession(await response.json());
  return response;
}

async function renew() {
  const response = await post("/accounts/token/refresh/", { cookie: true });
  if (!response.ok) {
    dropSession();
    return false;
  }
  adoptSession(await response.json());
  return true;
}

/**
 * Renews the session from the cookie. Several tabs of one browser share the cookie, and a refresh
 * token works once: a Web Lock makes the tabs take turns, so each presents the newest cookie.
 */
export function refresh() {
  if (!pending) {
    const run = navigator.locks ? navigator.locks.request("chatcore-refresh", renew) : renew();
    pending = Promise.resolve(run).finally(() => {
      pending = null;
    });
  }
  return pending;
}

export async function logout() {
  try {
    await post("/accounts/logout/", {});
  } finally {
    dropSession();
  }
}
