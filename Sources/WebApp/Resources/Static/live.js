// The user's live event stream (Server-Sent Events): one connection, re-opened when the page watches other
// subjects or the token changes, resuming after the last event seen so nothing is missed.
import { api, session } from "./api.js";

const types = ["comment", "comment-updated", "notification", "unread", "queue", "activity", "now-playing", "playlist"];
const handlers = new Map(types.map((type) => [type, new Set()]));
let source = null;
let watched = [];
let lastEventId = null;
let retryTimer = null;

/** Calls `handler(data)` for each event of `type`; returns a function that stops it. */
export function on(type, handler) {
  handlers.get(type)?.add(handler);
  return () => handlers.get(type)?.delete(handler);
}

/** Watches the comments of these subjects (`track:ID`, `release:ID`, `playlist:ID`, `thread:ID`). */
export function watch(subjects) {
  const next = [...new Set(subjects)].slice(0, 20);
  if (source && next.join() === watched.join()) return;
  watched = next;
  connect();
}

export function disconnect() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
}

export function connect() {
  disconnect();
  const current = session.current;
  if (!current) return;
  const parameters = new URLSearchParams({ access_token: current.accessToken });
  for (const subject of watched) parameters.append("watch", subject);
  if (lastEventId) parameters.set("lastEventId", lastEventId);
  const opened = new EventSource(`/api/events?${parameters}`);
  source = opened;
  for (const type of types) {
    opened.addEventListener(type, (event) => {
      if (event.lastEventId) lastEventId = event.lastEventId;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      for (const handler of handlers.get(type)) handler(data);
    });
  }
  opened.addEventListener("open", () => document.body.classList.remove("offline"));
  opened.addEventListener("error", () => {
    if (opened.readyState !== EventSource.CLOSED || source !== opened) return;  // the browser retries by itself
    // Closed for good: usually an expired token. Asking the API refreshes it; then connect again.
    document.body.classList.add("offline");
    retryTimer = setTimeout(async () => {
      try {
        await api("GET", "/api/notifications/unread-count");
      } catch {
        // still away; try again later
      }
      if (source === opened) connect();
    }, 3000);
  });
}

window.addEventListener("musikk:session", () => (session.current ? connect() : disconnect()));
// A page left for another stays alive in the back/forward cache, and with it its stream: one of the browser's six
// connections to the server each time. Close it on the way out; reopen it if the page comes back.
window.addEventListener("pagehide", () => disconnect());
window.addEventListener("pageshow", (event) => { if (event.persisted && session.current) connect(); });
