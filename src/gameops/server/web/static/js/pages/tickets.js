// Guest tickets: sell one (its code shown once, with a printable 80 mm ticket), list and void.

import { api, clearError, showError } from "../api.js";
import { dateTime, el, minutesText, money, toMinorUnits } from "../format.js";
import { t } from "../i18n.js";
import { boot } from "../shell.js";

const form = document.getElementById("ticket-form");
const body = document.querySelector("#tickets-table tbody");
const error = document.getElementById("tickets-error");
const sold = document.getElementById("ticket-sold");

function left(seconds) {
  return minutesText(Math.floor(seconds / 60));
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
    el("td", {}, left(ticket.seconds_left)),
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
  button.disabled = true;
  try {
    const ticket = await api("POST", "/tickets", {
      body: { minutes: Number(form.elements.minutes.value), price: toMinorUnits(form.elements.price.value) },
    });
    document.getElementById("ticket-code").textContent = ticket.code;
    const fragment = new URLSearchParams({ code: ticket.code, minutes: ticket.seconds_total / 60, expires: ticket.expires_at });
    document.getElementById("ticket-print").href = `/tickets/print#${fragment}`;
    sold.hidden = false;
    clearError(error);
    await load();
  } catch (err) {
    showError(error, err);
  } finally {
    button.disabled = false;
  }
});

await boot();
await load();
