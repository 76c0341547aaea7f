// The rate plan form: prices in the currency, time-of-day rules as rows shown on a week
// grid, packages as rows; checked as the admin types (Save waits until it is right).
// (Row fields are not called "name": form.elements.name must stay the plan's own.)

import { api } from "./api.js";
import { openDialog } from "./dialogs.js";
import { el, fromMinorUnits, minutesText, toMinorUnits } from "./format.js";
import { language, t } from "./i18n.js";

const dialog = document.getElementById("plan-dialog");
const form = dialog?.querySelector("form");
const MAX_MINUTES = Number(document.body.dataset.maxMinutes || 1440);
const COLOURS = ["#4da3ff", "#b18cff", "#f5a524", "#38d39f", "#ff5c6c", "#5fd4e8"];
// 2024-01-01 was a Monday: day 0, as the API counts.
const dayName = (day, style = "short") => new Intl.DateTimeFormat(language, { weekday: style }).format(new Date(2024, 0, 1 + day));

const input = (name, attributes = {}) => el("input", { name, autocomplete: "off", ...attributes });

function ruleRow(rule = {}) {
  const days = el(
    "div",
    { class: "days", role: "group", "aria-label": t("plans.days") },
    ...[0, 1, 2, 3, 4, 5, 6].map((day) =>
      el("label", { class: "day", title: dayName(day, "long") },
        el("input", { type: "checkbox", value: day, checked: rule.days?.includes(day) }), dayName(day).slice(0, 2)),
    ),
  );
  return row("rule", [
    input("rule_name", { value: rule.name ?? "", maxlength: 64, "aria-label": t("admin.name") }),
    input("start", { type: "time", value: rule.start?.slice(0, 5) ?? "18:00", "aria-label": t("plans.from") }),
    input("end", { type: "time", value: rule.end?.slice(0, 5) ?? "23:00", "aria-label": t("plans.to") }),
    days,
    money("member", rule.member_hourly_rate, t("plans.member")),
    money("guest", rule.guest_hourly_rate, t("plans.guest")),
  ]);
}

function packageRow(pack = {}) {
  const minutes = input("minutes", { type: "number", min: 1, max: MAX_MINUTES, step: 1, value: pack.minutes ?? 180, class: "short", "aria-label": t("plans.length") });
  const shown = el("span", { class: "muted small", "data-field": "length" });
  return row("package", [
    input("package_name", { value: pack.name ?? "", maxlength: 64, "aria-label": t("admin.name") }),
    el("span", { class: "length" }, minutes, shown),
    money("price", pack.price, t("plans.price", { currency: document.body.dataset.currency })),
    el("input", { type: "checkbox", name: "members_only", checked: pack.members_only, "aria-label": t("plans.members_only") }),
  ]);
}

function money(name, minorUnits, label) {
  return input(name, { inputmode: "decimal", value: minorUnits === undefined ? "" : fromMinorUnits(minorUnits), class: "short", "aria-label": label });
}

function row(kind, cells) {
  const remove = el("button", { type: "button", class: "ghost", "aria-label": t("plans.remove") }, "✕");
  const tr = el("tr", { "data-kind": kind }, ...cells.map((cell) => el("td", {}, cell)), el("td", {}, remove));
  remove.addEventListener("click", () => {
    tr.remove();
    check();
  });
  return tr;
}

const field = (tr, name) => tr.querySelector(`[name="${name}"]`);

/** Read the form; returns {body, problems}: what to send and what is wrong, field by field. */
function read() {
  const problems = [];
  const flag = (node, message) => {
    node.setAttribute("aria-invalid", "true");
    problems.push(message);
  };
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const text = (node, message) => (node.value.trim() ? node.value.trim() : (flag(node, message), ""));
  const price = (node, message) => {
    const value = toMinorUnits(node.value);
    if (!Number.isFinite(value) || value < 0) flag(node, message);
    return value;
  };
  const body = {
    zone: text(form.elements.zone, t("plans.need_zone")),
    name: text(form.elements.name, t("plans.need_name")),
    member_hourly_rate: price(form.elements.member_hourly_rate, t("plans.need_member_rate")),
    guest_hourly_rate: price(form.elements.guest_hourly_rate, t("plans.need_guest_rate")),
    rules: [],
    packages: [],
  };
  form.querySelectorAll('#rule-rows tr[data-kind="rule"]').forEach((tr, i) => {
    const n = i + 1;
    const start = field(tr, "start");
    const end = field(tr, "end");
    if (!start.value || !end.value || start.value === end.value) flag(end, t("plans.rule_window", { n }));
    body.rules.push({
      name: text(field(tr, "rule_name"), t("plans.rule_name", { n })),
      start: start.value,
      end: end.value,
      days: [...tr.querySelectorAll(".days input:checked")].map((box) => Number(box.value)),
      member_hourly_rate: price(field(tr, "member"), t("plans.rule_rate", { n })),
      guest_hourly_rate: price(field(tr, "guest"), t("plans.rule_rate", { n })),
    });
  });
  form.querySelectorAll('#package-rows tr[data-kind="package"]').forEach((tr, i) => {
    const n = i + 1;
    const minutes = Number(field(tr, "minutes").value);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) {
      flag(field(tr, "minutes"), t("plans.package_length", { n, max: minutesText(MAX_MINUTES) }));
    } else {
      tr.querySelector('[data-field="length"]').textContent = minutesText(minutes);
    }
    body.packages.push({
      name: text(field(tr, "package_name"), t("plans.package_name", { n })),
      minutes,
      price: price(field(tr, "price"), t("plans.package_price", { n })),
      members_only: field(tr, "members_only").checked,
    });
  });
  return { body, problems };
}

