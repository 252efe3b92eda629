// The unread count on the header's bell, kept current by the event stream and by pages that mark things read.
import { api } from "./api.js";

export async function refreshBadge() {
  const answer = await api("GET", "/api/notifications/unread-count").catch(() => null);
  if (answer) showBadge(answer.unread);
}

export function showBadge(count) {
  const badge = document.getElementById("unread-badge");
  badge.hidden = !count;
  badge.textContent = count > 99 ? "99+" : String(count);
  for (const bell of document.querySelectorAll(".bell")) bell.setAttribute("aria-label", count ? `Notifications, ${count} unread` : "Notifications");
}
