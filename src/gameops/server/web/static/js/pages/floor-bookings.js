// The floor's booking line: "Reserved 18:00–19:00 · Ada" on each PC's card for its next
// active booking today (the timeline page has the whole day). Re-read on every RESERVATION_*
// event and feed (re)connection; drawn onto cards as floor.js creates them.

import { api } from "../api.js";
import * as feed from "../feed.js";
import { debounce, el, timeOfDay } from "../format.js";
import { t } from "../i18n.js";

const floor = document.getElementById("floor");
const ACTIVE = new Set(["BOOKED", "CHECKED_IN"]);
let next = new Map(); // station id -> its next active booking that has not ended

function line(card) {
  let node = card.querySelector(".card-booking");
  if (!node) {
    node = el("p", { class: "card-booking" });
    card.querySelector("header")?.after(node);
  }
  return node;
}

function draw() {
  for (const card of floor.querySelectorAll("article.card[data-station-id]")) {
    const booking = next.get(card.dataset.stationId);
    const node = line(card);
    node.hidden = !booking;
    node.textContent = booking
      ? t("bookings.floor_line", { from: timeOfDay(booking.starts_at), to: timeOfDay(booking.ends_at), name: booking.customer_name })
      : "";
    if (booking) node.dataset.reservationId = booking.id;
  }
}

async function load() {
  try {
    const bookings = await api("GET", "/reservations");
    const now = Date.now();
    next = new Map();
    for (const booking of bookings) {
      if (!ACTIVE.has(booking.status) || Date.parse(booking.ends_at) <= now) continue;
      if (!next.has(booking.station_id)) next.set(booking.station_id, booking); // by start
    }
    draw();
  } catch (err) {
    console.warn("could not read today's bookings", err);
  }
}

const reload = debounce(load, 100);
const redraw = debounce(draw, 50);
feed.on("event", (event) => {
  if (String(event.type).startsWith("RESERVATION_")) reload();
});
feed.on("sync", () => reload());
new MutationObserver((changes) => {
  if (changes.some((change) => [...change.addedNodes].some((node) => node.matches?.("article.card, section")))) redraw();
}).observe(floor, { childList: true, subtree: true });
