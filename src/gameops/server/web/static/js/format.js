// Display helpers: money, durations, times, names of statuses.

const currency = document.body.dataset.currency || "USD";
const moneyFormat = new Intl.NumberFormat(undefined, { style: "currency", currency });
export const currencyDigits = moneyFormat.resolvedOptions().maximumFractionDigits;

export function money(minorUnits) {
  return moneyFormat.format(minorUnits / 10 ** currencyDigits);
}

export function toMinorUnits(text) {
  return Math.round(Number.parseFloat(text) * 10 ** currencyDigits);
}

export function fromMinorUnits(minorUnits) {
  return (minorUnits / 10 ** currencyDigits).toFixed(currencyDigits);
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

export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function timeOfDay(iso) {
  return iso ? new Date(iso).toLocaleTimeString(undefined, { timeStyle: "short" }) : "—";
}

export function minutesText(minutes) {
  if (minutes % 60 === 0) return minutes === 60 ? "1 hour" : `${minutes / 60} hours`;
  return `${minutes} min`;
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
