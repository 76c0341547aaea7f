// Customers: search, create, and for one customer the balance, its ledger and top-ups.

import { api, clearError, showError } from "../api.js";
import { openDialog } from "../dialogs.js";
import * as feed from "../feed.js";
import { dateTime, debounce, el, money, toMinorUnits, words } from "../format.js";
import { boot } from "../shell.js";

const PER_PAGE = 25;
const LEDGER_PER_PAGE = 20;
const search = document.getElementById("customer-search");
const listBody = document.querySelector("#customers-table tbody");
const listError = document.getElementById("customers-error");
const listPager = document.querySelector("section .pager");
const detail = document.getElementById("customer-detail");
const ledgerBody = document.querySelector("#ledger-table tbody");
const ledgerPager = document.getElementById("ledger-pager");
const list = { page: 1, pages: 1 };
const ledger = { page: 1, pages: 1 };
let selected = null; // the customer shown in the panel

async function loadList() {
  const params = { q: search.elements.q.value.trim(), page: list.page, per_page: PER_PAGE };
  try {
    const result = await api("GET", "/customers", { params });
    list.pages = Math.max(1, result.meta.pages);
    listBody.replaceChildren(...result.items.map(customerRow));
    if (!result.items.length) listBody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No customers match.")));
    pagerText(listPager, list, `${result.meta.total} customers`);
    clearError(listError);
  } catch (err) {
    showError(listError, err);
  }
}

function pagerText(pager, state, total) {
  pager.querySelector('[data-field="page"]').textContent = `Page ${state.page} of ${state.pages} · ${total}`;
  pager.querySelector('[data-page="prev"]').disabled = state.page <= 1;
  pager.querySelector('[data-page="next"]').disabled = state.page >= state.pages;
}

function customerRow(customer) {
  const open = el("button", { type: "button", class: "ghost" }, customer.full_name || customer.username);
  open.addEventListener("click", () => select(customer.id));
  return el(
    "tr",
    { "data-customer-id": customer.id, "data-username": customer.username, "aria-selected": String(customer.id === selected?.id) },
    el("td", {}, open),
    el("td", {}, customer.phone ?? ""),
    el("td", {}, customer.email ?? ""),
    el("td", {}, customer.is_member ? "yes" : ""),
    el("td", { class: "amount" }, money(customer.balance)),
  );
}

let selecting = 0; // only the newest selection's answer is shown

async function select(id) {
  const mine = ++selecting;
  let customer;
  try {
    customer = await api("GET", `/customers/${id}`);
  } catch (err) {
    return showError(listError, err);
  }
  if (mine !== selecting) return;
  selected = customer;
  ledger.page = 1;
  for (const row of listBody.children) row.setAttribute("aria-selected", String(row.dataset.customerId === id));
  renderDetail();
  detail.hidden = false;
  await loadLedger();
}

function renderDetail() {
  detail.querySelector("#detail-title").textContent = selected.full_name || selected.username;
  const contact = [selected.username, selected.phone, selected.email, selected.is_member ? "member" : null];
  detail.querySelector('[data-field="contact"]').textContent = contact.filter(Boolean).join(" · ");
  detail.querySelector('[data-field="balance"]').textContent = money(selected.balance);
}

async function loadLedger() {
  const params = { page: ledger.page, per_page: LEDGER_PER_PAGE };
  try {
    const result = await api("GET", `/customers/${selected.id}/ledger`, { params });
    ledger.pages = Math.max(1, result.meta.pages);
    ledgerBody.replaceChildren(...result.items.map(ledgerRow));
    if (!result.items.length) ledgerBody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No movements yet.")));
    pagerText(ledgerPager, ledger, `${result.meta.total} entries`);
  } catch (err) {
    showError(document.getElementById("topup-error"), err);
  }
}

function ledgerRow(entry) {
  return el(
    "tr",
    { "data-entry-id": entry.id },
    el("td", {}, dateTime(entry.created_at)),
    el("td", {}, words(entry.kind)),
    el("td", { class: `amount ${entry.amount < 0 ? "minus" : "plus"}` }, (entry.amount > 0 ? "+" : "") + money(entry.amount)),
    el("td", { class: "amount" }, money(entry.balance_after)),
    el("td", { class: "details" }, entry.reason),
  );
}

async function submitMoney(form, errorBox, send) {
  const button = form.querySelector('[type="submit"]');
  button.disabled = true;
  try {
    const amount = toMinorUnits(form.elements.amount.value);
    if (!Number.isFinite(amount)) throw new Error("Enter an amount, e.g. 10.00");
    await send(amount);
    form.reset();
    clearError(errorBox);
    await select(selected.id);
    await loadList();
  } catch (err) {
    showError(errorBox, err);
  } finally {
    button.disabled = false;
  }
}

document.getElementById("topup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitMoney(form, document.getElementById("topup-error"), (amount) =>
    api("POST", `/users/${selected.id}/topups`, { body: { amount, method: form.elements.method.value } }),
  );
});

document.getElementById("adjust-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitMoney(form, document.getElementById("adjust-error"), (amount) =>
    api("POST", `/users/${selected.id}/adjustments`, { body: { amount, reason: form.elements.reason.value } }),
  );
});

document.getElementById("new-customer").addEventListener("click", () => {
  const dialog = document.getElementById("customer-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  openDialog(dialog, async () => {
    const value = (name) => form.elements[name].value.trim() || null;
    const body = {
      username: value("username") ?? "",
      full_name: value("full_name") ?? "",
      phone: value("phone"),
      email: value("email"),
      is_member: form.elements.is_member.checked,
    };
    const created = await api("POST", "/customers", { body });
    return async () => {
      await loadList();
      await select(created.id);
    };
  });
});

search.addEventListener("submit", (event) => {
  event.preventDefault();
  list.page = 1;
  loadList();
});
search.elements.q.addEventListener("input", debounce(() => search.requestSubmit(), 300));

for (const [pager, state, load] of [[listPager, list, loadList], [ledgerPager, ledger, loadLedger]]) {
  pager.addEventListener("click", (event) => {
    const step = event.target.closest("button")?.dataset.page;
    if (!step) return;
    state.page = Math.min(state.pages, Math.max(1, state.page + (step === "next" ? 1 : -1)));
    load();
  });
}

await boot();
const refresh = debounce(async () => {
  await loadList();
  if (selected) await select(selected.id);
}, 200);
feed.on("event", (event) => {
  if (event.type.startsWith("BALANCE_") || event.type.startsWith("USER_") || event.type.startsWith("CUSTOMER_")) refresh();
});
feed.on("sync", () => refresh());
await loadList();
