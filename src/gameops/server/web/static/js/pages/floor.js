// The floor: a card per station, grouped by zone, updated from the live feed, with the
// countdown ticking locally every second.

import { api, clearError, showError } from "../api.js";
import { minutesPicker, openDialog } from "../dialogs.js";
import { moveTargets, stopQuestion, waitingText } from "./floor-till.js";
import * as feed from "../feed.js";
import { clock, debounce, el, money, timeBand, words } from "../format.js";
import { customerPicker } from "../picker.js";
import { boot } from "../shell.js";

const root = document.getElementById("floor");
const floorError = document.getElementById("floor-error");
const summary = document.getElementById("floor-summary");
const cards = new Map(); // station id -> card
const zones = new Map(); // zone name -> section
let skewMs = 0; // server clock minus ours
let isAdmin = false;
const POWER_REFRESH_MS = 5_000;

const STATUS_TEXT = {
  ONLINE: "Available",
  OFFLINE: "Offline",
  IN_SESSION: "In session",
  MAINTENANCE: "Maintenance",
  ERROR: "Error", // a console's plug or router not answering, or a recent agent/device error
  PENDING: "Waiting for card payment",
  TAMPER_LOCKED: "Tamper lock",
  CLIENT_STOPPED: "Client stopped",
};

/** Show what the server would charge (GET /pricing/quote) in `price`, and the plan it
 * used in `basis`. Debounced; only the newest answer is shown. */
function quoter(price, basis) {
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
      price.textContent = `To pay: ${money(quote.amount)}`;
      const via = quote.basis === "package" && quote.package ? ` · package ${quote.package.name}` : "";
      basis.textContent = `${quote.plan}${quote.member ? " · member rate" : ""}${via}`;
    } catch (err) {
      if (mine === asked) price.textContent = err.message;
    }
  }, 150);
}

let loads = 0; // only the newest answer is drawn: an older one may arrive after it

async function load() {
  const mine = ++loads;
  try {
    const floor = await api("GET", "/floor");
    if (mine !== loads) return;
    skewMs = Date.parse(floor.server_time) - Date.now();
    render(floor.stations);
    clearError(floorError);
  } catch (err) {
    showError(floorError, err);
  }
}

function render(stations) {
  const byZone = new Map();
  for (const station of stations) {
    const zone = station.zone || "No zone";
    if (!byZone.has(zone)) byZone.set(zone, []);
    byZone.get(zone).push(station);
  }
  const names = [...byZone.keys()].sort((a, b) => (a === "No zone") - (b === "No zone") || a.localeCompare(b));
  names.forEach((zone, index) => place(root, zoneSection(zone), index));
  for (const [zone, section] of zones) {
    if (!byZone.has(zone)) {
      section.remove();
      zones.delete(zone);
    }
  }
  const seen = new Set();
  for (const [zone, list] of byZone) {
    const grid = zones.get(zone).querySelector(".cards");
    list.forEach((station, index) => {
      seen.add(station.id);
      const card = cards.get(station.id) ?? createCard(station.id);
      update(card, station);
      place(grid, card.node, index);
    });
  }
  for (const [id, card] of cards) {
    if (!seen.has(id)) {
      card.node.remove();
      cards.delete(id);
    }
  }
  renderSummary(stations);
  tick();
}

/** Put `node` at `index` in `parent` without moving it when it is already there (moving
 * a node would drop the keyboard focus inside it). */
function place(parent, node, index) {
  if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] ?? null);
}

function zoneSection(zone) {
  if (!zones.has(zone)) {
    const title = el("h2", {}, zone);
    zones.set(zone, el("section", { class: "zone", "aria-label": `Zone ${zone}` }, title, el("div", { class: "cards" })));
  }
  return zones.get(zone);
}

