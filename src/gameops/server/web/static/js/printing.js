// Printable pages (receipts, the shift handover) are rendered by the server behind the
// API's token: fetch them and show them in a dialog that prints just the page.

import { api, showError } from "./api.js";
import { tEnum } from "./i18n.js";

/** Show `path` (an API page answering HTML) in the print dialog. */
export async function showPrintable(path, title, params = {}) {
  const dialog = document.getElementById("print-dialog");
  const frame = dialog.querySelector('[data-field="frame"]');
  const error = dialog.querySelector(".error");
  dialog.querySelector("h2").textContent = title;
  error.hidden = true;
  try {
    const response = await api("GET", path, { params, raw: true });
    frame.srcdoc = await response.text();
  } catch (err) {
    frame.srcdoc = "";
    showError(error, err);
  }
  dialog.querySelector('[data-field="print"]').onclick = () => frame.contentWindow.print();
  for (const button of dialog.querySelectorAll("[data-close]")) button.onclick = () => dialog.close();
  if (!dialog.open) dialog.showModal();
}

/** Download an API export (CSV) under `filename`. */
export async function download(path, params, filename) {
  const response = await api("GET", path, { params, raw: true });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** A receipt's kind in words ("Top-up"). */
export const receiptKind = (kind) => tEnum("receipt_kind", kind);

/** How it was paid, in words. */
export const methodText = (method) => tEnum("method", method);
