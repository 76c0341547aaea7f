// The REST API client: tokens (kept in localStorage), refresh before and after expiry,
// and errors turned into plain words.

import { money } from "./format.js";

const KEY = "gameops.auth";
const API = "/api/v1";
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) ?? null;
  } catch {
    return null;
  }
}

function store(pair) {
  const auth = {
    access: pair.access_token,
    refresh: pair.refresh_token,
    expiresAt: Date.now() + pair.expires_in * 1000,
  };
  localStorage.setItem(KEY, JSON.stringify(auth));
  return auth;
}

export function isLoggedIn() {
  return load() !== null;
}

export async function login(username, password) {
  const response = await send("POST", "/auth/login", { username, password }, null);
  store(await response.json());
}

/** Forget the tokens and go to the login page; `reason` becomes a message there. */
export function logout(reason = "") {
  const auth = load();
  localStorage.removeItem(KEY);
  if (auth?.refresh && !reason) {
    // End the login on the server too (its refresh tokens stop working); keepalive lets the
    // request finish while the page changes.
    fetch(API + "/auth/logout", {
      method: "POST",
      keepalive: true,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: auth.refresh }),
    }).catch(() => {});
  }
  location.assign(reason ? `/login?reason=${encodeURIComponent(reason)}` : "/login");
}

let refreshing = null;

/** One refresh at a time, however many requests noticed the expiry. */
function refresh() {
  refreshing ??= (async () => {
    const auth = load();
    if (!auth) throw new ApiError(401, "Not logged in");
    let response;
    try {
      response = await send("POST", "/auth/refresh", { refresh_token: auth.refresh }, null);
    } catch (err) {
      // Refresh tokens are used once: another tab may have just used ours and stored the
      // next pair. Then that pair is ours too.
      const now = load();
      if (err instanceof ApiError && err.status === 401 && now && now.refresh !== auth.refresh) return now;
      throw err;
    }
    return store(await response.json());
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A valid access token, refreshed when it is about to expire; logs out when it cannot be. */
export async function accessToken({ force = false } = {}) {
  let auth = load();
  if (!auth) {
    logout();
    throw new ApiError(401, "Not logged in");
  }
  if (force || auth.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    try {
      auth = await refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) logout("expired");
      throw err;
    }
  }
  return auth.access;
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined && body !== null) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined || body === null ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "Cannot reach the server. Check the network and try again.");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(response.status, plainDetail(response.status, body), body);
}

function plainDetail(status, body) {
  const text = typeof body?.detail === "string" ? body.detail : "";
  const detail = text.charAt(0).toUpperCase() + text.slice(1);
  if (status >= 500) return `The server failed (HTTP ${status}). Try again in a moment.`;
  if (status === 403) return detail ? `Not allowed: ${detail.replace(/^Requires/, "requires")}.` : "Not allowed.";
  if (status === 422 && Array.isArray(body?.errors) && body.errors.length) {
    return body.errors.map(validationText).join(" ");
  }
  if (Number.isInteger(body?.balance) && Number.isInteger(body?.price)) {
    return `${detail}: ${money(body.balance)} of ${money(body.price)}.`; // "Insufficient balance: $3.50 of $6.00."
  }
  if (detail) return detail.endsWith(".") ? detail : `${detail}.`;
  return `The request failed (HTTP ${status}).`;
}

/** One validation error as a sentence: "Email is not in a valid format." */
function validationText(error) {
  const field = String(error.loc?.[error.loc.length - 1] ?? "value").replaceAll("_", " ");
  const name = field.charAt(0).toUpperCase() + field.slice(1);
  if (error.type === "string_pattern_mismatch") return `${name} is not in a valid format.`;
  if (error.type === "missing") return `${name} is required.`;
  const message = String(error.msg ?? "is not valid").replace(/^(String|Value|Input|Value error,) /, "");
  return `${name} ${message.charAt(0).toLowerCase()}${message.slice(1)}.`;
}

/** Call the API; `params` become the query string. Returns parsed JSON, or null for 204;
 * with `raw`, the Response itself (a CSV export, say). */
export async function api(method, path, { body = null, params = null, raw = false } = {}) {
  const query = params ? queryString(params) : "";
  let response;
  try {
    response = await send(method, path + query, body, await accessToken());
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    // The access token was refused (expired early, server restarted with a new key...).
    response = await send(method, path + query, body, await accessToken({ force: true }));
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

let meCache = null;

export function me() {
  meCache ??= api("GET", "/auth/me");
  return meCache;
}

/** Put an error's plain words in `element` (next to what caused it) and show it. */
export function showError(element, err) {
  element.textContent = err instanceof Error ? err.message : `Something went wrong: ${err}`;
  element.hidden = false;
}

export function clearError(element) {
  element.textContent = "";
  element.hidden = true;
}
