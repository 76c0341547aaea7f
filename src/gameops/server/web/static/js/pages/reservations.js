// Bookings: a day's timeline of every PC (bars per booking, coloured by status), the same
// as a table, and the desk's booking form (a customer, a PC or any PC in a zone, a time on
// the venue's clock). Live: any RESERVATION_* event reloads the day.

import { api, clearError, oneAction, showError } from "../api.js";
import { openDialog } from "../dialogs.js";
import * as feed from "../feed.js";
import { debounce, el, minutesText, money, timeOfDay, timeZone } from "../format.js";
import { t, tEnum } from "../i18n.js";
import { customerPicker } from "../picker.js";
import { boot } from "../shell.js";

const form = document.getElementById("book-form");
const error = document.getElementById("bookings-error");
const result = document.getElementById("bookings-result");
const dayInput = document.getElementById("bookings-day");
const hours = document.querySelector("#timeline .timeline-hours");
const rows = document.querySelector("#timeline .timeline-rows");
const body = document.querySelector("#bookings-table tbody");
const ACTIVE = new Set(["BOOKED", "CHECKED_IN"]);
const DAY_MS = 24 * 3600 * 1000;
let stationList = [];

/** The venue's clock minus UTC at `date`, in ms (the dashboard shows the venue's time). */
function zoneOffsetMs(date) {
  if (!timeZone) return -date.getTimezoneOffset() * 60_000;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(date).map((part) => [part.type, part.value]),
  );
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - (date.getTime() - date.getMilliseconds());
}

/** "2026-12-01" + "18:00" on the venue's clock, as a Date. */
function venueMoment(day, time) {
  const wall = new Date(`${day}T${time}:00Z`);
  const first = new Date(wall.getTime() - zoneOffsetMs(wall));
  return new Date(wall.getTime() - zoneOffsetMs(first)); // right across a DST change too
}

function venueToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

const pickedCustomer = customerPicker(form, () => {});
let pending = oneAction(); // the booking being made: its retries share one key

async function loadOptions() {
  const options = await api("GET", "/reservations/options");
  stationList = options.stations;
  const select = form.elements.where;
  select.replaceChildren(
    ...options.zones.map((zone) => el("option", { value: `zone:${zone}` }, t("bookings.any_in_zone", { zone }))),
    ...options.stations.map((pc) => el("option", { value: `station:${pc.id}` }, pc.zone ? `${pc.name} (${pc.zone})` : pc.name)),
  );
  document.getElementById("bookings-terms").textContent = t(
    options.no_show_keeps_deposit ? "bookings.terms_kept" : "bookings.terms_refunded",
    { deposit: money(options.deposit), minutes: options.no_show_minutes },
  );
}

function bar(booking, dayStart) {
  const from = Math.max(0, Date.parse(booking.starts_at) - dayStart);
  const to = Math.min(DAY_MS, Date.parse(booking.ends_at) - dayStart);
  const label = `${booking.customer_name} · ${timeOfDay(booking.starts_at)}–${timeOfDay(booking.ends_at)}`;
  const node = el(
    "div",
    {
      class: `booking booking-${booking.status.toLowerCase()}`,
      title: `${label} · ${tEnum("reservation_status", booking.status)}`,
      "data-reservation-id": booking.id,
      "data-status": booking.status,
    },
    label,
  );
  return placed(node, from / DAY_MS, Math.max(0.005, (to - from) / DAY_MS));
}

/** Position `node` along the day (fractions); through CSSOM, as the CSP allows no inline style. */
function placed(node, left, width = null) {
  node.style.left = `${100 * left}%`;
  if (width !== null) node.style.width = `${100 * width}%`;
  return node;
}

function drawTimeline(bookings, dayStart) {
  hours.replaceChildren(
    ...Array.from({ length: 12 }, (_, i) => placed(el("span", {}, timeOfDay(new Date(dayStart + i * 2 * 3600_000).toISOString())), i / 12)),
  );
  const byStation = new Map(stationList.map((pc) => [pc.id, []]));
  for (const booking of bookings) {
    if (!byStation.has(booking.station_id)) byStation.set(booking.station_id, []);
    byStation.get(booking.station_id).push(booking);
  }
  const names = new Map([...stationList.map((pc) => [pc.id, pc.name]), ...bookings.map((b) => [b.station_id, b.station_name])]);
  const now = Date.now() - dayStart;
  rows.replaceChildren(
    ...[...byStation].map(([id, list]) => {
      const track = el("div", { class: "timeline-track" }, ...list.map((booking) => bar(booking, dayStart)));
      if (now >= 0 && now < DAY_MS) track.append(placed(el("div", { class: "timeline-now" }), now / DAY_MS));
      return el("div", { class: "timeline-row", "data-station-id": id }, el("span", { class: "timeline-name" }, names.get(id)), track);
    }),
  );
}

