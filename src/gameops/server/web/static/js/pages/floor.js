// The floor: a card per station, grouped by zone (or a compact list), filtered and searched;
// live events are applied to the cards they touch (the stations they name are re-read, in
// one batched request), never the whole floor per event. The countdown ticks locally.

import { api, ApiError, clearError, oneAction, showError } from "../api.js";
import { minutesPicker, openDialog } from "../dialogs.js";
import "./floor-bookings.js";
import { moveTargets, stopQuestion, waitingText } from "./floor-till.js";
import * as feed from "../feed.js";
import { clock, debounce, el, money, timeBand, timeOfDay, timeWithSeconds } from "../format.js";
import { t, tEnum } from "../i18n.js";
import { customerPicker } from "../picker.js";
import { boot } from "../shell.js";

const root = document.getElementById("floor");
const floorError = document.getElementById("floor-error");
const summary = document.getElementById("floor-summary");
const empty = document.getElementById("floor-empty");
const tools = document.getElementById("floor-tools");
const stations = new Map(); // station id -> the station as GET /floor gave it, events applied
const cards = new Map(); // station id -> card
const zones = new Map(); // zone name -> section
let skewMs = 0; // server clock minus ours
let isAdmin = false;
const BATCH_MS = 100; // events within this window cost one request
const MAX_IDS = 500; // per request, as the API allows
const POWER_SECONDS = Number(document.body.dataset.powerSeconds || 60);
const ATTENTION = new Set(["ERROR", "TAMPER_LOCKED", "CLIENT_STOPPED", "PENDING"]);

if (document.body.dataset.card !== "yes") {
  // No payment gateway: Card is not offered at all.
  for (const option of document.querySelectorAll('option[value="CARD"]')) option.remove();
}

/** Show what the server would charge (GET /pricing/quote) in the dialog's price line, and
 * the plan it used in its rate line (emptied now). Debounced; only the newest answer shows. */
function quoter(dialog) {
  const price = dialog.querySelector('[data-field="price"]');
  const basis = dialog.querySelector('[data-field="rate"]');
  basis.textContent = "";
  let asked = 0;
  return debounce(async (params) => {
    const mine = ++asked;
    if (!(params.minutes > 0)) {
      price.textContent = "";
      return;
    }
    try {
      const quote = await api("GET", "/pricing/quote", { params });
      if (mine !== asked) return;
      price.textContent = t("floor.to_pay", { amount: money(quote.amount) });
      const parts = [quote.plan];
      if (quote.member) parts.push(t("floor.member_rate"));
      if (quote.basis === "package" && quote.package) parts.push(t("floor.package", { name: quote.package.name }));
      basis.textContent = parts.join(" · ");
    } catch (err) {
      if (mine === asked) price.textContent = err.message;
    }
  }, 150);
}

let loads = 0; // only the newest whole-floor answer is drawn

/** Read the whole floor: at start and after the feed (re)connects. */
async function loadAll() {
  const mine = ++loads;
  try {
    const floor = await api("GET", "/floor");
    if (mine !== loads) return;
    skewMs = Date.parse(floor.server_time) - Date.now();
    stations.clear();
    for (const station of floor.stations) stations.set(station.id, station);
    render();
    clearError(floorError);
  } catch (err) {
    showError(floorError, err);
  }
}

const wanted = new Set(); // stations to re-read
let batch = null;
// A re-read's answer can be older than what came since: a newer re-read of the station, or an
// event applied while it was on its way (another screen's change). Such an answer is not drawn.
let reads = 0;
const newestRead = new Map(); // station id -> the newest re-read asking for it
const eventsSeen = new Map(); // station id -> events about it so far

/** Re-read these stations soon, together with any others named meanwhile. */
function refresh(...ids) {
  for (const id of ids) wanted.add(id);
  batch ??= setTimeout(readWanted, BATCH_MS);
}

