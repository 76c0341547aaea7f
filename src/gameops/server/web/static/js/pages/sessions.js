// Sessions: active and past, filtered by status and station, a page at a time; each with its
// customer and how it was paid.

import { api, clearError, showError } from "../api.js";
import * as feed from "../feed.js";
import { clock, dateTime, debounce, el, minutesText, money } from "../format.js";
import { t, tEnum } from "../i18n.js";
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
    if (!result.items.length) body.append(el("tr", {}, el("td", { colspan: 10, class: "muted" }, t("sessions.none"))));
    pager.show(result.meta, "sessions.count");
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function row(session) {
  const active = session.status === "ACTIVE";
  const customer = session.user_id
    ? el("a", { href: `/customers?id=${session.user_id}` }, session.customer_name ?? "")
    : el("span", { class: "muted" }, t("common.walk_in"));
  return el(
    "tr",
    { "data-session-id": session.id, id: `session-${session.id}` },
    el("td", {}, names.get(session.station_id) ?? t("common.unknown_station")),
    el("td", { "data-field": "customer" }, customer),
    el("td", {}, el("span", { class: "pill", "data-value": session.status }, tEnum("session_status", session.status))),
    el("td", {}, dateTime(session.started_at)),
    el("td", {}, dateTime(session.actual_end_at ?? session.scheduled_end_at)),
    el("td", {}, active ? clock(session.remaining_seconds) : "—"),
    el("td", {}, minutesText(session.duration_minutes + session.extended_minutes)),
    el("td", { class: "amount" }, money(session.amount_total)),
    el("td", { "data-field": "methods" }, session.payment_methods.map((m) => tEnum("method", m)).join(", ") || "—"),
    el("td", {}, session.end_reason ? tEnum("end_reason", session.end_reason) : ""),
  );
}

await boot();
try {
  names = await stationNames();
  fillStationSelect(filters.elements.station_id, names);
} catch (err) {
  showError(error, err);
}
const wanted = new URLSearchParams(location.search).get("station_id");
if (wanted) filters.elements.station_id.value = wanted;
const reload = debounce(load, 150);
feed.on("event", (event) => {
  if (event.type.startsWith("SESSION_")) reload();
});
feed.on("sync", () => reload());
await load();