function renderSummary(stations) {
  const count = (status) => stations.filter((s) => s.status === status).length;
  summary.textContent =
    `${stations.length} stations · ${count("IN_SESSION")} in session · ` +
    `${count("ONLINE")} available · ${count("OFFLINE")} offline · ${count("MAINTENANCE")} in maintenance`;
  const locked = stations.filter((s) => s.tamper_locked_at).length;
  if (locked) summary.textContent += ` · ${locked} tamper-locked`;
}

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
    timer: el("p", { class: "timer", "aria-label": "Time left" }),
    power: el("p", { class: "power", hidden: true }),
    alert: el("p", { class: "alert", hidden: true }),
    guard: el("p", { class: "guard", role: "status", hidden: true }),
    note: el("p", { class: "note", hidden: true }),
    error: el("p", { class: "error", role: "alert", hidden: true }),
    buttons: {
      start: el("button", { type: "button", class: "primary", "data-action": "start" }, "Start"),
      extend: el("button", { type: "button", "data-action": "extend" }, "Extend"),
      stop: el("button", { type: "button", class: "danger", "data-action": "stop" }, "Stop"),
      maintenance: el("button", { type: "button", class: "ghost", "data-action": "maintenance" }),
      confirm: el("button", { type: "button", class: "primary", "data-action": "confirm" }, "Card paid"),
      calloff: el("button", { type: "button", class: "danger", "data-action": "calloff" }, "Call off"),
      untamper: el("button", { type: "button", class: "danger", "data-action": "untamper" }, "Clear tamper lock"),
      move: el("button", { type: "button", "data-action": "move" }, "Move"),
      void: el("button", { type: "button", class: "danger", "data-action": "void" }, "Refund"),
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
  card.node.setAttribute("aria-label", `${station.name}: ${STATUS_TEXT[status]}`);
  card.name.textContent = station.name;
  card.type.textContent = station.type === "CONSOLE" ? "Console" : "PC";
  const waitingForPc = Boolean(session?.waiting_since);
  const running = session?.status === "ACTIVE" && !waitingForPc;
  const agentGone = running && station.type === "PC" && !station.agent_connected && status !== "CLIENT_STOPPED";
  card.status.textContent = waitingForPc ? "Waiting for the PC" : STATUS_TEXT[status] + (agentGone ? " · agent offline" : "");
  card.node.dataset.waiting = waitingForPc ? (session.start_overdue ? "overdue" : "yes") : "";
  card.customer.textContent = session ? session.customer_name ?? "Walk-in customer" : "";
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
    card.note.textContent = running
      ? "An extension is waiting for the card payment."
      : `Card payment of ${money(session.amount_total)} waiting.`;
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
  b.maintenance.textContent = station.status === "MAINTENANCE" ? "Back in service" : "Maintenance";
  b.untamper.hidden = !station.tamper_locked_at;
  if (station.tamper_locked_at) b.start.hidden = true;
}

/** The station's defences: its tamper lock, or its client stopped (who, when, evidence). */
function guardText(station) {
  if (station.tamper_locked_at) {
    const lock = station.tamper_lock ?? {};
    const at = new Date(station.tamper_locked_at).toLocaleTimeString();
    return `Locked for tampering at ${at}: ${lock.detail || words(lock.kind || "tamper")}. Check the PC, then clear it.`;
  }
  const stop = station.agent_stop;
  if (!stop || station.agent_connected) return "";
  const at = new Date(station.agent_stopped_at).toLocaleTimeString();
  const by = stop.by ? ` by ${stop.by}` : "";
  const users = stop.users?.length ? ` · logged on: ${stop.users.join(", ")}` : "";
  const inUse = stop.in_use ? ` · ⚠ in use: input ${stop.idle_seconds} s before the stop` : "";
  const seen = stop.router_sees ? " · ⚠ the router still sees the PC" : "";
  return `Client stopped (${words(stop.reason)})${by} at ${at}${users}${inUse}${seen}`;
}

function powerText(station) {
  const relay = station.relay_on === false ? "plug off" : "plug on";
  const at = station.power_at ? ` at ${new Date(station.power_at).toLocaleTimeString()}` : "";
  return `⚡ ${Math.round(station.power_watts)} W · ${relay}${at}`;
}

function alertText(alert) {
  const detail = alert.data.detail || alert.data.kind || alert.data.error || "";
  return `${words(alert.type)} at ${new Date(alert.created_at).toLocaleTimeString()}${detail ? `: ${detail}` : ""}`;
}

function tick() {
  const now = Date.now();
  for (const card of cards.values()) {
    if (card.endsAt === null) continue;
    const left = (card.endsAt - now) / 1000;
    card.timer.textContent = clock(Math.ceil(left));
    card.timer.dataset.band = timeBand(left);
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
    await load();
  } catch (err) {
    cardError(card, err);
  } finally {
    card.buttons[name].disabled = false;
  }
}

