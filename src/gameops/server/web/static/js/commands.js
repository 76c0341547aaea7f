// Staff commands on the floor: select stations (a checkbox on each card), send a message,
// lock, log off, restart, shut down, wake or clear a tamper lock, and follow each command
// live (sent or queued → done or failed → "Got it") from the feed. Works on the cards the
// floor page draws, whatever draws them: it only adds to them.

import { api, clearError, showError } from "./api.js";
import { openDialog } from "./dialogs.js";
import * as feed from "./feed.js";
import { el } from "./format.js";
import { t } from "./i18n.js";

const floor = document.getElementById("floor");
const bar = document.getElementById("command-bar");
const log = document.querySelector("#command-log ul");
const barError = document.getElementById("command-error");
const selected = new Set(); // station ids
const tracked = new Map(); // command id -> { row, cardState, station }
const early = new Map(); // command id -> feed events that came before the POST's answer

const KINDS = ["message", "lock", "logoff", "restart", "shutdown", "wake", "clear_tamper"];
const KIND_TEXT = Object.fromEntries(KINDS.map((kind) => [kind, t(`commands.kind.${kind}`)]));
const STATUSES = ["QUEUED", "SENT", "DONE", "FAILED"];
const STATUS_TEXT = Object.fromEntries(STATUSES.map((status) => [status, t(`commands.status.${status}`)]));

function cardOf(stationId) {
  return floor.querySelector(`.card[data-station-id="${stationId}"]`);
}

function nameOf(stationId) {
  return cardOf(stationId)?.dataset.name ?? stationId.slice(0, 8);
}

/** A checkbox and a command line on every card, added once per card node. */
function equip(card) {
  if (card.querySelector(".select")) return;
  const id = card.dataset.stationId;
  const box = el("input", { type: "checkbox", "aria-label": t("commands.select", { name: card.dataset.name ?? "" }) });
  box.checked = selected.has(id);
  box.addEventListener("change", () => {
    if (box.checked) selected.add(id);
    else selected.delete(id);
    card.dataset.selected = box.checked ? "yes" : "";
    renderCount();
  });
  card.querySelector("header")?.prepend(el("label", { class: "select" }, box));
  card.append(el("p", { class: "command-state", hidden: true, role: "status" }));
}

function renderCount() {
  for (const id of [...selected]) if (!cardOf(id)) selected.delete(id); // archived meanwhile
  const count = bar.querySelector('[data-field="count"]');
  count.textContent = selected.size ? t("commands.selected", { count: selected.size }) : t("commands.none_selected");
  for (const button of bar.querySelectorAll("[data-kind]")) button.disabled = !selected.size;
}

function selectAll(on) {
  for (const card of floor.querySelectorAll(".card[data-station-id]")) {
    const box = card.querySelector(".select input");
    if (!box || (on && card.closest("[hidden]"))) continue; // "all": all the filters show
    box.checked = on;
    box.dispatchEvent(new Event("change"));
  }
}

async function send(kind, stationIds, { confirm = false } = {}) {
  const text = bar.querySelector('[name="message"]').value.trim();
  const body = { kind, station_ids: stationIds, confirm, text: kind === "message" ? text : "" };
  clearError(barError);
  let answer;
  try {
    answer = await api("POST", "/commands", { body });
  } catch (err) {
    showError(barError, err);
    return;
  }
  const toConfirm = [];
  for (const outcome of answer.outcomes) {
    if (outcome.command) track(outcome.command);
    else if (outcome.extra?.confirm_required) toConfirm.push(outcome);
    else refused(kind, outcome);
  }
  if (toConfirm.length) askToConfirm(kind, toConfirm);
}

function askToConfirm(kind, outcomes) {
  const dialog = document.getElementById("command-confirm-dialog");
  dialog.querySelector("#command-confirm-title").textContent = t("commands.confirm_title", { kind: KIND_TEXT[kind] });
  const list = dialog.querySelector('[data-field="effects"]');
  list.replaceChildren(...outcomes.map((o) => el("li", {}, `${nameOf(o.station_id)}: ${o.extra.session_effect_text}`)));
  dialog.querySelector('[type="submit"]').textContent = t("commands.anyway", { kind: KIND_TEXT[kind] });
  openDialog(dialog, async () => () => send(kind, outcomes.map((o) => o.station_id), { confirm: true }));
}