async function readWanted() {
  batch = null;
  const ids = [...wanted].slice(0, MAX_IDS);
  for (const id of ids) wanted.delete(id);
  if (wanted.size) refresh();
  if (!ids.length) return;
  const mine = ++reads;
  const eventsBefore = new Map(ids.map((id) => [id, eventsSeen.get(id) ?? 0]));
  for (const id of ids) newestRead.set(id, mine);
  try {
    const floor = await api("GET", "/floor", { params: new URLSearchParams(ids.map((id) => ["station_id", id])) });
    skewMs = Date.parse(floor.server_time) - Date.now();
    const seen = new Set();
    let moved = false;
    for (const station of floor.stations) {
      seen.add(station.id);
      if (newestRead.get(station.id) !== mine) continue; // the newer re-read draws it
      if ((eventsSeen.get(station.id) ?? 0) !== eventsBefore.get(station.id)) {
        refresh(station.id); // may predate the event: read it again
        continue;
      }
      const before = stations.get(station.id);
      moved ||= !before || before.zone !== station.zone || before.name !== station.name;
      stations.set(station.id, station);
    }
    for (const id of ids) {
      if (!seen.has(id) && stations.delete(id)) moved = true; // archived
    }
    if (moved) render();
    else for (const id of seen) redraw(id);
    clearError(floorError);
  } catch (err) {
    showError(floorError, err);
  }
}

/** What an event says about a station, applied to it at once (the re-read confirms it). */
const APPLY = {
  STATION_STATUS_CHANGED: (station, data) => { station.status = data.to; },
  AGENT_CONNECTED: (station) => { station.agent_connected = true; },
  AGENT_DISCONNECTED: (station) => { station.agent_connected = false; },
  SESSION_EXTENDED: (station, data) => {
    if (!station.session) return;
    station.session.scheduled_end_at = data.scheduled_end_at;
    station.session.amount_total = data.amount_total;
    station.session.booked_minutes = data.booked_minutes;
  },
};
// These say all there is: no re-read needed.
const COMPLETE = new Set(["STATION_STATUS_CHANGED", "AGENT_CONNECTED", "SESSION_EXTENDED"]);

function onEvent(event) {
  const id = event.station_id;
  if (!id) return;
  eventsSeen.set(id, (eventsSeen.get(id) ?? 0) + 1);
  const station = stations.get(id);
  if (event.type === "STATION_DELETED") {
    if (stations.delete(id)) render();
    return;
  }
  if (station && APPLY[event.type]) {
    APPLY[event.type](station, event.data ?? {});
    redraw(id);
  }
  if (!station || !COMPLETE.has(event.type)) refresh(id);
}

function redraw(id) {
  const card = cards.get(id);
  const station = stations.get(id);
  if (!card || !station) return;
  update(card, station);
  filterCard(card);
  renderSummary();
}

const byName = (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true });

function render() {
  const byZone = new Map();
  for (const station of [...stations.values()].sort(byName)) {
    const zone = station.zone || "";
    if (!byZone.has(zone)) byZone.set(zone, []);
    byZone.get(zone).push(station);
  }
  const names = [...byZone.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  names.forEach((zone, index) => place(root, zoneSection(zone), index));
  for (const [zone, section] of zones) {
    if (!byZone.has(zone)) {
      section.remove();
      zones.delete(zone);
    }
  }
  for (const [zone, list] of byZone) {
    const grid = zones.get(zone).querySelector(".cards");
    list.forEach((station, index) => {
      const card = cards.get(station.id) ?? createCard(station.id);
      update(card, station);
      place(grid, card.node, index);
    });
  }
  for (const [id, card] of cards) {
    if (!stations.has(id)) {
      card.node.remove();
      cards.delete(id);
    }
  }
  empty.hidden = stations.size > 0;
  tools.hidden = stations.size === 0;
  fillZoneFilter(names);
  applyFilters();
  tick();
}

/** Put `node` at `index` in `parent` without moving it when it is already there (moving
 * a node would drop the keyboard focus inside it). */
function place(parent, node, index) {
  if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] ?? null);
}

function zoneSection(zone) {
  if (!zones.has(zone)) {
    const name = zone || t("floor.no_zone");
    const title = el("h2", {}, name);
    zones.set(zone, el("section", { class: "zone", "data-zone": zone, "aria-label": t("floor.zone", { name }) }, title, el("div", { class: "cards" })));
  }
  return zones.get(zone);
}

function renderSummary() {
  const all = [...stations.values()];
  const count = (status) => all.filter((s) => s.status === status).length;
  const parts = [
    t("floor.count", { count: all.length }),
    t("floor.count_in_session", { count: count("IN_SESSION") }),
    t("floor.count_available", { count: count("ONLINE") }),
    t("floor.count_offline", { count: count("OFFLINE") }),
    t("floor.count_maintenance", { count: count("MAINTENANCE") }),
  ];
  const locked = all.filter((s) => s.tamper_locked_at).length;
  if (locked) parts.push(t("floor.count_locked", { count: locked }));
  summary.textContent = all.length ? parts.join(" · ") : "";
}

// ---- filters, search and the list view -------------------------------------------------

