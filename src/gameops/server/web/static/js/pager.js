// The prev/next pager under a filtered table: which page is shown, and going back to the
// first page when the filters change.

import { t } from "./i18n.js";

export class Pager {
  /** Wire `element` (the .pager) and the filter form to call `load` on every change. */
  constructor(element, filters, load) {
    this.element = element;
    this.page = 1;
    this.pages = 1;
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      this.page = 1;
      load();
    });
    element.addEventListener("click", (event) => {
      const step = event.target.closest("button")?.dataset.page;
      if (!step) return;
      this.page = Math.min(this.pages, Math.max(1, this.page + (step === "next" ? 1 : -1)));
      load();
    });
  }

  /** Show where a loaded answer's `meta` puts us; `noun` is the catalogue key of what is
   * counted (plural forms). */
  show(meta, noun) {
    this.pages = Math.max(1, meta.pages);
    const { page, pages } = this;
    this.element.querySelector('[data-field="page"]').textContent = `${t("pager.page", { page, pages })} · ${t(noun, { count: meta.total })}`;
    this.element.querySelector('[data-page="prev"]').disabled = page <= 1;
    this.element.querySelector('[data-page="next"]').disabled = page >= pages;
  }
}
