// The one formatting module: money, durations and times in the user's language (Intl), in
// the venue's currency and time zone; and element building.

import { language, t } from "./i18n.js";

const currency = document.body.dataset.currency || "USD";
export const timeZone = document.body.dataset.timezone || undefined;
const moneyFormat = new Intl.NumberFormat(language, { style: "currency", currency });
export const currencyDigits = moneyFormat.resolvedOptions().maximumFractionDigits;
const numberFormat = new Intl.NumberFormat(language);

export function money(minorUnits) {
  return moneyFormat.format(minorUnits / 10 ** currencyDigits);
}

export function number(value) {
  return numberFormat.format(value);
}

/** The amount typed in a money field ("6.50" or "6,50"), in minor units; NaN if none. */
export function toMinorUnits(text) {
  const cleaned = String(text).trim().replace(/\s/g, "").replace(",", ".");
  if (!/^-?\d*\.?\d+$/.test(cleaned)) return Number.NaN;
  return Math.round(Number.parseFloat(cleaned) * 10 ** currencyDigits);
}

const plainAmount = new Intl.NumberFormat(language, {
  minimumFractionDigits: currencyDigits,
  maximumFractionDigits: currencyDigits,
  useGrouping: false,
});

/** An amount for a money field, as the user writes it ("6.50", "6,50"). */
export function fromMinorUnits(minorUnits) {
  return plainAmount.format(minorUnits / 10 ** currencyDigits);
}

/** 1:05:09, or 04:09 under an hour. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** green above 10 min, orange 5 to 10, red under 5. */
export function timeBand(seconds) {
  if (seconds > 600) return "green";
  if (seconds >= 300) return "orange";
  return "red";
}

const dateTimeFormat = new Intl.DateTimeFormat(language, { dateStyle: "short", timeStyle: "medium", timeZone });
const timeFormat = new Intl.DateTimeFormat(language, { timeStyle: "short", timeZone });
const secondsFormat = new Intl.DateTimeFormat(language, { timeStyle: "medium", timeZone });

/** A moment in the venue's time zone, in the user's language; "—" for none. */
export function dateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "—";
}

export function timeOfDay(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "—";
}

export function timeWithSeconds(iso) {
  return iso ? secondsFormat.format(new Date(iso)) : "—";
}

/** "1 hour", "2 hours", "45 min", "1 h 30 min". */
export function minutesText(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (!hours) return t("time.minutes", { count: rest });
  if (!rest) return t("time.hours", { count: hours });
  return t("time.hours_minutes", { hours, minutes: rest });
}

export function words(constant) {
  const text = String(constant).replaceAll("_", " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Create an element: el("td", {class: "x"}, "text", child...). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}
