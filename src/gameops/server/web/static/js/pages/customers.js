// Customers: search, create and edit, set a password, disable; for one customer the
// balance, its ledger and top-ups.

import { api, clearError, oneAction, showError, whileBusy } from "../api.js";
import { openDialog } from "../dialogs.js";
import * as feed from "../feed.js";
import { dateTime, debounce, el, money, toMinorUnits } from "../format.js";
import { t, tEnum } from "../i18n.js";
import { boot } from "../shell.js";

const PER_PAGE = 25;
const LEDGER_PER_PAGE = 20;
const search = document.getElementById("customer-search");
const listBody = document.querySelector("#customers-table tbody");
const listError = document.getElementById("customers-error");
const listPager = document.querySelector("section .pager");
const detail = document.getElementById("customer-detail");
const detailError = document.getElementById("detail-error");
const ledgerBody = document.querySelector("#ledger-table tbody");
const ledgerPager = document.getElementById("ledger-pager");
const topupForm = document.getElementById("topup-form");
const adjustForm = document.getElementById("adjust-form");
const list = { page: 1, pages: 1 };
const ledger = { page: 1, pages: 1 };
let selected = null; // the customer shown in the panel

async function loadList() {
  const params = { q: search.elements.q.value.trim(), page: list.page, per_page: PER_PAGE };
  try {
    const result = await api("GET", "/customers", { params });
    list.pages = Math.max(1, result.meta.pages);
    listBody.replaceChildren(...result.items.map(customerRow));
    if (!result.items.length) listBody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("customers.none"))));
    pagerText(listPager, list, t("customers.count", { count: result.meta.total }));
    clearError(listError);
  } catch (err) {
    showError(listError, err);
  }
}

function pagerText(pager, state, total) {
  pager.querySelector('[data-field="page"]').textContent = `${t("pager.page", { page: state.page, pages: state.pages })} · ${total}`;
  pager.querySelector('[data-page="prev"]').disabled = state.page <= 1;
  pager.querySelector('[data-page="next"]').disabled = state.page >= state.pages;
}

function customerRow(customer) {
  const open = el("button", { type: "button", class: "ghost" }, customer.full_name || customer.username);
  open.addEventListener("click", () => select(customer.id));
  return el(
    "tr",
    {
      "data-customer-id": customer.id,
      "data-username": customer.username,
      "aria-selected": String(customer.id === selected?.id),
      class: customer.is_active ? null : "inactive",
    },
    el("td", {}, open, customer.is_active ? null : el("span", { class: "pill" }, t("customers.disabled"))),
    el("td", {}, customer.phone ?? ""),
    el("td", {}, customer.email ?? ""),
    el("td", {}, customer.is_member ? t("common.yes") : ""),
    el("td", { class: "amount" }, money(customer.balance)),
  );
}

let selecting = 0; // only the newest selection's answer is shown
let selectionsUnderWay = 0;

async function select(id, { fresh = true } = {}) {
  const mine = ++selecting;
  let customer;
  selectionsUnderWay += 1;
  try {
    customer = await api("GET", `/customers/${id}`);
  } catch (err) {
    return showError(listError, err);
  } finally {
    selectionsUnderWay -= 1;
  }
  if (mine !== selecting) return;
  const another = selected?.id !== customer.id;
  selected = customer;
  if (another && fresh) {
    // Nothing typed for the previous customer stays on screen for this one.
    for (const form of [topupForm, adjustForm]) form.reset();
    for (const box of [detailError, ...detail.querySelectorAll(".error")]) clearError(box);
    ledger.page = 1;
  }
  for (const row of listBody.children) row.setAttribute("aria-selected", String(row.dataset.customerId === id));
  renderDetail();
  detail.hidden = false;
  await loadLedger();
}

function renderDetail() {
  detail.querySelector("#detail-title").textContent = selected.full_name || selected.username;
  const contact = [selected.username, selected.phone, selected.email, selected.is_member ? t("customers.is_member") : null];
  detail.querySelector('[data-field="contact"]').textContent = contact.filter(Boolean).join(" · ");
  detail.querySelector('[data-field="balance"]').textContent = money(selected.balance);
  detail.querySelector('[data-field="disabled"]').hidden = selected.is_active;
  detail.dataset.active = String(selected.is_active);
  document.getElementById("toggle-customer").textContent = selected.is_active ? t("customers.disable") : t("customers.enable");
}

async function loadLedger() {
  const params = { page: ledger.page, per_page: LEDGER_PER_PAGE };
  try {
    const result = await api("GET", `/customers/${selected.id}/ledger`, { params });
    ledger.pages = Math.max(1, result.meta.pages);
    ledgerBody.replaceChildren(...result.items.map(ledgerRow));
    if (!result.items.length) ledgerBody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("customers.no_movements"))));
    pagerText(ledgerPager, ledger, t("customers.entries", { count: result.meta.total }));
  } catch (err) {
    showError(detailError, err);
  }
}