const filterForm = document.getElementById("floor-filters");
const VIEW_KEY = "gameops.floor.view";

function fillZoneFilter(names) {
  const select = filterForm.elements.zone;
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "*" }, t("floor.all_zones")),
    ...names.map((zone) => el("option", { value: zone }, zone || t("floor.no_zone"))),
  );
  select.value = names.includes(chosen) ? chosen : "*";
}

function matchesFilters(station) {
  const { status, zone, q } = filterForm.elements;
  const shown = displayStatus(station);
  if (status.value === "ATTENTION" ? !ATTENTION.has(shown) : status.value && status.value !== shown) return false;
  if (zone.value !== "*" && (station.zone || "") !== zone.value) return false;
  const text = q.value.trim().toLowerCase();
  if (!text) return true;
  return station.name.toLowerCase().includes(text) || (station.session?.customer_name ?? "").toLowerCase().includes(text);
}

function filterCard(card) {
  card.node.hidden = !matchesFilters(card.station);
}

function applyFilters() {
  let shown = 0;
  for (const card of cards.values()) {
    filterCard(card);
    if (!card.node.hidden) shown += 1;
  }
  for (const section of zones.values()) section.hidden = ![...section.querySelectorAll(".card")].some((node) => !node.hidden);
  const filtering = shown !== cards.size;
  const note = document.getElementById("floor-shown");
  note.hidden = !filtering;
  note.textContent = t("floor.shown", { shown, count: cards.size });
  renderSummary();
}

function setView(view) {
  root.dataset.view = view;
  localStorage.setItem(VIEW_KEY, view);
  for (const button of document.querySelectorAll("[data-view]")) button.setAttribute("aria-pressed", String(button.dataset.view === view));
}

filterForm.addEventListener("input", applyFilters); // at once: "Select all" takes what is shown
filterForm.addEventListener("submit", (event) => event.preventDefault());
for (const button of document.querySelectorAll("[data-view]")) button.addEventListener("click", () => setView(button.dataset.view));
setView(localStorage.getItem(VIEW_KEY) === "list" ? "list" : "cards");

// ---- cards -------------------------------------------------------------------------------

function createCard(id) {
  const part = (tag, cls) => el(tag, { class: cls });
  const card = {
    id,
    station: null,
    endsAt: null,
    name: part("h3", "name"),
    type: part("span", "type"),
    status: part("span", "status"),
    customer: part("p", "customer"),
    timer: el("p", { class: "timer", "aria-label": t("floor.time_left") }),
    power: el("p", { class: "power", hidden: true }),
    alert: el("p", { class: "alert", hidden: true }),
    guard: el("p", { class: "guard", role: "status", hidden: true }),
    note: el("p", { class: "note", hidden: true }),
    error: el("p", { class: "error", role: "alert", hidden: true }),
    buttons: {
      start: el("button", { type: "button", class: "primary", "data-action": "start" }, t("floor.start")),
      extend: el("button", { type: "button", "data-action": "extend" }, t("floor.extend")),
      stop: el("button", { type: "button", class: "danger", "data-action": "stop" }, t("floor.stop")),
      maintenance: el("button", { type: "button", class: "ghost", "data-action": "maintenance" }),
      confirm: el("button", { type: "button", class: "primary", "data-action": "confirm" }, t("floor.card_paid")),
      calloff: el("button", { type: "button", class: "danger", "data-action": "calloff" }, t("floor.call_off")),
      untamper: el("button", { type: "button", class: "danger", "data-action": "untamper" }, t("floor.clear_tamper")),
      move: el("button", { type: "button", "data-action": "move" }, t("floor.move")),
      void: el("button", { type: "button", class: "danger", "data-action": "void" }, t("floor.refund_sale")),
    },
  };
  const head = el("header", {}, card.name, card.type);
  const actions = el("div", { class: "actions" }, ...Object.values(card.buttons));
  card.node = el(
    "article",
    { class: "card", "data-station-id": id },
    head, card.status, card.customer, card.timer, card.power, card.alert, card.guard, card.note, card.error, actions,
  );
  actions.addEventListener("click", (event) => {
    const action = event.target.closest("button")?.dataset.action;
    if (action) ACTIONS[action](card);
  });
  cards.set(id, card);
  return card;
}

function displayStatus(station) {
  if (station.tamper_locked_at) return "TAMPER_LOCKED";
  if (station.agent_stop && !station.agent_connected) return "CLIENT_STOPPED";
  if (station.session?.status === "PENDING_PAYMENT") return "PENDING";
  if (station.alert && station.status !== "IN_SESSION") return "ERROR";
  return station.status;
}

