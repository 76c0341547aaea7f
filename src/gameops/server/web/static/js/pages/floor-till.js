// The floor's money parts (issue 13): a PC that has not taken its sale yet ("waiting for
// the PC", move or refund), and the stop dialog's refund preview.

import { api } from "../api.js";
import { el, minutesText, money } from "../format.js";

/** The card's line for a sale waiting for its PC, or "" when the clock runs. */
export function waitingText(session) {
  if (!session?.waiting_since) return "";
  const since = new Date(session.waiting_since).toLocaleTimeString(undefined, { timeStyle: "short" });
  const booked = minutesText(session.booked_minutes);
  const overdue = session.start_overdue ? " The PC has not taken it: move it or refund it." : "";
  return `Waiting for the PC since ${since}: ${booked} paid, the clock starts when the PC takes it.${overdue}`;
}

/** What stopping now gives back, in the words the operator confirms. */
export async function stopQuestion(session, stationName) {
  const preview = await api("GET", `/sessions/${session.id}/stop-preview`);
  const left = minutesText(Math.max(1, Math.round(preview.unused_seconds / 60)));
  const how = {
    cash: `${money(preview.refund)} is paid back in cash from the till.`,
    balance: `${money(preview.refund)} goes back to the customer's balance.`,
    none: `Nothing is refunded. ${preview.explanation}`,
  }[preview.refund_way];
  return { text: `Stop the session on ${stationName} now? About ${left} of ${money(preview.paid)} paid time is unused. ${how}`, preview };
}

/** Fill the move dialog's station list: PCs that are free now. */
export function moveTargets(select, stations, from) {
  const free = stations.filter(
    (s) => s.id !== from.id && s.type === "PC" && !s.session && !s.tamper_locked_at && ["ONLINE", "OFFLINE"].includes(s.status),
  );
  free.sort((a, b) => Number(b.agent_connected) - Number(a.agent_connected) || a.name.localeCompare(b.name));
  select.replaceChildren(
    ...free.map((s) => el("option", { value: s.id }, `${s.name}${s.agent_connected ? "" : " (offline)"}`)),
  );
  return free.length;
}
