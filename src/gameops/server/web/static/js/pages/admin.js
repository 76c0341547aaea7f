// Admin: stations (create, edit, set up a PC, archive), staff accounts (create, role,
// disable, reset a password) and rate plans. Admins only; the API refuses operators anyway,
// this page just does not offer them what they cannot do.

import { api, clearError, showError } from "../api.js";
import { COPIED_MS, copyText, openDialog, showCopied } from "../dialogs.js";
import * as feed from "../feed.js";
import { debounce, el, fromMinorUnits, minutesText, money, toMinorUnits } from "../format.js";
import { t, tEnum } from "../i18n.js";
import { allPages } from "../lookups.js";
import { editPlan } from "../planform.js";
import { boot } from "../shell.js";

const stationsBody = document.querySelector("#stations-table tbody");
const staffBody = document.querySelector("#staff-table tbody");
const stationsError = document.getElementById("stations-error");
const staffError = document.getElementById("staff-error");
let me = null;
// When each station's id was copied: a live event right after the click reloads the table,
// and the new row's button keeps saying "Copied" for the rest of the time it would have.
const copiedAt = new Map();

const button = (label, onClick, cls = "") => {
  const node = el("button", { type: "button", class: cls || null }, label);
  node.addEventListener("click", onClick);
  return node;
};

async function loadStations() {
  try {
    const stations = await allPages("/stations");
    stationsBody.replaceChildren(...stations.map(stationRow));
    if (!stations.length) stationsBody.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, t("admin.no_stations"))));
    clearError(stationsError);
  } catch (err) {
    showError(stationsError, err);
  }
}

function stationRow(station) {
  const agent = station.type === "CONSOLE" ? "—" : station.agent_connected ? t("admin.connected") : t("admin.not_connected");
  const id = el("code", { class: "mono small", title: station.id }, station.id.slice(0, 8) + "…");
  const copy = button(t("common.copy"), (event) => {
    copiedAt.set(station.id, Date.now());
    return copyText(station.id, idField, event.currentTarget);
  }, "ghost");
  const idField = el("input", { class: "visually-hidden", value: station.id, readonly: true, tabindex: -1, "aria-hidden": "true" });
  copy.setAttribute("aria-label", t("admin.copy_id", { name: station.name }));
  const copiedFor = Date.now() - (copiedAt.get(station.id) ?? -Infinity);
  if (copiedFor < COPIED_MS) showCopied(copy, COPIED_MS - copiedFor);
  return el(
    "tr",
    { "data-station-id": station.id, "data-name": station.name },
    el("td", {}, station.name),
    el("td", { class: "id-cell" }, id, copy, idField),
    el("td", {}, tEnum("station_type", station.type)),
    el("td", {}, station.zone ?? ""),
    el("td", {}, money(station.hourly_rate)),
    el("td", {}, tEnum("station_status", station.status)),
    el("td", {}, agent),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        button(t("common.edit"), () => editStation(station)),
        station.type === "PC" ? button(t("setup.button"), () => setUpPc(station)) : null,
        button(t("admin.archive"), () => archiveStation(station), "danger"),
      ),
    ),
  );
}

function editStation(station = null) {
  const dialog = document.getElementById("station-dialog");
  const form = dialog.querySelector("form");
  dialog.querySelector("h2").textContent = station ? t("customers.edit_title", { name: station.name }) : t("admin.new_station");
  form.reset();
  form.elements.type.disabled = Boolean(station); // a station's type is fixed once created
  if (station) {
    form.elements.name.value = station.name;
    form.elements.type.value = station.type;
    form.elements.zone.value = station.zone ?? "";
    form.elements.hourly_rate.value = fromMinorUnits(station.hourly_rate);
  }
  openDialog(dialog, async () => {
    const rate = toMinorUnits(form.elements.hourly_rate.value);
    if (!Number.isFinite(rate)) throw new Error(t("admin.rate_missing"));
    const body = {
      name: form.elements.name.value.trim(),
      zone: form.elements.zone.value.trim() || null,
      hourly_rate: rate,
    };
    if (station) await api("PATCH", `/stations/${station.id}`, { body });
    else await api("POST", "/stations", { body: { ...body, type: form.elements.type.value } });
    return loadStations;
  });
}

function confirm(question, yes, action) {
  const dialog = document.getElementById("confirm-dialog");
  dialog.querySelector('[data-field="question"]').textContent = question;
  dialog.querySelector('[data-field="yes"]').textContent = yes;
  openDialog(dialog, action);
}

/** What the PC needs: the agent's config, or the Windows installer's silent line. */
export function setupTexts(station, token, origin = location) {
  const secure = origin.protocol === "https:";
  const server = `${secure ? "wss" : "ws"}://${origin.host}`;
  const cafile = secure ? " /CAFILE=C:\\ProgramData\\GameOps\\server-cert.pem" : "";
  const silent = `gameops-agent-setup.exe /S /SERVER=${server} /STATION=${station.id} /TOKEN=${token}${cafile}`;
  const config = [
    "station:",
    `  id: "${station.id}"`,
    `  name: ${JSON.stringify(station.name)}`,
    "backend:",
    `  url: "${server}"`,
    `  token: "${token}"`,
    secure ? '  ca_file: "C:\\\\ProgramData\\\\GameOps\\\\server-cert.pem"' : null,
  ].filter((line) => line !== null).join("\n");
  return { silent, config, secure };
}