/** Which rule prices day `day`, hour `hour` (the API's rule: a window belongs to the day it
 * starts on; one that ends at or before its start runs past midnight). */
function ruleAt(rules, day, hour) {
  const at = hour * 60 + 30;
  const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return rules.findIndex((rule) => {
    if (!rule.start || !rule.end || rule.start === rule.end) return false;
    const [from, to] = [minutes(rule.start), minutes(rule.end)];
    const on = (d) => !rule.days.length || rule.days.includes(d);
    if (from < to) return on(day) && at >= from && at < to;
    return (on(day) && at >= from) || (on((day + 6) % 7) && at < to);
  });
}

function drawWeek(rules) {
  const grid = document.getElementById("week-grid");
  const cells = [el("span", { class: "corner" })];
  for (let hour = 0; hour < 24; hour += 1) cells.push(el("span", { class: "hour" }, hour % 3 === 0 ? String(hour) : ""));
  for (let day = 0; day < 7; day += 1) {
    cells.push(el("span", { class: "dayname" }, dayName(day)));
    for (let hour = 0; hour < 24; hour += 1) {
      const index = ruleAt(rules, day, hour);
      const rule = rules[index];
      const slot = el("span", {
        class: "slot",
        "data-day": day,
        "data-hour": hour,
        "data-rule": index < 0 ? "" : String(index),
        title: `${dayName(day, "long")} ${String(hour).padStart(2, "0")}:00 · ${rule ? rule.name || t("plans.rule_n", { n: index + 1 }) : t("plans.base_rate")}`,
      });
      // Through the CSSOM: the Content-Security-Policy refuses style attributes.
      if (index >= 0) slot.style.background = COLOURS[index % COLOURS.length];
      cells.push(slot);
    }
  }
  grid.replaceChildren(...cells);
  form.querySelectorAll('#rule-rows tr[data-kind="rule"]').forEach((tr, i) => {
    tr.firstElementChild.style.borderLeft = `4px solid ${COLOURS[i % COLOURS.length]}`;
  });
}

let touched = false; // problems are listed once the admin has typed something

function check(event = null) {
  if (event?.type === "input" || event?.type === "change") touched = true;
  const { body, problems } = read();
  const list = form.querySelector('[data-field="problems"]');
  list.replaceChildren(...(touched ? problems : []).map((problem) => el("li", {}, problem)));
  if (!touched) for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  form.querySelector('[type="submit"]').disabled = problems.length > 0;
  drawWeek(body.rules);
  return { body, problems };
}

/** Open the form for `plan` (null: a new one); `saved()` runs after a save. */
export function editPlan(plan, saved) {
  form.reset();
  touched = Boolean(plan);
  dialog.querySelector("h2").textContent = plan ? t("customers.edit_title", { name: plan.name }) : t("plans.new");
  form.elements.zone.value = plan?.zone ?? "";
  form.elements.name.value = plan?.name ?? "";
  form.elements.member_hourly_rate.value = plan ? fromMinorUnits(plan.member_hourly_rate) : "";
  form.elements.guest_hourly_rate.value = plan ? fromMinorUnits(plan.guest_hourly_rate) : "";
  form.querySelector("#rule-rows tbody").replaceChildren(...(plan?.rules ?? []).map(ruleRow));
  form.querySelector("#package-rows tbody").replaceChildren(...(plan?.packages ?? []).map(packageRow));
  form.oninput = check;
  form.onchange = check;
  form.querySelector('[data-add="rule"]').onclick = () => {
    form.querySelector("#rule-rows tbody").append(ruleRow());
    check();
  };
  form.querySelector('[data-add="package"]').onclick = () => {
    form.querySelector("#package-rows tbody").append(packageRow());
    check();
  };
  openDialog(dialog, async () => {
    touched = true;
    const { body, problems } = check();
    if (problems.length) throw new Error(problems.join(" "));
    if (plan) await api("PUT", `/pricing/plans/${plan.id}`, { body });
    else await api("POST", "/pricing/plans", { body });
    return saved;
  });
  check();
}
