// The member's own page (/me): balance, sessions, top-ups, change PIN. Mobile first; its
// own login (a customer's token never opens the staff dashboard, nor the reverse here).

import { money } from "../format.js";

const KEY = "gameops.me";
const $ = (id) => document.getElementById(id);

function token() {
  return sessionStorage.getItem(KEY);
}

async function call(method, path, body, idempotencyKey = null) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
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
  await showBookings();
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

// --- bookings: a PC or any PC in a zone, for a time; the deposit comes off the balance ---

async function showBookings() {
  const [options, mine] = await Promise.all([call("GET", "/reservations/options"), call("GET", "/me/reservations")]);
  bookable = options;
  const select = $("me-book-form").elements.where;
  if (!select.options.length) {
    for (const zone of options.zones) select.append(new Option(`Any PC in ${zone}`, `zone:${zone}`));
    for (const pc of options.stations) select.append(new Option(pc.zone ? `${pc.name} (${pc.zone})` : pc.name, `station:${pc.id}`));
  }
  const deposit = options.deposit ? `A deposit of ${money(options.deposit)} comes off your balance now; ` : "";
  const noShow = options.no_show_keeps_deposit ? "kept" : "refunded";
  $("me-book-terms").textContent =
    `${deposit}it pays for your play when you log in at the booked PC (or start at the desk). ` +
    `Cancel before the start for it back; not there ${options.no_show_minutes} min after the start: the PC is released and the deposit ${noShow}.`;
  const list = $("me-bookings");
  list.replaceChildren(...mine.map(bookingItem));
  if (!mine.length) list.append(item("No bookings", ""));
}

function bookingItem(booking) {
  const li = item(`${booking.station_name} · ${when(booking.starts_at)}`, booking.status.toLowerCase().replace("_", " "));
  li.dataset.reservationId = booking.id;
  if (booking.status === "BOOKED" && Date.parse(booking.starts_at) > Date.now()) {
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "ghost";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", async () => {
      try {
        await call("POST", `/reservations/${booking.id}/cancel`, {});
        await showAccount();
      } catch (err) {
        bookResult(err.message, "error");
      }
    });
    const move = document.createElement("button");
    move.type = "button";
    move.className = "ghost";
    move.textContent = "Move";
    move.addEventListener("click", () => {
      if (!li.querySelector("form")) li.append(moveForm(booking));
    });
    li.append(move, cancel);
  }
  return li;
}

let bookable = { stations: [], zones: [] };

/** The phone's wall clock of `iso`, as a datetime-local input wants it. */
function localInput(iso) {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** Move a booking before it starts: another PC, time or length; the deposit stays. */
function moveForm(booking) {
  const form = document.createElement("form");
  form.className = "me-move";
  form.noValidate = true;
  const where = document.createElement("select");
  where.name = "where";
  if (booking.zone) where.append(new Option(`Any PC in ${booking.zone}`, ""));
  for (const pc of bookable.stations) where.append(new Option(pc.zone ? `${pc.name} (${pc.zone})` : pc.name, pc.id));
  where.value = booking.zone ? "" : booking.station_id;
  const starts = document.createElement("input");
  starts.type = "datetime-local";
  starts.name = "starts_at";
  starts.step = "900";
  starts.value = localInput(booking.starts_at);
  const minutes = document.createElement("select");
  minutes.name = "minutes";
  const length = Math.round((Date.parse(booking.ends_at) - Date.parse(booking.starts_at)) / 60_000);
  for (const m of new Set([length, 60, 120, 180, 240])) minutes.append(new Option(m % 60 ? `${m} min` : `${m / 60} hour${m > 60 ? "s" : ""}`, String(m)));
  minutes.value = String(length);
  const labelled = (text, field) => {
    const label = document.createElement("label");
    label.append(`${text} `, field);
    return label;
  };
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "primary";
  save.textContent = "Save the move";
  form.append(labelled("Station", where), labelled("From", starts), labelled("For", minutes), save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const start = new Date(starts.value);
    if (Number.isNaN(start.getTime())) return bookResult("Choose when.", "error");
    save.disabled = true;
    try {
      const body = { starts_at: start.toISOString(), minutes: Number(minutes.value), ...(where.value ? { station_id: where.value } : {}) };
      // A retry of the same move sends the same key: it moves once.
      const moved = await call("PATCH", `/reservations/${booking.id}`, body, bookingKey({ move: booking.id, ...body }));
      lastBooking = { body: "", key: "" };
      bookResult(`${moved.message}, ${when(moved.starts_at)}. The deposit stays as it is.`, "notice");
      await showAccount();
    } catch (err) {
      bookResult(err.message, "error");
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

let lastBooking = { body: "", key: "" };

/** The same key for the same booking asked again (after a lost answer), else a new one. */
function bookingKey(body) {
  const text = JSON.stringify(body);
  if (lastBooking.body !== text) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    lastBooking = { body: text, key: `me-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` };
  }
  return lastBooking.key;
}

function bookResult(text, kind) {
  const result = $("me-book-result");
  result.textContent = text;
  result.className = kind;
  result.hidden = false;
}

$("me-book-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const [kind, value] = form.elements.where.value.split(/:(.*)/s);
  const starts = new Date(form.elements.starts_at.value); // the phone's clock is the venue's
  if (Number.isNaN(starts.getTime())) return bookResult("Choose when.", "error");
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true; // one tap, one booking
  try {
    const body = {
      [kind === "zone" ? "zone" : "station_id"]: value,
      starts_at: starts.toISOString(),
      minutes: Number(form.elements.minutes.value),
    };
    // A retry of the same booking sends the same key: one booking, one deposit.
    const booked = await call("POST", "/reservations", body, bookingKey(body));
    lastBooking = { body: "", key: "" }; // booked: the next one is a new booking
    bookResult(`Booked: ${booked.message}, ${when(booked.starts_at)}.`, "notice");
    await showAccount();
  } catch (err) {
    bookResult(err.message, "error");
  } finally {
    button.disabled = false;
  }
});

$("me-logout").addEventListener("click", () => showLogin());

if (token()) showAccount().catch(() => showLogin()); else showLogin();