function update(card, station) {
  card.station = station;
  const status = displayStatus(station);
  const session = station.session;
  card.node.dataset.status = status;
  card.node.dataset.name = station.name;
  card.node.setAttribute("aria-label", `${station.name}: ${tEnum("floor_status", status)}`);
  card.name.textContent = station.name;
  card.type.textContent = tEnum("station_type_short", station.type);
  const waitingForPc = Boolean(session?.waiting_since);
  const running = session?.status === "ACTIVE" && !waitingForPc;
  const agentGone = running && station.type === "PC" && !station.agent_connected && status !== "CLIENT_STOPPED";
  card.status.textContent = waitingForPc
    ? t("floor.waiting_for_pc")
    : tEnum("floor_status", status) + (agentGone ? ` · ${t("floor.agent_offline")}` : "");
  card.node.dataset.waiting = waitingForPc ? (session.start_overdue ? "overdue" : "yes") : "";
  card.customer.textContent = session ? session.customer_name ?? t("common.walk_in") : "";
  card.customer.hidden = !session;
  card.endsAt = running ? Date.parse(session.scheduled_end_at) - skewMs : null;
  card.timer.hidden = !running;
  card.power.hidden = station.power_watts === null || station.power_watts === undefined;
  if (!card.power.hidden) card.power.textContent = powerText(station);
  card.alert.hidden = !station.alert;
  if (station.alert) card.alert.textContent = alertText(station.alert);
  const guard = guardText(station);
  card.guard.hidden = !guard;
  card.guard.textContent = guard;
  const stillThere = station.agent_stop?.in_use || station.agent_stop?.router_sees;
  card.guard.dataset.flag = stillThere && !station.agent_connected ? "in-use" : "";
  const waiting = Boolean(session?.pending_payment_id);
  if (waiting) {
    card.note.textContent = running ? t("floor.extension_waiting") : t("floor.card_waiting", { amount: money(session.amount_total) });
    card.note.dataset.kind = "payment";
    card.note.hidden = false;
  } else if (waitingForPc) {
    card.note.textContent = waitingText(session);
    card.note.dataset.kind = "waiting";
    card.note.hidden = false;
  } else if (!session || ["payment", "waiting"].includes(card.note.dataset.kind)) {
    card.note.hidden = true; // a sale's warning stays while its session runs
  }
  const b = card.buttons;
  b.start.hidden = Boolean(session) || !["ONLINE", "OFFLINE"].includes(station.status);
  b.extend.hidden = b.stop.hidden = !running;
  b.confirm.hidden = !waiting;
  b.calloff.hidden = !session || session.status !== "PENDING_PAYMENT";
  b.move.hidden = b.void.hidden = !waitingForPc;
  b.maintenance.hidden = !isAdmin || Boolean(session);
  b.maintenance.textContent = station.status === "MAINTENANCE" ? t("floor.back_in_service") : t("floor.maintenance");
  b.untamper.hidden = !station.tamper_locked_at;
  if (station.tamper_locked_at) b.start.hidden = true;
}

/** The station's defences: its tamper lock, or its client stopped (who, when, evidence). */
function guardText(station) {
  if (station.tamper_locked_at) {
    const lock = station.tamper_lock ?? {};
    const what = lock.detail || tEnum("tamper", lock.kind || "tamper");
    return t("floor.tamper_locked", { at: timeWithSeconds(station.tamper_locked_at), what });
  }
  const stop = station.agent_stop;
  if (!stop || station.agent_connected) return "";
  const parts = [t("floor.client_stopped", { reason: tEnum("stop_reason", stop.reason), at: timeWithSeconds(station.agent_stopped_at) })];
  if (stop.by) parts.push(t("floor.stopped_by", { by: stop.by }));
  if (stop.users?.length) parts.push(t("floor.logged_on", { users: stop.users.join(", ") }));
  if (stop.in_use) parts.push(t("floor.in_use", { seconds: stop.idle_seconds }));
  if (stop.router_sees) parts.push(t("floor.router_sees"));
  return parts.join(" · ");
}

function powerText(station) {
  const relay = station.relay_on === false ? t("floor.plug_off") : t("floor.plug_on");
  const at = station.power_at ? ` · ${timeWithSeconds(station.power_at)}` : "";
  return `⚡ ${Math.round(station.power_watts)} W · ${relay}${at}`;
}

