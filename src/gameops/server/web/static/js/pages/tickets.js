// Guest tickets: sell one for minutes or an amount (its code shown once, with a printable 80 mm
// ticket), list them with what is left on each, void one.

import { api, clearError, showError, whileBusy } from "../api.js";
import { dateTime, el, minutesText, money, toMinorUnits } from "../format.js";
import { t } from "../i18n.js";
import { boot } from "../shell.js";

const form = document.getElementById("ticket-form");
const body = document.querySelector("#tickets-table tbody");
const error = document.getElementById("tickets-error");
const sold = document.getElementById("ticket-sold");

function left(ticket) {
  if (ticket.amount_total !== null) return money(ticket.amount_left);
  return minutesText(Math.floor(ticket.seconds_left / 60));
}

// The minutes or the amount field, as the kind of ticket asks; an amount's price follows it
// until staff change the price themselves.
const kind = form.elements.kind;
let priceTouched = false;
function showKind() {
  for (const label of form.querySelectorAll("[data-kind]")) label.hidden = label.dataset.kind !== kind.value;
  if (kind.value === "amount" && !priceTouched) form.elements.price.value = form.elements.amount.value;
}
kind.addEventListener("change", showKind);
form.elements.price.addEventListener("input", () => (priceTouched = true));
form.elements.amount.addEventListener("input", () => {
  if (!priceTouched) form.elements.price.value = form.elements.amount.value;
});

showKind(); // a reload may bring the form back on "amount"

function saleBody() {
  const price = toMinorUnits(form.elements.price.value);
  if (kind.value === "amount") return { amount: toMinorUnits(form.elements.amount.value), price };
  return { minutes: Number(form.elements.minutes.value), price };
}

function printFragment(ticket) {
  const what = ticket.amount_total !== null ? { value: money(ticket.amount_total) } : { minutes: ticket.seconds_total / 60 };
  return new URLSearchParams({ code: ticket.code, ...what, expires: ticket.expires_at });
}

function row(ticket) {
  const voided = ticket.voided_at !== null;
  const button = el("button", { type: "button", disabled: voided }, voided ? t("tickets.voided") : t("tickets.void"));
  button.addEventListener("click", async () => {
    if (!confirm(t("tickets.void_question", { hint: ticket.hint }))) return;
    try {
      await api("POST", `/tickets/${ticket.id}/void`);
      await load();
    } catch (err) {
      showError(error, err);
    }
  });
  return el(
    "tr",
    { "data-ticket-id": ticket.id },
    el("td", {}, `…${ticket.hint}`),
    el("td", {}, left(ticket)),
    el("td", {}, money(ticket.price)),
    el("td", {}, dateTime(ticket.created_at)),
    el("td", {}, dateTime(ticket.expires_at)),
    el("td", {}, button),
  );
}

async function load() {
  try {
    const result = await api("GET", "/tickets", { params: { per_page: 100 } });
    body.replaceChildren(...result.items.map(row));
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  await whileBusy(button, error, async () => {
    const ticket = await api("POST", "/tickets", { body: saleBody() });
    document.getElementById("ticket-code").textContent = ticket.code;
    document.getElementById("ticket-print").href = `/tickets/print#${printFragment(ticket)}`;
    sold.hidden = false;
    clearError(error);
    await load();
  });
});

await boot();
await load();