function setUpPc(station) {
  confirm(t("setup.question", { name: station.name }), t("setup.issue"), async () => {
    const issued = await api("POST", `/stations/${station.id}/agent-token`);
    const dialog = document.getElementById("setup-dialog");
    const form = dialog.querySelector("form");
    const texts = setupTexts(station, issued.token);
    dialog.querySelector('[data-field="station"]').textContent = station.name;
    dialog.querySelector('[data-field="cafile"]').hidden = !texts.secure;
    const values = { station_id: issued.station_id, token: issued.token, silent: texts.silent, config: texts.config };
    for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
    for (const copy of dialog.querySelectorAll("[data-copy]")) {
      const field = form.elements[copy.dataset.copy];
      copy.onclick = () => copyText(field.value, field, copy);
    }
    // The token lives only in this dialog: cleared when it closes, never stored.
    dialog.addEventListener("close", () => {
      for (const name of ["token", "silent", "config"]) form.elements[name].value = "";
    }, { once: true });
    return () => {
      openDialog(dialog, null);
      form.elements.silent.select();
    };
  });
}

function archiveStation(station) {
  confirm(t("admin.archive_question", { name: station.name }), t("admin.archive"), async () => {
    await api("DELETE", `/stations/${station.id}`);
    return loadStations;
  });
}

async function loadPlans() {
  const error = document.getElementById("plans-error");
  try {
    const plans = await api("GET", "/pricing/plans");
    document.querySelector("#plans-table tbody").replaceChildren(...plans.map(planRow));
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function planRow(plan) {
  const rule = (r) => `${r.name} ${r.start.slice(0, 5)}–${r.end.slice(0, 5)}`;
  const pack = (p) => `${p.name} (${minutesText(p.minutes)}) ${money(p.price)}`;
  return el(
    "tr",
    { "data-plan-id": plan.id, "data-zone": plan.zone },
    el("td", {}, plan.zone),
    el("td", {}, plan.name),
    el("td", {}, money(plan.member_hourly_rate)),
    el("td", {}, money(plan.guest_hourly_rate)),
    el("td", { class: "details" }, plan.rules.map(rule).join(", ")),
    el("td", { class: "details" }, plan.packages.map(pack).join(", ")),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        button(t("common.edit"), () => editPlan(plan, loadPlans)),
        button(t("common.delete"), () => confirm(t("plans.delete_question", { zone: plan.zone }), t("common.delete"), async () => {
          await api("DELETE", `/pricing/plans/${plan.id}`);
          return loadPlans;
        }), "danger"),
      ),
    ),
  );
}

async function loadStaff() {
  try {
    const users = await allPages("/users");
    staffBody.replaceChildren(...users.map(staffRow));
    clearError(staffError);
  } catch (err) {
    showError(staffError, err);
  }
}

function staffRow(user) {
  const self = user.id === me.id;
  const otherRole = user.role === "ADMIN" ? "OPERATOR" : "ADMIN";
  return el(
    "tr",
    { "data-user-id": user.id, "data-username": user.username },
    el("td", {}, user.username + (self ? ` (${t("events.you")})` : "")),
    el("td", {}, user.full_name),
    el("td", {}, t(`admin.role_${user.role.toLowerCase()}`)),
    el("td", {}, user.is_active ? t("common.yes") : t("common.no")),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        self ? null : button(t(`admin.make_${otherRole.toLowerCase()}`), () => patchUser(user, { role: otherRole })),
        self ? null : button(user.is_active ? t("customers.disable") : t("customers.enable"), () => patchUser(user, { is_active: !user.is_active })),
        self ? null : button(t("admin.reset_password"), () => resetPassword(user)),
      ),
    ),
  );
}

async function patchUser(user, body) {
  try {
    await api("PATCH", `/users/${user.id}`, { body });
    await loadStaff();
  } catch (err) {
    showError(staffError, err);
  }
}

function resetPassword(user) {
  const dialog = document.getElementById("reset-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  dialog.querySelector('[data-field="who"]').textContent = t("admin.reset_for", { name: user.full_name || user.username });
  openDialog(dialog, async () => {
    await api("PATCH", `/users/${user.id}`, { body: { password: form.elements.password.value } });
    return null;
  });
}

function newUser() {
  const dialog = document.getElementById("user-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  openDialog(dialog, async () => {
    const body = Object.fromEntries(["username", "full_name", "password", "role"].map((k) => [k, form.elements[k].value]));
    await api("POST", "/users", { body });
    return loadStaff;
  });
}

const { user, isAdmin } = await boot();
me = user;
if (!isAdmin) {
  document.getElementById("admin-denied").hidden = false;
} else {
  document.getElementById("admin-body").hidden = false;
  document.getElementById("new-station").addEventListener("click", () => editStation());
  document.getElementById("new-user").addEventListener("click", newUser);
  document.getElementById("new-plan").addEventListener("click", () => editPlan(null, loadPlans));
  const reload = debounce(loadStations, 200);
  feed.on("event", (event) => {
    if (event.type.startsWith("STATION_") || event.type.startsWith("AGENT_")) reload();
    if (event.type.startsWith("USER_")) loadStaff();
    if (event.type.startsWith("PRICING_")) loadPlans();
  });
  feed.on("sync", () => reload());
  await Promise.all([loadStations(), loadStaff(), loadPlans()]);
}