function alertText(alert) {
  const detail = alert.data.detail || alert.data.kind || alert.data.error || "";
  const what = tEnum("event_type", alert.type);
  return `${what} · ${timeWithSeconds(alert.created_at)}${detail ? `: ${detail}` : ""}`;
}

function tick() {
  const now = Date.now();
  for (const card of cards.values()) {
    if (card.endsAt === null) continue;
    const left = (card.endsAt - now) / 1000;
    const text = clock(Math.ceil(left));
    if (card.timer.textContent !== text) card.timer.textContent = text;
    const band = timeBand(left);
    if (card.timer.dataset.band !== band) card.timer.dataset.band = band;
  }
}

function cardError(card, err) {
  if (err) showError(card.error, err);
  else clearError(card.error);
}

/** Run a card's one-click action: the button waits, the error shows on the card. */
async function cardAction(card, name, call) {
  card.buttons[name].disabled = true;
  try {
    await call();
    cardError(card, null);
    refresh(card.id);
  } catch (err) {
    cardError(card, err);
  } finally {
    card.buttons[name].disabled = false;
  }
}

/** The start dialog's confirmation when a booking holds the station (409 naming it): it
 * says whose booking, when, and its deposit; the next submit overrides that booking only,
 * releasing it with the deposit refunded or kept as chosen. */
function heldPanel(dialog, label) {
  const panel = dialog.querySelector('[data-field="held"]');
  const submit = dialog.querySelector('button[type="submit"]');
  const choice = dialog.querySelector('[name="held_deposit"]');
  let booking = null;
  const reset = () => {
    booking = null;
    panel.hidden = true;
    choice.value = "refund";
    submit.textContent = label;
  };
  reset();
  return {
    reset,
    override: () => (booking ? { override_reservation_id: booking.reservation_id, keep_deposit: choice.value === "keep" } : {}),
    refused(err) {
      if (err instanceof ApiError && err.status === 409 && err.body?.reservation_id) {
        booking = err.body;
        const times = `${timeOfDay(booking.starts_at)}–${timeOfDay(booking.ends_at)}`;
        const values = { station: booking.station_name, customer: booking.customer_name, times, deposit: money(booking.deposit) };
        panel.querySelector('[data-field="held-text"]').textContent = t(booking.deposit ? "floor.held_text" : "floor.held_text_no_deposit", values);
        panel.querySelector('[data-field="held-choice"]').hidden = !booking.deposit;
        panel.hidden = false;
        submit.textContent = t("floor.held_confirm");
      }
      throw err;
    },
  };
}

const confirmations = new Map(); // payment id -> its one action (the same key on a retry)

