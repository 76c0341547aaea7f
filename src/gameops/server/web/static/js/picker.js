// The customer search in the start dialog: type, pick one of the matches, or stay walk-in.

import { api } from "./api.js";
import { debounce, el, money } from "./format.js";
import { t } from "./i18n.js";

/** Wire the picker inside `form`; `onChange(customer|null)` runs on every choice. Returns a
 * function that gives the chosen customer (or null). */
export function customerPicker(form, onChange) {
  const input = form.elements.customer_q;
  const results = form.querySelector('[data-field="results"]');
  const chosenBox = form.querySelector('[data-field="chosen"]');
  const search = form.querySelector('[data-field="search"]');
  let chosen = null;

  const choose = (customer) => {
    chosen = customer;
    chosenBox.hidden = !customer;
    search.hidden = Boolean(customer);
    results.replaceChildren();
    if (customer) {
      form.querySelector('[data-field="chosen-name"]').textContent =
        t("picker.chosen", { name: customer.full_name || customer.username, balance: money(customer.balance) });
    } else {
      input.value = "";
    }
    onChange(customer);
  };

  const find = debounce(async () => {
    const q = input.value.trim();
    if (!q) return results.replaceChildren();
    try {
      const page = await api("GET", "/customers", { params: { q, per_page: 6 } });
      results.replaceChildren(
        ...page.items.map((customer) => {
          const label = `${customer.full_name || customer.username} · ${customer.phone ?? customer.email ?? customer.username} · ${money(customer.balance)}`;
          const button = el("button", { type: "button", class: "ghost" }, label);
          button.addEventListener("click", () => choose(customer));
          return el("li", {}, button);
        }),
      );
      if (!page.items.length) results.append(el("li", { class: "muted" }, t("picker.none")));
    } catch (err) {
      results.replaceChildren(el("li", { class: "error" }, err.message));
    }
  }, 250);

  input.oninput = find;
  input.onkeydown = (event) => {
    if (event.key === "Enter") {
      event.preventDefault(); // Enter in the search picks the first match, not "Start"
      results.querySelector("button")?.click();
    }
  };
  chosenBox.querySelector("[data-clear]").onclick = () => choose(null);
  choose(null);
  return () => chosen;
}
