// Talking to the API: the bearer token, one retry after renewing the session on a 401, the quota
// headers of every response, and every failure as one shape (ApiError: status, code, detail).
import { accessToken, dropSession, refresh } from "./auth.js";
import { fromHeaders } from "./quota.js";

export class ApiError extends Error {
  constructor(status, code, detail, retryAfter = null) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

export async function errorOf(response) {
  const retry = response.headers.get("Retry-After");
  const retryAfter = retry === null ? null : Number(retry);
  try {
    const body = await response.json();
    if (body && typeof body.code === "string") return new ApiError(response.status, body.code, String(body.detail || ""), retryAfter);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, "http_" + response.status, response.statusText, retryAfter);
}

export function networkError() {
  return new ApiError(0, "network_error", "");
}

/**
 * fetch with the session: returns the Response (ok or not, the caller decides), after one
 * renewal and retry on a 401. `json` is sent as the body.
 */
export async function send(method, path, { json, headers = {}, signal } = {}) {
  const attempt = () => {
    const all = { Accept: "application/json", ...headers };
    if (json !== undefined) all["Content-Type"] = "application/json";
    const token = accessToken();
    if (token) all.Authorization = `Bearer ${token}`;
    return fetch(path, {
      method,
      headers: all,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal,
      credentials: "same-origin",
    });
  };
  let response;
  try {
    response = await attempt();
    if (response.status === 401 && accessToken()) {
      if (await refresh()) response = await attempt();
      else dropSession();
    }
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw networkError();
  }
  fromHeaders(response.headers);
  return response;
}

/** send(), then the JSON body (null for 204); a failure throws ApiError. */
export async function call(method, path, options = {}) {
  const response = await send(method, path, options);
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  get: (path, options) => call("GET", path, options),
  post: (path, json, options = {}) => call("POST", path, { ...options, json }),
  patch: (path, json, options = {}) => call("PATCH", path, { ...options, json }),
  del: (path, json, options = {}) => call("DELETE", path, { ...options, json }),
};
