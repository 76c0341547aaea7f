// Payments: the day's money in, revenue and balances (GET /reports/money), payments by hour
// and by method (GET /reports/revenue), and cash per operator (GET /reports/shift). The day runs midnight to midnight on this browser's clock.

import { api, clearError, showError } from "../api.js";
import * as feed from "../feed.js";
import { debounce, el, money, number } from "../format.js";
import { t, tEnum } from "../i18n.js";
import { boot } from "../shell.js";

const METHODS = { CASH: "#38d39f", CARD: "#4da3ff", BALANCE: "#b18cff" };
const SVG = "http://www.w3.org/2000/svg";
const form = document.getElementById("day-form");
const error = document.getElementById("payments-error");

function dayWindow() {
  const [y, m, d] = form.elements.day.value.split("-").map(Number);
  const start = new Date(y, m - 1, d);
  const hours = Array.from({ length: 25 }, (_, h) => new Date(y, m - 1, d, h));
  return { from: start.toISOString(), to: hours[24].toISOString(), hours };
}

const revenue = (from, to, groupBy) =>
  api("GET", "/reports/revenue", { params: { from, to, group_by: groupBy } });

async function load() {
  const { from, to, hours } = dayWindow();
  try {
    const [figures, byMethod, byStation, shift, ...byHour] = await Promise.all([
      api("GET", "/reports/money", { params: { from, to } }),
      revenue(from, to, "method"),
      revenue(from, to, "station"),
      api("GET", "/reports/shift", { params: { from, to } }),
      // One window per hour: the report groups by day, method or station, not by hour.
      ...hours.slice(0, 24).map((h, i) => revenue(h.toISOString(), hours[i + 1].toISOString(), "method")),
    ]);
    renderTotals(figures, byMethod.total);
    renderMethods(byMethod.groups);
    renderStations(byStation.groups);
    renderShift(shift.operators);
    renderChart(byHour.map((report) => report.groups));
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

/** The headline: the three figures of docs/money.md, never added together. */
function renderTotals(figures, total) {
  const set = (field, text) => (document.querySelector(`[data-field="${field}"]`).textContent = text);
  set("money_in", money(figures.money_in.total));
  set("money_in_split", t("payments.money_in_split", { cash: money(figures.money_in.CASH), card: money(figures.money_in.CARD) }));
  set("revenue", money(figures.revenue));
  set("revenue_note", figures.refunds ? t("payments.revenue_note", { amount: money(figures.refunds) }) : "");
  set("kept_deposits", figures.kept_deposits ? t("payments.kept_deposits", { amount: money(figures.kept_deposits) }) : "");
  set("liability", money(figures.liability.at_end));
  const held = figures.liability.held_deposits_at_end;
  set("held_deposits", held ? t("payments.held_deposits", { amount: money(held) }) : "");
  const change = figures.liability.change;
  const signed = `${change > 0 ? "+" : "−"}${money(Math.abs(change))}`;
  set("liability_change", change ? t("payments.liability_change", { amount: signed }) : "");
  set("payments", number(total.payments));
  const taxes = figures.taxes.filter((line) => line.rate_bp > 0);
  const taxLines = document.getElementById("tax-lines");
  taxLines.hidden = !taxes.length;
  taxLines.textContent = taxes
    .map((line) => t("payments.tax_line", { rate: line.rate_bp / 100, net: money(line.net), tax: money(line.tax), gross: money(line.gross) }))
    .join(" · ");
}

function rows(table, items, cells, empty) {
  const body = document.querySelector(`#${table} tbody`);
  body.replaceChildren(...items.map((item) => el("tr", { "data-key": item.key }, ...cells(item).map((c) => el("td", {}, c)))));
  if (!items.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, empty)));
}

function renderMethods(groups) {
  rows("method-table", groups, (g) => [tEnum("method", g.key), number(g.payments), money(g.gross), money(g.refunds), money(g.net)], t("payments.none"));
}

function renderStations(groups) {
  rows("station-table", groups, (g) => [g.key, number(g.payments), money(g.net)], t("payments.none"));
}

function renderShift(operators) {
  const items = operators.map((o) => ({ ...o, key: o.operator }));
  rows("shift-table", items, (o) => [o.operator, number(o.payments), money(o.cash)], t("payments.no_cash"));
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Stacked bars: one per hour, a segment per method (net of refunds, never below zero). */
function renderChart(hourGroups) {
  const width = 960, height = 260, left = 56, bottom = 24, top = 10;
  const slot = (width - left) / 24;
  const value = (groups, method) => Math.max(0, groups.find((g) => g.key === method)?.net ?? 0);
  const totals = hourGroups.map((groups) => Object.keys(METHODS).reduce((sum, m) => sum + value(groups, m), 0));
  const max = Math.max(1, ...totals);
  const y = (amount) => ((height - bottom - top) * amount) / max;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}` });
  for (const fraction of [0, 0.5, 1]) {
    const at = height - bottom - y(max * fraction);
    chart.append(svg("line", { x1: left, x2: width, y1: at, y2: at }), svg("text", { x: 0, y: at + 4 }, money(Math.round(max * fraction))));
  }
  hourGroups.forEach((groups, hour) => {
    let base = height - bottom;
    for (const [method, colour] of Object.entries(METHODS)) {
      const h = y(value(groups, method));
      if (h <= 0) continue;
      base -= h;
      const bar = svg("rect", { x: left + hour * slot + 2, y: base, width: slot - 4, height: h, fill: colour, "data-hour": hour, "data-method": method });
      bar.append(svg("title", {}, `${String(hour).padStart(2, "0")}:00 ${tEnum("method", method)}: ${money(value(groups, method))}`));
      chart.append(bar);
    }
    if (hour % 3 === 0) chart.append(svg("text", { x: left + hour * slot + 2, y: height - 6 }, `${String(hour).padStart(2, "0")}h`));
  });
  document.getElementById("chart").replaceChildren(chart);
  document.getElementById("legend").replaceChildren(
    ...Object.entries(METHODS).map(([method, colour]) => el("li", {}, swatch(colour), tEnum("method", method))),
  );
}

/** A legend's colour square. Set through the CSSOM: the CSP refuses inline style attributes. */
function swatch(colour) {
  const node = el("span");
  node.style.background = colour;
  return node;
}

async function downloadCsv() {
  const { from, to } = dayWindow();
  try {
    const response = await api("GET", "/reports/revenue", { params: { from, to, group_by: "station", format: "csv" }, raw: true });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `revenue-${form.elements.day.value}.csv` });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (err) {
    showError(error, err);
  }
}

const today = new Date();
form.elements.day.value = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, "0")}-${String(today.getDate()).padStart(2, "0")}`;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
document.getElementById("csv-button").addEventListener("click", downloadCsv);

await boot();
const reload = debounce(load, 500);
feed.on("event", (event) => {
  if (event.type.startsWith("PAYMENT_") || event.type.startsWith("BALANCE_") || event.type.startsWith("SESSION_") || event.type.startsWith("RESERVATION_")) reload();
});
feed.on("sync", () => reload());
await load();
