// Events: the audit log, filtered by type, station and time; new events are prepended live.

import { api, clearError, showError } from "../api.js";
import * as feed from "../feed.js";
import { dateTime, el, words } from "../format.js";
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
    if (mine !== loads) return;
    body.replaceChildren(...result.items.map((event) => row(event)));
    // Events streamed while this page was being fetched may be newer than what it returned.
    const newest = result.items[0]?.id ?? 0;
    for (const event of recent.filter((e) => e.id > newest)) prepend(event);
    pager.show(result.meta, "events");
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function row(event, fresh = false) {
  return el(
    "tr",
    { "data-event-id": event.id, "data-type": event.type, class: fresh ? "fresh" : null },
    el("td", { class: "muted" }, String(event.id)),
    el("td", {}, dateTime(event.created_at)),
    el("td", {}, words(event.type)),
    el("td", {}, event.station_id ? stations.get(event.station_id) ?? event.station_id.slice(0, 8) : "—"),
    el("td", {}, actor(event.actor_id)),
    el("td", { class: "details" }, details(event.data)),
  );
}

function actor(id) {
  if (!id) return "system";
  if (id === me.id) return "you";
  return staff.get(id) ?? id.slice(0, 8);
}

function details(data) {
  return Object.entries(data)
    .map(([key, value]) => `${key.replaceAll("_", " ")}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(" · ");
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

function remember(event) {
  recent.push(event);
  if (recent.length > PER_PAGE) recent.shift();
  prepend(event);
}

function prepend(event) {
  if (!matches(event) || body.querySelector(`[data-event-id="${event.id}"]`)) return;
  if (event.type === "STATION_CREATED") stations.set(event.station_id, event.data.name);
  body.prepend(row(event, true));
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