function row(stationId, kind, text) {
  const status = el("span", { class: "command-status" });
  const node = el("li", { "data-station-id": stationId, "data-kind": kind }, el("strong", {}, nameOf(stationId)), ` · ${text} · `, status);
  log.prepend(node);
  while (log.children.length > 100) log.lastElementChild.remove();
  return { node, status };
}

function refused(kind, outcome) {
  const { node, status } = row(outcome.station_id, kind, KIND_TEXT[kind]);
  node.dataset.status = "REFUSED";
  status.textContent = t("commands.refused", { error: outcome.error });
  if (outcome.extra?.offer === "wake") {
    const wake = el("button", { type: "button", class: "ghost" }, t("commands.wake_it"));
    wake.addEventListener("click", () => send("wake", [outcome.station_id]));
    node.append(" ", wake);
  }
}

/** The last commands sent (by anyone), oldest first: the log survives a reload. */
async function loadHistory() {
  try {
    const page = await api("GET", "/commands", { params: { per_page: 30 } });
    for (const command of page.items.reverse()) if (!tracked.has(command.id)) track(command);
  } catch (err) {
    showError(barError, err);
  }
}

function track(command) {
  const label = command.kind === "message" ? t("commands.message_label", { text: command.text }) : KIND_TEXT[command.kind];
  const { node, status } = row(command.station_id, command.kind, label);
  node.dataset.commandId = command.id;
  const entry = { node, status, command: { ...command } };
  tracked.set(command.id, entry);
  show(entry);
  for (const event of early.get(command.id) ?? []) apply(entry, event);
  early.delete(command.id);
}

function show(entry) {
  const { command, node, status } = entry;
  node.dataset.status = command.status;
  node.dataset.seen = command.seen_at ? "yes" : "";
  let text = STATUS_TEXT[command.status] ?? command.status;
  if (command.via_station_id && command.status === "SENT") text += ` (${t("commands.relayed", { name: nameOf(command.via_station_id) })})`;
  if (command.detail) text += `: ${command.detail}`;
  if (command.seen_at) text += ` · ✓ ${t("commands.got_it")}`;
  status.textContent = text;
  const state = cardOf(command.station_id)?.querySelector(".command-state");
  if (state) {
    state.hidden = false;
    state.dataset.status = command.status;
    state.textContent = `${KIND_TEXT[command.kind]}: ${text}`;
  }
}

function apply(entry, event) {
  if (event.type === "STATION_COMMAND_RESULT") {
    Object.assign(entry.command, { status: event.data.status, ok: event.data.ok, detail: event.data.detail });
  } else if (event.type === "STATION_COMMAND_SEEN") {
    entry.command.seen_at = event.created_at;
  }
  show(entry);
}

feed.on("event", (event) => {
  const id = event.data?.command_id;
  if (!id || !event.type.startsWith("STATION_COMMAND_")) return;
  const entry = tracked.get(id);
  if (entry) apply(entry, event);
  else early.set(id, [...(early.get(id) ?? []), event]);
});

bar.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.select) selectAll(button.dataset.select === "all");
  else if (button.dataset.kind) send(button.dataset.kind, [...selected]);
});

let historyAsked = false;
const CONTAINERS = new Set(["cards", "zone"]);
/** Cards (or zones of cards) came or went: not just a card's texts changing every second. */
const cardsMoved = (m) =>
  (m.target === floor || [...(m.target.classList ?? [])].some((c) => CONTAINERS.has(c))) &&
  [...m.addedNodes, ...m.removedNodes].some((node) => node.nodeType === Node.ELEMENT_NODE);
new MutationObserver((mutations) => {
  if (!mutations.some(cardsMoved)) return;
  for (const card of floor.querySelectorAll(".card[data-station-id]")) equip(card);
  renderCount();
  if (!historyAsked && floor.querySelector(".card")) {
    historyAsked = true; // once the cards (and so the stations' names) are there
    loadHistory();
  }
}).observe(floor, { childList: true, subtree: true });
renderCount();
