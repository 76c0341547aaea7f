// Native <dialog> helpers: open with focus inside, close on Cancel/Escape, errors shown in it.

import { clearError, showError } from "./api.js";
import { t } from "./i18n.js";

/** Open `dialog`; `onSubmit(form)` runs on submit; the dialog closes when it resolves and
 * shows the error next to the form when it throws. If it resolves to a function, that runs
 * once the dialog is closed (refreshing the page behind a modal dialog would race it). */
export function openDialog(dialog, onSubmit) {
  const form = dialog.querySelector("form");
  const error = dialog.querySelector(".error");
  const submit = form.querySelector('[type="submit"]');
  if (error) clearError(error);
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (!onSubmit) return dialog.close();
    submit.disabled = true;
    try {
      const then = await onSubmit(form);
      dialog.close();
      if (typeof then === "function") then();
    } catch (err) {
      if (error) showError(error, err);
      else throw err;
    } finally {
      submit.disabled = false;
    }
  };
  for (const button of dialog.querySelectorAll("[data-close]")) button.onclick = () => dialog.close();
  dialog.showModal();
}

/** Show the custom-minutes field when "Other…" is chosen; returns the chosen minutes. */
export function minutesPicker(form, onChange = () => {}) {
  const preset = form.elements.preset;
  const custom = form.querySelector('[data-field="custom"]');
  const update = () => {
    custom.hidden = preset.value !== "custom";
    onChange(chosen());
  };
  const chosen = () => Number.parseInt(preset.value === "custom" ? form.elements.minutes.value : preset.value, 10);
  preset.onchange = update;
  form.elements.minutes.oninput = update;
  update();
  return chosen;
}

/** Copy `text` to the clipboard; without the Clipboard API (plain HTTP on the venue's LAN),
 * by selecting `field` and the browser's copy command. Shows "Copied" on `button`. */
export async function copyText(text, field, button) {
  try {
    // A browser may hold the promise while it asks for permission: not for long.
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), 800));
    await Promise.race([navigator.clipboard.writeText(text), late]);
  } catch {
    field.focus();
    field.select();
    document.execCommand("copy");
  }
  showCopied(button);
}

export const COPIED_MS = 1500;

/** "Copied" on `button` for `ms`, then its own label again. */
export function showCopied(button, ms = COPIED_MS) {
  const label = button.textContent;
  button.textContent = t("common.copied");
  setTimeout(() => { button.textContent = label; }, ms);
}