const ACTIONS = {
  start(card) {
    const dialog = document.getElementById("start-dialog");
    const form = dialog.querySelector("form");
    const station = card.station;
    dialog.querySelector("#start-title").textContent = `Start a session on ${station.name}`;
    const basis = dialog.querySelector('[data-field="rate"]');
    basis.textContent = "";
    const quote = quoter(dialog.querySelector('[data-field="price"]'), basis);
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
    openDialog(dialog, async () => {
      const body = {
        station_id: station.id,
        duration_minutes: minutes(),
        payment_method: method.value,
        user_id: customer()?.id ?? null,
      };
      const started = await api("POST", "/sessions/start", { body });
      cardError(card, null);
      card.note.textContent = (started.warnings ?? []).join(" ");
      card.note.dataset.kind = "warning";
      card.note.hidden = !started.warnings?.length;
      return load;
    });
  },
  extend(card) {
    const dialog = document.getElementById("extend-dialog");
    const form = dialog.querySelector("form");
    const station = card.station;
    dialog.querySelector("#extend-title").textContent = `Extend ${station.name}`;
    const basis = dialog.querySelector('[data-field="rate"]');
    basis.textContent = "";
    const quote = quoter(dialog.querySelector('[data-field="price"]'), basis);
    const session = station.session;
    const minutes = minutesPicker(form, (m) => quote({ station_id: station.id, minutes: m, session_id: session.id }));
    const method = form.elements.payment_method;
    method.querySelector('[value="BALANCE"]').disabled = !station.session.customer_id;
    method.value = station.session.customer_id ? "BALANCE" : "CASH";
    openDialog(dialog, async () => {
      const body = { additional_minutes: minutes(), payment_method: method.value };
      await api("PUT", `/sessions/${station.session.id}/extend`, { body });
      cardError(card, null);
      return load;
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
      card.note.textContent = stopped.refunded ? `Refunded ${money(stopped.refunded)} (${stopped.refund_way === "cash" ? "cash back" : "to the balance"}).` : "";
      card.note.dataset.kind = "warning";
      card.note.hidden = !stopped.refunded;
      return load;
    });
  },
  move(card) {
    const dialog = document.getElementById("move-dialog");
    const station = card.station;
    const select = dialog.querySelector("select");
    const free = moveTargets(select, [...cards.values()].map((c) => c.station).filter(Boolean), station);
    dialog.querySelector('[data-field="question"]').textContent = free
      ? `Move the sale on ${station.name} (${money(station.session.amount_total)} paid) to another PC, at the price paid.`
      : "No other PC is free now.";
    openDialog(dialog, async () => {
      await api("POST", `/sessions/${station.session.id}/move`, { body: { station_id: select.value } });
      cardError(card, null);
      return load;
    });
  },
  void(card) {
    const dialog = document.getElementById("void-dialog");
    const station = card.station;
    dialog.querySelector('[data-field="question"]').textContent =
      `${station.name} never took this sale. Give back all ${money(station.session.amount_total)}, the way it was paid (cash from the till, or to the balance)?`;
    openDialog(dialog, async () => {
      await api("POST", `/sessions/${station.session.id}/void`);
      cardError(card, null);
      return load;
    });
  },
  async confirm(card) {
    await cardAction(card, "confirm", () => api("POST", `/payments/${card.station.session.pending_payment_id}/confirm`));
  },
  async untamper(card) {
    await cardAction(card, "untamper", () => api("DELETE", `/stations/${card.station.id}/tamper-lock`));
  },
  async calloff(card) {
    await cardAction(card, "calloff", () => api("DELETE", `/sessions/${card.station.session.id}`));
  },
  async maintenance(card) {
    const station = card.station;
    const status = station.status === "MAINTENANCE" ? "ONLINE" : "MAINTENANCE";
    card.buttons.maintenance.disabled = true;
    try {
      await api("PATCH", `/stations/${station.id}`, { body: { status } });
      cardError(card, null);
      await load();
    } catch (err) {
      cardError(card, err);
    } finally {
      card.buttons.maintenance.disabled = false;
    }
  },
};

const { isAdmin: admin } = await boot();
isAdmin = admin;
const reload = debounce(load, 100);
feed.on("event", (event) => {
  if (event.station_id || event.type.startsWith("SESSION_")) reload();
});
feed.on("sync", () => reload());
await load();
setInterval(tick, 1000);
// Plug readings change without audit events: refresh while consoles have plugs.
setInterval(() => {
  if ([...cards.values()].some((card) => card.station?.controller?.shelly)) reload();
}, POWER_REFRESH_MS);
