// The live feed (/ws/dashboard): reconnects with growing, jittered delays; after a drop it
// fetches the events it missed over REST, then tells pages to resync their views.

import { accessToken, api } from "./api.js";

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const CATCH_UP_LIMIT = 2000; // beyond this many missed events, pages just reload
const AUTH_FAILED = 4401;

const listeners = { event: new Set(), sync: new Set(), status: new Set() };
let lastId = 0;
let attempt = 0;
let state = "connecting";
let socket = null;

/** kind: "event" (each audit event), "sync" (after every (re)connection), "status". */
export function on(kind, listener) {
  listeners[kind].add(listener);
  if (kind === "status") listener(state);
}

function emit(kind, value) {
  for (const listener of listeners[kind]) {
    try {
      listener(value);
    } catch (err) {
      console.error("feed listener failed", err);
    }
  }
}

function setState(next) {
  state = next;
  emit("status", next);
}

export function start() {
  if (!socket) connect({});
}

async function connect({ forceRefresh = false }) {
  let token;
  try {
    token = await accessToken({ force: forceRefresh });
  } catch {
    return retryLater(); // the server is unreachable; a refused refresh has logged us out
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The token goes in the first message, never in the URL (URLs end up in logs).
  socket = new WebSocket(`${scheme}://${location.host}/ws/dashboard`);
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
  let syncing = null; // events that arrive while we catch up wait here
  socket.onmessage = async (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "hello") {
      syncing = [];
      const missed = await catchUp(data.last_event_id);
      const waiting = syncing;
      syncing = null;
      for (const event of [...(missed ?? []), ...waiting]) deliver(event);
      lastId = Math.max(lastId, data.last_event_id);
      attempt = 0;
      setState("live");
      emit("sync", { gap: missed === null });
    } else if (data.type === "event") {
      if (syncing) syncing.push(data.event);
      else deliver(data.event);
    }
  };
  socket.onclose = (closed) => {
    socket = null;
    if (closed.code === AUTH_FAILED) return retryLater({ forceRefresh: true });
    retryLater();
  };
}

function deliver(event) {
  if (!Number.isInteger(event?.id)) return; // not an audit event
  if (event.id <= lastId) return; // already seen (caught up over REST and then streamed)
  lastId = event.id;
  emit("event", event);
}

async function catchUp(upTo) {
  if (lastId === 0 || upTo <= lastId) return [];
  const missed = [];
  let after = lastId;
  try {
    while (missed.length < CATCH_UP_LIMIT) {
      const page = await api("GET", "/events", { params: { after_id: after, order: "asc", per_page: 500 } });
      missed.push(...page.items);
      if (page.items.length < 500) return missed;
      after = page.items[page.items.length - 1].id;
      if (after >= upTo) return missed;
    }
  } catch (err) {
    console.warn("could not fetch missed events", err);
  }
  return null; // too many, or failed: pages reload everything on sync
}

function retryLater(options = {}) {
  setState("reconnecting");
  // Full jitter: a random delay up to a cap that doubles per failed attempt.
  const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  attempt += 1;
  const delay = 200 + Math.random() * cap;
  setTimeout(() => connect(options), delay);
}
