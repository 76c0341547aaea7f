// The one place that turns the API's refusals into plain words in the user's language: no
// field names, no "minor units". Unknown messages are shown as the server wrote them.

import { t } from "./i18n.js";
import { minutesText, money } from "./format.js";

// The server's detail (English, fixed wording) -> a sentence for the operator.
const DETAILS = [
  [/^(duration_minutes|additional_minutes|Duration|Minutes).* must be at most (\d+) minutes/i,
    (m) => t("error.too_long", { duration: minutesText(Number(m[2])) })],
  [/must be a positive number of minutes/i, () => t("error.minutes_positive")],
  [/must be a positive number of minor units|amount must not be zero|amount.*positive/i, () => t("error.amount_positive")],
  [/^Insufficient balance/i, (m, body) =>
    Number.isInteger(body?.balance) ? t("error.short_balance", { balance: money(body.balance), price: money(body.price) }) : t("error.short_balance_plain")],
  [/^Station is busy/i, () => t("error.station_busy")],
  [/^Station is in maintenance/i, () => t("error.station_maintenance")],
  [/^Station is tamper-locked/i, () => t("error.tamper_locked")],
  [/^Station is held for a card payment/i, () => t("error.card_pending")],
  [/^Station has an active session/i, () => t("error.station_in_session")],
  [/^Paying from a balance needs a customer/i, () => t("error.balance_needs_customer")],
  [/^Card payments are not enabled/i, () => t("error.no_gateway")],
  [/^Username '(.*)' is taken/i, (m) => t("error.username_taken", { username: m[1] })],
  [/^A station named '(.*)' already exists/i, (m) => t("error.station_name_taken", { name: m[1] })],
  [/^Zone '(.*)' already has a rate plan/i, (m) => t("error.zone_has_plan", { zone: m[1] })],
  [/^You cannot disable yourself/i, () => t("error.not_yourself")],
  [/^The current password is not right/i, () => t("error.current_password")],
  [/^Incorrect username or password/i, () => t("error.login")],
  [/^Session already ended|^Cannot extend inactive session|^Only an active session/i, () => t("error.session_over")],
  [/^Payment already completed/i, () => t("error.already_paid")],
  [/^Payment required/i, () => t("error.not_paid_yet")],
  [/^This Idempotency-Key was already used/i, () => t("error.retry_changed")],
];

// Validation errors (422 from the request's shape): the field's label and what is wrong.
const FIELDS = new Set([
  "username", "password", "new_password", "current_password", "full_name", "phone", "email",
  "name", "zone", "hourly_rate", "member_hourly_rate", "guest_hourly_rate", "price", "minutes",
  "reason", "amount", "duration_minutes", "additional_minutes", "start", "end", "days", "pin",
]);

function fieldName(error) {
  const field = [...(error.loc ?? [])].reverse().find((part) => typeof part === "string" && FIELDS.has(part));
  return field ? t(`field.${field}`) : t("field.value");
}

function validationText(error) {
  const field = fieldName(error);
  const number = String(error.msg ?? "").match(/(\d+)/)?.[1];
  switch (error.type) {
    case "missing":
      return t("error.field_missing", { field });
    case "string_too_short":
      return Number(number) <= 1 ? t("error.field_missing", { field }) : t("error.field_short", { field, count: Number(number) });
    case "string_too_long":
      return t("error.field_long", { field, count: Number(number) });
    case "string_pattern_mismatch":
      return t("error.field_format", { field });
    case "greater_than_equal":
    case "greater_than":
      return t("error.field_small", { field });
    case "less_than_equal":
    case "less_than":
      return t("error.field_large", { field });
    default:
      return t("error.field_invalid", { field });
  }
}

/** The sentence for a failed request: `status` and the parsed JSON `body` (or null). */
export function plainError(status, body) {
  if (status === 0) return t("error.network");
  if (status >= 500) return t("error.server", { status });
  if (status === 422 && Array.isArray(body?.errors) && body.errors.length) {
    return [...new Set(body.errors.map(validationText))].join(" ");
  }
  const detail = typeof body?.detail === "string" ? body.detail : "";
  for (const [pattern, sentence] of DETAILS) {
    const match = detail.match(pattern);
    if (match) return sentence(match, body);
  }
  if (status === 403) return t("error.forbidden");
  if (status === 404) return t("error.not_found");
  if (detail) {
    const text = detail.charAt(0).toUpperCase() + detail.slice(1);
    return text.endsWith(".") ? text : `${text}.`;
  }
  return t("error.failed", { status });
}
