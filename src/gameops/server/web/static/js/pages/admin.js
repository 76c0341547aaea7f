// Admin: stations (create, edit, agent tokens, archive) and staff accounts. Admins only;
// the API refuses operators anyway, this page just does not offer them what they cannot do.

import { api, clearError, showError } from "../api.js";
import { openDialog } from "../dialogs.js";
import * as feed from "../feed.js";
import { debounce, el, fromMinorUnits, money, toMinorUnits, words } from "../format.js";
import { allPages } from "../lookups.js";
import { boot } from "../shell.js";

const stationsBody = document.querySelector("#stations-table tbody");
const staffBody = document.querySelector("#staff-table tbody");
const stationsError = document.getElementById("stations-error");
const staffError = document.getElementById("staff-error");
let me = null;

const button = (label, onClick, cls = "") => {
  const node = el("button", { type: "button", class: cls || null }, label);
  node.addEventListener("click", onClick);
  return node;
};

async function loadStations() {
  try {
    const stations = await allPages("/stations");
    stationsBody.replaceChildren(...stations.map(stationRow));
    clearError(stationsError);
  } catch (err) {
    showError(stationsError, err);
  }
}

function stationRow(station) {
  const agent = station.type === "CONSOLE" ? "—" : station.agent_connected ? "connected" : "not connected";
  return el(
    "tr",
    { "data-station-id": station.id, "data-name": station.name },
    el("td", {}, station.name),
    el("td", {}, station.type === "CONSOLE" ? "Console" : "PC"),
    el("td", {}, station.zone ?? ""),
    el("td", {}, money(station.hourly_rate)),
    el("td", {}, words(station.status)),
    el("td", {}, agent),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        button("Edit", () => editStation(station)),
        station.type === "PC" ? button("Issue agent token", () => issueToken(station)) : null,
        button("Archive", () => archiveStation(station), "danger"),
      ),
    ),
  );
}

function editStation(station = null) {
  const dialog = document.getElementById("station-dialog");
  const form = dialog.querySelector("form");
  dialog.querySelector("h2").textContent = station ? `Edit ${station.name}` : "New station";
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
    if (!Number.isFinite(rate)) throw new Error("Enter the rate per hour, e.g. 6.00");
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

function issueToken(station) {
  confirm(
    `Issue a new agent token for ${station.name}? Its current token stops working and a connected agent is disconnected.`,
    "Issue token",
    async () => {
      const issued = await api("POST", `/stations/${station.id}/agent-token`);
      const dialog = document.getElementById("token-dialog");
      dialog.querySelector('[data-field="station"]').textContent = station.name;
      dialog.querySelector('[name="station_id"]').value = issued.station_id;
      const input = dialog.querySelector('[name="token"]');
      input.value = issued.token;
      dialog.querySelector("[data-copy]").onclick = () => navigator.clipboard?.writeText(issued.token);
      // The token lives only in this dialog: cleared when it closes, never stored.
      dialog.addEventListener("close", () => { input.value = ""; }, { once: true });
      return () => {
        openDialog(dialog, null);
        input.select();
      };
    },
  );
}

function archiveStation(station) {
  confirm(
    `Archive ${station.name}? It leaves the floor; its sessions and payments stay in the books.`,
    "Archive",
    async () => {
      await api("DELETE", `/stations/${station.id}`);
      return loadStations;
    },
  );
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
  return el(
    "tr",
    { "data-plan-id": plan.id, "data-zone": plan.zone },
    el("td", {}, plan.zone),
    el("td", {}, plan.name),
    el("td", {}, money(plan.member_hourly_rate)),
    el("td", {}, money(plan.guest_hourly_rate)),
    el("td", { class: "details" }, plan.rules.map((r) => `${r.name} ${r.start.slice(0, 5)}–${r.end.slice(0, 5)}`).join(", ")),
    el("td", { class: "details" }, plan.packages.map((p) => `${p.name} ${money(p.price)}`).join(", ")),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        button("Edit", () => editPlan(plan)),
        button("Delete", () => confirm(`Delete the plan for ${plan.zone}? Its stations go back to their own hourly rates.`, "Delete", async () => {
          await api("DELETE", `/pricing/plans/${plan.id}`);
          return loadPlans;
        }), "danger"),
      ),
    ),
  );
}

function parseList(text, what) {
  if (!text.trim()) return [];
  try {
    const value = JSON.parse(text);
    if (Array.isArray(value)) return value;
  } catch {
    /* fall through */
  }
  throw new Error(`${what}: write a JSON list, like the example shown when the box is empty.`);
}

function editPlan(plan = null) {
  const dialog = document.getElementById("plan-dialog");
  const form = dialog.querySelector("form");
  dialog.querySelector("h2").textContent = plan ? `Edit ${plan.name}` : "New rate plan";
  form.reset();
  if (plan) {
    for (const name of ["zone", "name"]) form.elements[name].value = plan[name];
    form.elements.member_hourly_rate.value = fromMinorUnits(plan.member_hourly_rate);
    form.elements.guest_hourly_rate.value = fromMinorUnits(plan.guest_hourly_rate);
    form.elements.rules.value = plan.rules.length ? JSON.stringify(plan.rules, null, 1) : "";
    form.elements.packages.value = plan.packages.length ? JSON.stringify(plan.packages, null, 1) : "";
  }
  openDialog(dialog, async () => {
    const body = {
      zone: form.elements.zone.value.trim(),
      name: form.elements.name.value.trim(),
      member_hourly_rate: toMinorUnits(form.elements.member_hourly_rate.value),
      guest_hourly_rate: toMinorUnits(form.elements.guest_hourly_rate.value),
      rules: parseList(form.elements.rules.value, "Time rules"),
      packages: parseList(form.elements.packages.value, "Packages"),
    };
    if (plan) await api("PUT", `/pricing/plans/${plan.id}`, { body });
    else await api("POST", "/pricing/plans", { body });
    return loadPlans;
  });
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
    el("td", {}, user.username + (self ? " (you)" : "")),
    el("td", {}, user.full_name),
    el("td", {}, words(user.role)),
    el("td", {}, user.is_active ? "yes" : "no"),
    el(
      "td",
      {},
      el(
        "div",
        { class: "actions" },
        self ? null : button(`Make ${words(otherRole).toLowerCase()}`, () => patchUser(user, { role: otherRole })),
        self ? null : button(user.is_active ? "Disable" : "Enable", () => patchUser(user, { is_active: !user.is_active })),
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
  document.getElementById("new-plan").addEventListener("click", () => editPlan());
  const reload = debounce(loadStations, 200);
  feed.on("event", (event) => {
    if (event.type.startsWith("STATION_") || event.type.startsWith("AGENT_")) reload();
    if (event.type.startsWith("USER_")) loadStaff();
    if (event.type.startsWith("PRICING_")) loadPlans();
  });
  feed.on("sync", () => reload());
  await Promise.all([loadStations(), loadStaff(), loadPlans()]);
}
