// The till: the open shift's drawer, opening with a counted float, closing with a count
// (expected against counted, the variance), the shifts' handovers and the receipts.

import { api, clearError, showError, whileBusy } from "../api.js";
import * as feed from "../feed.js";
import { dateTime, debounce, el, money } from "../format.js";
import { t } from "../i18n.js";
import { download, methodText, receiptKind, showPrintable } from "../printing.js";
import { boot } from "../shell.js";

const error = document.getElementById("till-error");
const form = document.getElementById("count-form");
const countError = document.getElementById("count-error");
const result = document.getElementById("close-result");
let denominations = [];
let current = null; // the open shift, or null
let report = null; // its handover so far

const field = (name) => document.querySelector(`[data-field="${name}"]`);

function countRows() {
  const body = document.querySelector("#count-table tbody");
  body.replaceChildren(
    ...denominations.map((value) =>
      el(
        "tr",
        {},
        el("td", {}, money(value)),
        el("td", {}, el("input", { type: "number", min: 0, step: 1, inputmode: "numeric", name: `d${value}`, "aria-label": t("till.pieces_of", { value: money(value) }), value: 0 })),
        el("td", { "data-value": value }, money(0)),
      ),
    ),
  );
}

function count() {
  const pieces = {};
  let total = 0;
  for (const value of denominations) {
    const n = Number.parseInt(form.elements[`d${value}`].value || "0", 10);
    if (n > 0) pieces[value] = n;
    total += Math.max(0, n) * value;
    form.querySelector(`[data-value="${value}"]`).textContent = money(Math.max(0, n) * value);
  }
  return { pieces, total };
}

function showCount() {
  const { total } = count();
  field("counted").textContent = money(total);
  const preview = field("variance-preview");
  if (current && report) {
    const variance = total - report.expected_cash;
    const amount = money(Math.abs(variance));
    preview.textContent = variance === 0 ? t("till.exact_preview") : t(variance < 0 ? "till.short_by" : "till.over_by", { amount });
    preview.dataset.sign = Math.sign(variance);
  } else {
    preview.textContent = "";
  }
}

async function load() {
  try {
    current = await api("GET", "/shifts/current").catch((err) => {
      if (err.status === 404) return null;
      throw err;
    });
    report = current ? await api("GET", `/shifts/${current.id}/report`) : null;
    renderShift();
    await Promise.all([loadShifts(), loadReceipts()]);
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function renderShift() {
  const stats = document.getElementById("shift-stats");
  stats.hidden = !current;
  if (current) {
    field("shift-state").textContent = t("till.open_since", { since: dateTime(current.opened_at), count: report.payments });
    field("float").textContent = money(current.opening_float);
    field("cash_in").textContent = money(report.cash_in);
    field("cash_out").textContent = money(report.cash_out);
    field("expected").textContent = money(report.expected_cash);
    field("count-title").textContent = t("till.count_drawer");
    field("count-submit").textContent = t("till.close_shift");
  } else {
    field("shift-state").textContent = t("till.none_open");
    field("count-title").textContent = t("till.count_float");
    field("count-submit").textContent = t("till.open_shift");
  }
  showCount();
}

async function loadShifts() {
  const page = await api("GET", "/shifts", { params: { per_page: 10 } });
  const body = document.querySelector("#shifts-table tbody");
  body.replaceChildren(
    ...page.items.map((shift) => {
      const variance = shift.variance === null ? "—" : money(shift.variance);
      const print = el("button", { type: "button", class: "ghost", "data-action": "handover" }, t("till.print"));
      const csv = el("button", { type: "button", class: "ghost", "data-action": "csv" }, "CSV");
      print.onclick = () => showPrintable(`/shifts/${shift.id}/report`, t("till.handover_title"), { format: "html" });
      csv.onclick = () => download(`/shifts/${shift.id}/report`, { format: "csv" }, `shift-${shift.opened_at.slice(0, 10)}.csv`).catch((err) => showError(error, err));
      return el(
        "tr",
        { "data-shift-id": shift.id },
        el("td", {}, dateTime(shift.opened_at)),
        el("td", {}, shift.closed_at ? dateTime(shift.closed_at) : t("till.still_open")),
        el("td", {}, shift.expected_cash === null ? "—" : money(shift.expected_cash)),
        el("td", {}, shift.counted_cash === null ? "—" : money(shift.counted_cash)),
        el("td", { "data-sign": Math.sign(shift.variance ?? 0) }, variance),
        el("td", {}, print, " ", csv),
      );
    }),
  );
  if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("till.no_shifts"))));
}

async function loadReceipts() {
  const page = await api("GET", "/receipts", { params: { per_page: 15 } });
  const body = document.querySelector("#receipts-table tbody");
  body.replaceChildren(
    ...page.items.map((receipt) => {
      const thermal = el("button", { type: "button", class: "ghost" }, "80 mm");
      const a4 = el("button", { type: "button", class: "ghost" }, "A4");
      const title = t("till.receipt_title", { number: receipt.number });
      thermal.onclick = () => showPrintable(`/receipts/${receipt.id}/print`, title, { paper: "80mm" });
      a4.onclick = () => showPrintable(`/receipts/${receipt.id}/print`, title, { paper: "a4" });
      return el(
        "tr",
        { "data-receipt": receipt.number },
        el("td", {}, String(receipt.number).padStart(6, "0")),
        el("td", {}, dateTime(receipt.issued_at)),
        el("td", {}, receiptKind(receipt.kind)),
        el("td", {}, receipt.customer ?? t("common.walk_in")),
        el("td", {}, methodText(receipt.method)),
        el("td", {}, money(receipt.total)),
        el("td", {}, thermal, " ", a4),
      );
    }),
  );
  if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("till.no_receipts"))));
}

function showResult(shift) {
  const variance = shift.variance === 0
    ? t("till.no_variance")
    : t(shift.variance < 0 ? "till.variance_short" : "till.variance_over", { amount: money(shift.variance) });
  result.replaceChildren(
    el("h3", {}, t("till.closed_title")),
    el("p", {}, t("till.expected_counted", { expected: money(shift.expected_cash), counted: money(shift.counted_cash) })),
    el("p", { class: "variance", "data-sign": Math.sign(shift.variance) }, variance),
  );
  const print = el("button", { type: "button", class: "primary" }, t("till.print_handover"));
  print.onclick = () => showPrintable(`/shifts/${shift.id}/report`, t("till.handover_title"), { format: "html" });
  result.append(print);
  result.hidden = false;
}

form.addEventListener("input", showCount);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = field("count-submit");
  await whileBusy(submit, countError, async () => {
    const body = { count: count().pieces, note: form.elements.note.value };
    if (current) {
      showResult(await api("POST", `/shifts/${current.id}/close`, { body }));
    } else {
      await api("POST", "/shifts", { body });
      result.hidden = true;
    }
    clearError(countError);
    countRows();
    form.elements.note.value = "";
    await load();
  });
});

await boot();
denominations = (await api("GET", "/shifts/till")).denominations;
countRows();
const reload = debounce(load, 300);
feed.on("event", (event) => {
  if (/^(PAYMENT_|BALANCE_|SHIFT_)/.test(event.type)) reload();
});
feed.on("sync", () => reload());
await load();
