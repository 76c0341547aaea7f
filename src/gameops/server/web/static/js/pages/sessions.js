// Sessions: active and past, filtered by status and station, a page at a time.

import { api, clearError, showError } from "../api.js";
import * as feed from "../feed.js";
import { clock, dateTime, debounce, el, money, words } from "../format.js";
import { fillStationSelect, stationNames } from "../lookups.js";
import { Pager } from "../pager.js";
import { boot } from "../shell.js";

const PER_PAGE = 25;
const filters = document.getElementById("session-filters");
const body = document.querySelector("#sessions-table tbody");
const error = document.getElementById("sessions-error");
const pager = new Pager(document.querySelector(".pager"), filters, load);
let names = new Map();

let loads = 0; // only the newest answer is drawn

async function load() {
  const mine = ++loads;
  const params = {
    status: filters.elements.status.value,
    station_id: filters.elements.station_id.value,
    page: pager.page,
    per_page: PER_PAGE,
  };
  try {
    const result = await api("GET", "/sessions", { params });
    if (mine !== loads) return;
    body.replaceChildren(...result.items.map(row));
    if (!result.items.length) body.append(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "No sessions match.")));
    pager.show(result.meta, "sessions");
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function row(session) {
  const active = session.status === "ACTIVE";
  return el(
    "tr",
    { "data-session-id": session.id },
    el("td", {}, names.get(session.station_id) ?? session.station_id.slice(0, 8)),
    el("td", {}, el("span", { class: "pill", "data-value": session.status }, words(session.status))),
    el("td", {}, dateTime(session.started_at)),
    el("td", {}, dateTime(session.actual_end_at ?? session.scheduled_end_at)),
    el("td", {}, active ? clock(session.remaining_seconds) : "—"),
    el("td", {}, String(session.duration_minutes + session.extended_minutes)),
    el("td", {}, money(session.amount_total)),
    el("td", {}, session.end_reason ? words(session.end_reason) : ""),
    el("td", { class: "muted mono small" }, session.id.slice(0, 8)),
  );
}

await boot();
try {
  names = await stationNames();
  fillStationSelect(filters.elements.station_id, names);
} catch (err) {
  showError(error, err);
}
const reload = debounce(load, 150);
feed.on("event", (event) => {
  if (event.type.startsWith("SESSION_")) reload();
});
feed.on("sync", () => reload());
await load();