function ledgerRow(entry) {
  return el(
    "tr",
    { "data-entry-id": entry.id },
    el("td", {}, dateTime(entry.created_at)),
    el("td", {}, tEnum("ledger", entry.kind)),
    el("td", { class: `amount ${entry.amount < 0 ? "minus" : "plus"}` }, (entry.amount > 0 ? "+" : "") + money(entry.amount)),
    el("td", { class: "amount" }, money(entry.balance_after)),
    el("td", { class: "details" }, entry.reason),
  );
}

/** A money form's submit: one idempotency key per amount typed (a double click or a retry
 * after a network error is the same top-up). */
function moneyForm(form, errorBox, send) {
  let action = null;
  let typed = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector('[type="submit"]');
    await whileBusy(button, errorBox, async () => {
      const amount = toMinorUnits(form.elements.amount.value);
      if (!Number.isFinite(amount)) throw new Error(t("error.amount_format"));
      const what = JSON.stringify([selected.id, amount, form.elements.method?.value, form.elements.reason?.value]);
      if (what !== typed) [action, typed] = [oneAction(), what];
      await action.run((key) => send(amount, key));
      action = typed = null;
      form.reset();
      clearError(errorBox);
      await select(selected.id, { fresh: false });
      await loadList();
    });
  });
}

moneyForm(topupForm, document.getElementById("topup-error"), (amount, key) =>
  api("POST", `/users/${selected.id}/topups`, { body: { amount, method: topupForm.elements.method.value }, idempotencyKey: key }),
);
moneyForm(adjustForm, document.getElementById("adjust-error"), (amount) =>
  api("POST", `/users/${selected.id}/adjustments`, { body: { amount, reason: adjustForm.elements.reason.value } }),
);

/** The customer dialog: empty for a new customer (never the last one's values or errors),
 * filled for an edit. */
function customerDialog(customer = null) {
  const dialog = document.getElementById("customer-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  dialog.querySelector("h2").textContent = customer ? t("customers.edit_title", { name: customer.full_name || customer.username }) : t("customers.new");
  dialog.querySelector('[data-field="username"]').hidden = Boolean(customer); // fixed once created
  if (customer) {
    for (const name of ["full_name", "phone", "email"]) form.elements[name].value = customer[name] ?? "";
    form.elements.is_member.checked = customer.is_member;
  }
  openDialog(dialog, async () => {
    const value = (name) => form.elements[name].value.trim() || null;
    const body = {
      full_name: value("full_name") ?? "",
      phone: value("phone"),
      email: value("email"),
      is_member: form.elements.is_member.checked,
    };
    const saved = customer
      ? await api("PATCH", `/customers/${customer.id}`, { body })
      : await api("POST", "/customers", { body: { ...body, username: value("username") ?? "" } });
    return async () => {
      await loadList();
      await select(saved.id, { fresh: !customer });
    };
  });
}

function secretDialog() {
  const dialog = document.getElementById("secret-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  dialog.querySelector('[data-field="who"]').textContent = selected.full_name || selected.username;
  const secret = form.elements.secret;
  const kind = () => form.elements.kind.value;
  const shape = () => {
    const pin = kind() === "pin";
    secret.inputMode = pin ? "numeric" : "text";
    secret.setAttribute("aria-describedby", "");
  };
  for (const radio of form.elements.kind) radio.onchange = shape;
  shape();
  openDialog(dialog, async () => {
    const value = secret.value;
    if (kind() === "pin" && !/^[0-9]{4,12}$/.test(value)) throw new Error(t("customers.pin_format"));
    const body = kind() === "pin" ? { pin: value } : { password: value };
    await api("PATCH", `/customers/${selected.id}`, { body });
    return null;
  });
}

function toggleCustomer() {
  const dialog = document.getElementById("confirm-dialog");
  const disabling = selected.is_active;
  const name = selected.full_name || selected.username;
  dialog.querySelector('[data-field="question"]').textContent = disabling
    ? t("customers.disable_question", { name })
    : t("customers.enable_question", { name });
  dialog.querySelector('[data-field="yes"]').textContent = disabling ? t("customers.disable") : t("customers.enable");
  openDialog(dialog, async () => {
    await api("PATCH", `/customers/${selected.id}`, { body: { is_active: !disabling } });
    return async () => {
      await loadList();
      await select(selected.id, { fresh: false });
    };
  });
}

document.getElementById("new-customer").addEventListener("click", () => customerDialog());
document.getElementById("edit-customer").addEventListener("click", () => customerDialog(selected));
document.getElementById("secret-customer").addEventListener("click", secretDialog);
document.getElementById("toggle-customer").addEventListener("click", toggleCustomer);

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
  // A selection under way (a customer just saved, another clicked) reads its customer anyway;
  // re-reading the one shown until then would replace it with the old one.
  if (selected && !selectionsUnderWay) await select(selected.id, { fresh: false });
}, 200);
feed.on("event", (event) => {
  if (event.type.startsWith("BALANCE_") || event.type.startsWith("USER_") || event.type.startsWith("CUSTOMER_")) refresh();
});
feed.on("sync", () => refresh());
await loadList();
const wanted = new URLSearchParams(location.search).get("id");
if (wanted) await select(wanted);
