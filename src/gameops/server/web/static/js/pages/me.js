// The member's own page (/me): balance, sessions, top-ups, change PIN. Mobile first; its
// own login (a customer's token never opens the staff dashboard, nor the reverse here).

import { money } from "../format.js";

const KEY = "gameops.me";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(KEY);
}

async function call(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/auth/login") {
    showLogin("Please log in again.");
    throw new Error("logged out");
  }
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const detail = typeof data?.detail === "string" ? data.detail : "Please check the fields.";
    throw new Error(detail);
  }
  return data;
}

function showLogin(message = "") {
  sessionStorage.removeItem(KEY);
  $("me-account").hidden = true;
  $("me-logout").hidden = true;
  $("me-login").hidden = false;
  $("me-login-error").textContent = message;
  $("me-login-error").hidden = !message;
}

function item(text, detail) {
  const li = document.createElement("li");
  const main = document.createElement("span");
  main.textContent = text;
  const side = document.createElement("span");
  side.className = "muted";
  side.textContent = detail;
  li.append(main, side);
  return li;
}

const when = (iso) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

async function showAccount() {
  const [me, sessions, ledger] = await Promise.all([
    call("GET", "/customers/me"),
    call("GET", "/me/sessions?limit=20"),
    call("GET", "/customers/me/ledger?per_page=20"),
  ]);
  $("me-name").textContent = me.full_name || me.username;
  $("me-balance").textContent = money(me.balance);
  $("me-sessions").replaceChildren(
    ...sessions.map((s) => item(`${s.station} · ${when(s.started_at)}`, money(s.amount_total))),
  );
  if (!sessions.length) $("me-sessions").append(item("No sessions yet", ""));
  $("me-ledger").replaceChildren(
    ...ledger.items.map((e) => item(`${e.reason || e.kind.toLowerCase()} · ${when(e.created_at)}`, money(e.amount))),
  );
  $("me-login").hidden = true;
  $("me-account").hidden = false;
  $("me-logout").hidden = false;
}

$("me-login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const pair = await call("POST", "/auth/login", {
      username: form.elements.username.value.trim(),
      password: form.elements.password.value,
    });
    sessionStorage.setItem(KEY, pair.access_token);
    form.elements.password.value = "";
    await showAccount();
  } catch (err) {
    showLogin(err.message);
  }
});

$("me-pin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const result = $("me-pin-result");
  try {
    await call("POST", "/me/pin", {
      current: form.elements.current.value,
      new_pin: form.elements.new_pin.value,
    });
    result.textContent = "Your PIN is changed. Use it at the PCs from now on.";
    result.className = "notice";
  } catch (err) {
    result.textContent = err.message;
    result.className = "error";
  }
  result.hidden = false;
  form.reset();
});

$("me-logout").addEventListener("click", () => showLogin());

if (token()) showAccount().catch(() => showLogin()); else showLogin();
