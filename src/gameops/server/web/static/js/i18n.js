// The one translation layer: the words of the page's language (the catalogue the server
// wrote the shell in, src/gameops/i18n/<lang>.json) and t() to use them.

export const language = document.documentElement.lang || "en";

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`);
  return response.ok ? response.json() : {};
}

const [words, english] = await Promise.all([
  fetchCatalogue(language),
  language === "en" ? null : fetchCatalogue("en"),
]);
const plurals = new Intl.PluralRules(language);

/** The words for `key`, with `{name}` filled from `values`. An entry may be plural forms
 * ({"one": ..., "other": ...}), picked by `values.count`. */
export function t(key, values = {}) {
  let entry = words[key] ?? english?.[key];
  if (entry === undefined) {
    console.warn("no words for", key);
    return key;
  }
  if (typeof entry === "object") entry = entry[plurals.select(values.count ?? 0)] ?? entry.other;
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function has(key) {
  return key in words || (english !== null && key in english);
}

/** Words of an enum value, e.g. tEnum("status", "IN_SESSION"); the value itself if none. */
export function tEnum(kind, value) {
  const key = `${kind}.${value}`;
  return has(key) ? t(key) : words_(value);
}

export const LANGUAGE_COOKIE = "gameops_lang";

/** Remember the user's language for the next page the server renders. */
export function rememberLanguage(code) {
  document.cookie = `${LANGUAGE_COOKIE}=${code}; path=/; max-age=31536000; samesite=lax`;
}

/** Like t(), but `values` may hold DOM nodes (links): returns the parts, to append. */
export function tParts(key, values = {}) {
  const text = t(key, Object.fromEntries(Object.entries(values).filter(([, v]) => !(v instanceof Node))));
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    if (!(values[match[1]] instanceof Node)) continue;
    parts.push(text.slice(last, match.index), values[match[1]]);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== "");
}

function words_(constant) {
  const text = String(constant ?? "").replaceAll("_", " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
