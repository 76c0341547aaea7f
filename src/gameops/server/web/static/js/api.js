// The REST API client: tokens (kept in localStorage), refresh before and after expiry,
// and errors turned into plain words.

import { plainError } from "./errors.js";

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

async function send(method, path, body, token, idempotencyKey = null) {
  const headers = { Accept: "application/json" };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
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
    throw new ApiError(0, plainError(0, null));
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
  return new ApiError(response.status, plainError(response.status, body), body);
}

/** A fresh key for one money-moving action (a sale, an extension, a top-up, a card
 * confirmation): its retries reuse it, so the server applies it at most once. */
export function newIdempotencyKey() {
  // Not crypto.randomUUID(): that needs a secure context, and a venue's LAN may be plain HTTP.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dash-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** One money-moving action that may be sent more than once (a double click, a retry after
 * a network error): `run(send)` calls `send(key)` with the same key until the server gives a
 * definite refusal (4xx), after which the next try is a new request with a new key. */
export function oneAction() {
  let key = newIdempotencyKey();
  return {
    async run(send) {
      try {
        return await send(key);
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) key = newIdempotencyKey();
        throw err;
      }
    },
  };
}

/** Call the API; `params` become the query string. Returns parsed JSON, or null for 204;
 * with `raw`, the Response itself (a CSV export, say). `idempotencyKey` goes with the
 * request and its retry after a refused token. */
export async function api(method, path, { body = null, params = null, raw = false, idempotencyKey = null } = {}) {
  const query = params ? queryString(params) : "";
  let response;
  try {
    response = await send(method, path + query, body, await accessToken(), idempotencyKey);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    // The access token was refused (expired early, server restarted with a new key...).
    response = await send(method, path + query, body, await accessToken({ force: true }), idempotencyKey);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** `params` as a query string: an object (empty values left out), or URLSearchParams (a
 * name given more than once, e.g. station_id=a&station_id=b). */
export function queryString(params) {
  if (params instanceof URLSearchParams) return params.size ? `?${params}` : "";
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
  element.textContent = err instanceof Error ? err.message : String(err);
  element.hidden = false;
}

export function clearError(element) {
  element.textContent = "";
  element.hidden = true;
}

/** Run `work` with `button` disabled (one click, one request); what it throws shows in
 * `errorBox`. */
export async function whileBusy(button, errorBox, work) {
  button.disabled = true;
  try {
    await work();
  } catch (err) {
    showError(errorBox, err);
  } finally {
    button.disabled = false;
  }
}