const ACTIONS = {
  start(card) {
    const dialog = document.getElementById("start-dialog");
    const form = dialog.querySelector("form");
    const station = card.station;
    dialog.querySelector("#start-title").textContent = t("floor.start_title", { name: station.name });
    const quote = quoter(dialog);
    const chosen = { minutes: 0, customer: null };
    const ask = () => quote({ station_id: station.id, minutes: chosen.minutes, user_id: chosen.customer?.id });
    const minutes = minutesPicker(form, (m) => {
      chosen.minutes = m;
      ask();
    });
    const method = form.elements.payment_method;
    const customer = customerPicker(form, (picked) => {
      chosen.customer = picked;
      method.querySelector('[value="BALANCE"]').disabled = !picked;
      method.value = picked && picked.balance > 0 ? "BALANCE" : "CASH";
      ask();
    });
    const sale = oneAction(); // a double click or a retry is the same sale
    const held = heldPanel(dialog, t("floor.start"));
    openDialog(dialog, async () => {
      const body = {
        station_id: station.id,
        duration_minutes: minutes(),
        payment_method: method.value,
        user_id: customer()?.id ?? null,
        ...held.override(),
      };
      const started = await sale.run((key) => api("POST", "/sessions/start", { body, idempotencyKey: key })).catch(held.refused);
      cardError(card, null);
      card.note.textContent = (started.warnings ?? []).join(" ");
      card.note.dataset.kind = "warning";
      card.note.hidden = !started.warnings?.length;
      return () => refresh(station.id);
    });
  },
  extend(card) {
    const dialog = document.getElementById("extend-dialog");
    const form = dialog.querySelector("form");
    const station = card.station;
    dialog.querySelector("#extend-title").textContent = t("floor.extend_title", { name: station.name });
    const quote = quoter(dialog);
    const session = station.session;
    const minutes = minutesPicker(form, (m) => quote({ station_id: station.id, minutes: m, session_id: session.id }));
    const method = form.elements.payment_method;
    method.querySelector('[value="BALANCE"]').disabled = !session.customer_id;
    method.value = session.customer_id ? "BALANCE" : "CASH";
    const extension = oneAction();
    openDialog(dialog, async () => {
      const body = { additional_minutes: minutes(), payment_method: method.value };
      const extended = await extension.run((key) => api("PUT", `/sessions/${session.id}/extend`, { body, idempotencyKey: key }));
      cardError(card, null);
      if (extended.warnings?.length) {
        card.note.textContent = extended.warnings.join(" "); // it runs into a booking
        card.note.dataset.kind = "warning";
        card.note.hidden = false;
      }
      return () => refresh(station.id);
    });
  },
  async stop(card) {
    const dialog = document.getElementById("stop-dialog");
    const station = card.station;
    try {
      const { text } = await stopQuestion(station.session, station.name);
      dialog.querySelector('[data-field="question"]').textContent = text;
    } catch (err) {
      return cardError(card, err);
    }
    openDialog(dialog, async () => {
      const stopped = await api("DELETE", `/sessions/${station.session.id}`);
      cardError(card, null);
      const key = stopped.refund_way === "cash" ? "floor.refunded_cash" : "floor.refunded_balance";
      card.note.textContent = stopped.refunded ? t(key, { amount: money(stopped.refunded) }) : "";
      card.note.dataset.kind = "warning";
      card.note.hidden = !stopped.refunded;
      return () => refresh(station.id);
    });
  },
  move(card) {
    const dialog = document.getElementById("move-dialog");
    const station = card.station;
    const select = dialog.querySelector("select");
    const free = moveTargets(select, [...cards.values()].map((c) => c.station).filter(Boolean), station);
    dialog.querySelector('[data-field="question"]').textContent = free
      ? t("floor.move_question", { name: station.name, amount: money(station.session.amount_total) })
      : t("floor.move_none_free");
    const held = heldPanel(dialog, t("floor.move_confirm"));
    select.onchange = held.reset; // another PC: another booking, if any
    openDialog(dialog, async () => {
      const target = select.value;
      const body = { station_id: target, ...held.override() };
      await api("POST", `/sessions/${station.session.id}/move`, { body }).catch(held.refused);
      cardError(card, null);
      return () => refresh(station.id, target);
    });
  },
  void(card) {
    const dialog = document.getElementById("void-dialog");
    const station = card.station;
    dialog.querySelector('[data-field="question"]').textContent = t("floor.void_question", {
      name: station.name,
      amount: money(station.session.amount_total),
    });
    const giveBack = oneAction(); // a retry gives back once
    openDialog(dialog, async () => {
      await giveBack.run((key) => api("POST", `/sessions/${station.session.id}/void`, { idempotencyKey: key }));
      cardError(card, null);
      return () => refresh(station.id);
    });
  },
  async confirm(card) {
    const paymentId = card.station.session.pending_payment_id;
    if (!confirmations.has(paymentId)) confirmations.set(paymentId, oneAction());
    await cardAction(card, "confirm", () =>
      confirmations.get(paymentId).run((key) => api("POST", `/payments/${paymentId}/confirm`, { idempotencyKey: key })),
    );
  },
  async untamper(card) {
    await cardAction(card, "untamper", () => api("DELETE", `/stations/${card.station.id}/tamper-lock`));
  },
  async calloff(card) {
    await cardAction(card, "calloff", () => api("DELETE", `/sessions/${card.station.session.id}`));
  },
  async maintenance(card) {
    const status = card.station.status === "MAINTENANCE" ? "ONLINE" : "MAINTENANCE";
    await cardAction(card, "maintenance", () => api("PATCH", `/stations/${card.station.id}`, { body: { status } }));
  },
};

const { isAdmin: admin } = await boot();
isAdmin = admin;
document.getElementById("empty-admin").hidden = !isAdmin;
document.getElementById("empty-operator").hidden = isAdmin;
feed.on("event", onEvent);
feed.on("sync", ({ gap }) => {
  if (gap || !stations.size) loadAll();
});
await loadAll();
setInterval(tick, 1000);
// Plug readings change without audit events: re-read the plugged consoles (only those) as
// often as the server samples them.
setInterval(() => {
  const plugged = [...stations.values()].filter((s) => s.controller?.shelly).map((s) => s.id);
  if (plugged.length) refresh(...plugged);
}, POWER_SECONDS * 1000);
