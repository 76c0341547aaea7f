// Names the list pages show instead of ids: stations (staff) and staff users (admins only).

import { api } from "./api.js";
import { el } from "./format.js";

export async function allPages(path, params = {}) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const body = await api("GET", path, { params: { ...params, page, per_page: 500 } });
    items.push(...body.items);
    if (page >= body.meta.pages) return items;
  }
}

export async function stationNames() {
  return new Map((await allPages("/stations")).map((s) => [s.id, s.name]));
}

export async function staffNames(isAdmin) {
  if (!isAdmin) return new Map(); // operators may not list staff
  return new Map((await allPages("/users")).map((u) => [u.id, u.full_name || u.username]));
}

/** Fill a <select> with the stations, keeping its first ("All") option. */
export function fillStationSelect(select, names) {
  const sorted = [...names].sort((a, b) => a[1].localeCompare(b[1], undefined, { numeric: true }));
  select.append(...sorted.map(([id, name]) => el("option", { value: id }, name)));
}
