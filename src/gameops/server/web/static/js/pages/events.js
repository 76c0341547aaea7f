// Events: the audit log as sentences in the user's language (money formatted, times in the
// venue's zone, links to the station, session and customer), the raw data behind a
// disclosure; filtered by type, station and time; new events are prepended live.

import { api, clearError, showError } from "../api.js";
import * as feed from "../feed.js";
import { dateTime, el, minutesText, money, timeWithSeconds, words } from "../format.js";
import { has, t, tEnum, tParts } from "../i18n.js";
import { fillStationSelect, staffNames, stationNames } from "../lookups.js";
import { Pager } from "../pager.js";
import { boot } from "../shell.js";

const PER_PAGE = 50;
const filters = document.getElementById("event-filters");
const body = document.querySelector("#events-table tbody");
const error = document.getElementById("events-error");
const pager = new Pager(document.querySelector(".pager"), filters, load);
let stations = new Map();
let staff = new Map();
const customers = new Map(); // id -> name, filled as links need it
let me = null;

function current() {
  const since = filters.elements.since.value;
  return {
    type: filters.elements.type.value,
    station_id: filters.elements.station_id.value,
    since: since ? new Date(since).toISOString() : "",
  };
}

let loads = 0; // only the newest answer is drawn

async function load() {
  const mine = ++loads;
  try {
    const result = await api("GET", "/events", { params: { ...current(), page: pager.page, per_page: PER_PAGE } });
    await learnNames(result.items);
    if (mine !== loads) return;
    body.replaceChildren(...result.items.map((event) => row(event)));
    // Events streamed while this page was being fetched may be newer than what it returned.
    const newest = result.items[0]?.id ?? 0;
    for (const event of recent.filter((e) => e.id > newest)) prepend(event);
    pager.show(result.meta, "events.count");
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function row(event, fresh = false) {
  const raw = el("details", {}, el("summary", {}, t("events.raw")), el("pre", { class: "mono small" }, JSON.stringify(rawOf(event), null, 1)));
  return el(
    "tr",
    { "data-event-id": event.id, "data-type": event.type, class: fresh ? "fresh" : null },
    el("td", { class: "nowrap" }, dateTime(event.created_at)),
    el("td", { class: "sentence" }, el("span", { "data-field": "sentence" }, ...sentence(event)), raw),
    el("td", {}, actor(event.actor_id)),
  );
}

function rawOf(event) {
  const { id, type, station_id: station, session_id: session, actor_id: actorId, data } = event;
  return { id, type, station_id: station, session_id: session, actor_id: actorId, data };
}

function actor(id) {
  if (!id) return el("span", { class: "muted" }, t("events.system"));
  if (id === me.id) return t("events.you");
  return staff.get(id) ?? customers.get(id) ?? t("events.someone");
}

const link = (href, text, cls = null) => el("a", { href, class: cls }, text);

function stationLink(event, name = null) {
  if (!event.station_id) return t("events.no_station");
  const label = name ?? stations.get(event.station_id) ?? t("common.unknown_station");
  return link(`/sessions?station_id=${event.station_id}`, label, "station");
}

function sessionLink(event, text) {
  if (!event.session_id) return text;
  return link(`/sessions?station_id=${event.station_id ?? ""}#session-${event.session_id}`, text, "session");
}

function customerLink(userId, name = null) {
  if (!userId) return t("common.walk_in");
  if (staff.has(userId)) return staff.get(userId);
  if (userId === me.id) return me.full_name || me.username;
  return link(`/customers?id=${userId}`, name ?? customers.get(userId) ?? t("events.a_customer"), "customer");
}

const asked = new Map(); // customer id -> its request, one per customer

/** Learn the names of the customers `events` name (once each), before they are drawn. */
function learnNames(events) {
  const ids = new Set(events.map((e) => e.data?.user_id).filter((id) => id && !staff.has(id) && id !== me.id));
  for (const id of ids) {
    if (!asked.has(id)) {
      const request = api("GET", `/customers/${id}`)
        .then((customer) => customers.set(id, customer.full_name || customer.username))
        .catch(() => {}); // a staff account (operators may not list staff), or gone
      asked.set(id, request);
    }
  }
  return Promise.all([...ids].map((id) => asked.get(id)));
}

/** A sentence starts with a capital, even when it starts with "a customer". */
function capitalised(parts) {
  const first = parts[0];
  const upper = (text) => text.charAt(0).toLocaleUpperCase() + text.slice(1);
  if (typeof first === "string") parts[0] = upper(first);
  else if (first instanceof Node) first.textContent = upper(first.textContent);
  return parts;
}

/** The event as a sentence: its parts (text and links) to append. */
function sentence(event) {
  const d = event.data ?? {};
  const station = stationLink(event, event.type === "STATION_CREATED" || event.type === "STATION_DELETED" ? d.name : null);
  const amount = (value) => money(Math.abs(value ?? 0));
  const end = d.scheduled_end_at ? timeWithSeconds(d.scheduled_end_at) : "—";
  const values = {
    station,
    session: sessionLink(event, t("events.session")),
    amount: amount(d.amount ?? d.amount_total),
    total: amount(d.amount_total),
    end,
    duration: minutesText(d.duration_minutes ?? d.additional_minutes ?? d.booked_minutes ?? 0),
    booked: minutesText(d.booked_minutes ?? 0),
    customer: customerLink(d.user_id, d.customer_name),
    balance: amount(d.balance_after),
    method: tEnum("method", d.method),
    purpose: tEnum("purpose", d.purpose),
    reason: d.reason ? tEnum("reason", d.reason) : "",
    detail: d.detail || d.error || d.kind || "",
    device: d.device ?? "",
    to: tEnum("station_status", d.to),
    from: tEnum("station_status", d.from),
    type: tEnum("station_type", d.type),
    name: d.name ?? d.username ?? d.sold_to ?? "",
    role: tEnum("role", d.role ?? "OPERATOR"),
    at: d.power_off_at ? timeWithSeconds(d.power_off_at) : "",
    changes: Object.keys(d).filter((k) => k !== "user_id").map((k) => tEnum("change", k)).join(", "),
    plan: d.plan?.name ?? "",
    action: tEnum("plan_action", d.action),
    command: tEnum("commands.kind", d.kind),
    text: d.text ?? "",
    counted: amount(d.counted_cash),
    expected: amount(d.expected_cash),
    variance: money(d.variance ?? 0),
    float: amount(d.opening_float),
    product: d.name ?? "",
    change: tEnum("plan_action", d.change),
    price: amount(d.price),
    waited: minutesText(Math.round((d.waited_seconds ?? 0) / 60)),
    starts: d.starts_at ? dateTime(d.starts_at) : "",
    from_station: d.from_station_id ? stations.get(d.from_station_id) ?? t("common.unknown_station") : "",
  };
  const key = variant(event, d);
  if (key) return capitalised(tParts(key, values));
  return tParts("event.OTHER", { what: words(event.type), station }); // a type with no words yet
}

function variant(event, d) {
  const key = `event.${event.type}`;
  switch (event.type) {
    case "SESSION_CREATED":
      return d.customer_name ? `${key}.customer` : key;
    case "SESSION_ENDED":
      return d.refunded ? `${key}.refund` : key;
    case "AGENT_TOKEN_ISSUED":
      return d.revoked_previous ? `${key}.replaced` : key;
    case "AGENT_TAMPER":
      return d.lock ? `${key}.lock` : key;
    case "STOPPED_CLIENT_ON_NETWORK":
      return d.seen ? `${key}.seen` : key;
    case "USER_UPDATED":
      return d.password ? `${key}.password` : key;
    case "STATION_COMMAND":
      return d.kind === "message" ? `${key}.message` : key;
    case "STATION_COMMAND_RESULT":
      return d.ok ? key : `${key}.failed`;
    case "PAYMENT_COMPLETED":
    case "PAYMENT_FAILED":
    case "PAYMENT_CREATED":
      return d.user_id ? `${key}.customer` : key;
    default:
      return has(key) ? key : null;
  }
}

/** Does a live event belong on the first page under the current filters? */
function matches(event) {
  const { type, station_id: stationId, since } = current();
  return (
    pager.page === 1 &&
    (!type || event.type === type) &&
    (!stationId || event.station_id === stationId) &&
    (!since || Date.parse(event.created_at) >= Date.parse(since))
  );
}

const recent = []; // the last live events, to re-apply after a reload of the table

async function remember(event) {
  recent.push(event);
  if (recent.length > PER_PAGE) recent.shift();
  if (event.type === "STATION_CREATED") stations.set(event.station_id, event.data.name);
  await learnNames([event]);
  prepend(event);
}

/** Put a live event in its place, newest first (names may arrive out of order). */
function prepend(event) {
  if (!matches(event) || body.querySelector(`[data-event-id="${event.id}"]`)) return;
  const older = [...body.children].find((tr) => Number(tr.dataset.eventId) < event.id) ?? null;
  body.insertBefore(row(event, true), older);
  while (body.children.length > PER_PAGE) body.lastElementChild.remove();
}

const booted = await boot();
me = booted.user;
try {
  [stations, staff] = await Promise.all([stationNames(), staffNames(booted.isAdmin)]);
  fillStationSelect(filters.elements.station_id, stations);
} catch (err) {
  showError(error, err);
}
feed.on("event", remember);
feed.on("sync", ({ gap }) => {
  if (gap) load();
});
await load();