function tableRow(booking) {
  const cancel = ACTIVE.has(booking.status) ? el("button", { type: "button", class: "ghost" }, t("bookings.cancel")) : null;
  cancel?.addEventListener("click", () => cancelDialog(booking));
  const move = booking.status === "BOOKED" ? el("button", { type: "button", class: "ghost" }, t("bookings.move")) : null;
  move?.addEventListener("click", () => moveDialog(booking));
  return el(
    "tr",
    { "data-reservation-id": booking.id, "data-status": booking.status },
    el("td", {}, timeOfDay(booking.starts_at)),
    el("td", {}, timeOfDay(booking.ends_at)),
    el("td", {}, booking.station_name),
    el("td", {}, booking.customer_name),
    el("td", { class: "booking-status" }, tEnum("reservation_status", booking.status)),
    el("td", {}, booking.deposit ? `${money(booking.deposit)} · ${tEnum("deposit_outcome", booking.deposit_outcome)}` : "—"),
    el("td", {}, move, cancel),
  );
}

/** Cancel a booking: the dialog names it and, while its deposit is held, asks whether the
 * deposit goes back to the balance (the default) or the venue keeps it. */
function cancelDialog(booking) {
  const dialog = document.getElementById("cancel-dialog");
  const form = dialog.querySelector("form");
  const held = booking.deposit_outcome === "HELD" && booking.deposit > 0;
  const values = { name: booking.customer_name, station: booking.station_name, time: timeOfDay(booking.starts_at), deposit: money(booking.deposit) };
  dialog.querySelector('[data-field="question"]').textContent = t(held ? "bookings.cancel_question_deposit" : "bookings.cancel_question_plain", values);
  dialog.querySelector('[data-field="deposit-choice"]').hidden = !held;
  form.elements.deposit.value = "refund";
  openDialog(dialog, async () => {
    const body = { keep_deposit: held && form.elements.deposit.value === "keep" };
    await api("POST", `/reservations/${booking.id}/cancel`, { body });
    return () => load();
  });
}

/** "2026-12-01" and "18:00" of `iso` on the venue's clock. */
function venueDayAndTime(iso) {
  const wall = new Date(Date.parse(iso) + zoneOffsetMs(new Date(iso))).toISOString();
  return [wall.slice(0, 10), wall.slice(11, 16)];
}

/** Move a waiting booking: the dialog names it; station (or its zone), day, time, length. */
function moveDialog(booking) {
  const dialog = document.getElementById("move-dialog");
  const form = dialog.querySelector("form");
  const times = `${timeOfDay(booking.starts_at)}–${timeOfDay(booking.ends_at)}`;
  dialog.querySelector("#move-title").textContent = t("bookings.move_title", { name: booking.customer_name, station: booking.station_name, times });
  form.elements.where.replaceChildren(
    ...(booking.zone ? [el("option", { value: "" }, t("bookings.any_in_zone", { zone: booking.zone }))] : []),
    ...stationList.map((pc) => el("option", { value: pc.id }, pc.zone ? `${pc.name} (${pc.zone})` : pc.name)),
  );
  form.elements.where.value = booking.zone ? "" : booking.station_id;
  [form.elements.day.value, form.elements.time.value] = venueDayAndTime(booking.starts_at);
  form.elements.minutes.value = String(Math.round((Date.parse(booking.ends_at) - Date.parse(booking.starts_at)) / 60_000));
  const moving = oneAction(); // a retry of the same move is one move
  openDialog(dialog, async () => {
    const body = {
      starts_at: venueMoment(form.elements.day.value, form.elements.time.value).toISOString(),
      minutes: Number(form.elements.minutes.value),
      ...(form.elements.where.value ? { station_id: form.elements.where.value } : {}),
    };
    const moved = await moving.run((key) => api("PATCH", `/reservations/${booking.id}`, { body, idempotencyKey: key }));
    result.textContent = t("bookings.moved", { what: moved.message, length: minutesText(body.minutes) });
    result.hidden = false;
    return () => load();
  });
}

let loads = 0;
async function load() {
  const mine = ++loads;
  const day = dayInput.value || venueToday();
  try {
    const bookings = await api("GET", "/reservations", { params: { day } });
    if (mine !== loads) return;
    drawTimeline(bookings, venueMoment(day, "00:00").getTime());
    body.replaceChildren(...bookings.map(tableRow));
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}
const reload = debounce(load, 100);

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const customer = pickedCustomer();
  if (!customer) return showError(error, new Error(t("bookings.choose_customer")));
  const [kind, value] = form.elements.where.value.split(/:(.*)/s);
  const day = dayInput.value || venueToday();
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const body = {
      user_id: customer.id,
      [kind === "zone" ? "zone" : "station_id"]: value,
      starts_at: venueMoment(day, form.elements.time.value).toISOString(),
      minutes: Number(form.elements.minutes.value),
    };
    // It takes a deposit: a retry (double click, lost answer) must not book twice.
    const booked = await pending.run((key) => api("POST", "/reservations", { body, idempotencyKey: key }));
    pending = oneAction();
    result.textContent = t("bookings.booked", { what: booked.message, time: timeOfDay(booked.starts_at), length: minutesText(Number(form.elements.minutes.value)) });
    result.hidden = false;
    clearError(error);
    await load();
  } catch (err) {
    showError(error, err);
  } finally {
    button.disabled = false;
  }
});

dayInput.addEventListener("change", load);
feed.on("event", (event) => {
  if (String(event.type).startsWith("RESERVATION_")) reload();
});
feed.on("sync", () => reload());

await boot();
dayInput.value = venueToday();
await loadOptions();
await load();
