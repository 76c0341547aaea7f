// The floor's money parts (issue 13): a PC that has not taken its sale yet ("waiting for
// the PC", move or refund), and the stop dialog's refund preview.

import { api } from "../api.js";
import { el, minutesText, money, timeOfDay } from "../format.js";
import { t } from "../i18n.js";

/** The card's line for a sale waiting for its PC, or "" when the clock runs. */
export function waitingText(session) {
  if (!session?.waiting_since) return "";
  const text = t("floor.waiting_note", { since: timeOfDay(session.waiting_since), booked: minutesText(session.booked_minutes) });
  return session.start_overdue ? `${text} ${t("floor.waiting_overdue")}` : text;
}

/** What stopping now gives back, in the words the operator confirms. */
export async function stopQuestion(session, stationName) {
  const preview = await api("GET", `/sessions/${session.id}/stop-preview`);
  const values = {
    name: stationName,
    unused: minutesText(Math.max(1, Math.round(preview.unused_seconds / 60))),
    paid: money(preview.paid),
    amount: money(preview.refund),
    why: preview.explanation,
  };
  const how = t(`floor.stop_refund_${preview.refund_way}`, values);
  const shift = preview.needs_open_shift ? ` ${t("floor.stop_needs_shift")}` : "";
  return { text: `${t("floor.stop_preview", values)} ${how}${shift}`, preview };
}

/** Fill the move dialog's station list: PCs that are free now. */
export function moveTargets(select, stations, from) {
  const free = stations.filter(
    (s) => s.id !== from.id && s.type === "PC" && !s.session && !s.tamper_locked_at && ["ONLINE", "OFFLINE"].includes(s.status),
  );
  free.sort((a, b) => Number(b.agent_connected) - Number(a.agent_connected) || a.name.localeCompare(b.name));
  select.replaceChildren(
    ...free.map((s) => el("option", { value: s.id }, s.agent_connected ? s.name : t("floor.move_offline", { name: s.name }))),
  );
  return free.length;
}
