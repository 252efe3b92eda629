// Small DOM helpers. Text from the API always goes in as text nodes, never as HTML.

/** Creates an element: h("a", { href: "/", class: "x", onclick: f }, "text", child, …). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Shows a message for a few seconds. The same message already showing is not repeated; it stays longer instead. */
export function toast(message, kind = "info") {
  const region = document.getElementById("toasts");
  const lifetime = kind === "error" ? 9000 : 4000;
  const showing = [...region.children].find((item) => item.dataset.message === message);
  if (showing) {
    clearTimeout(Number(showing.dataset.timer));
    showing.dataset.timer = String(setTimeout(() => showing.remove(), lifetime));
    return;
  }
  const item = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, message,
    h("button", { type: "button", class: "quiet", "aria-label": "Dismiss", onclick: () => item.remove() }, "✕"));
  item.dataset.message = message;
  item.dataset.timer = String(setTimeout(() => item.remove(), lifetime));
  region.append(item);
}

/** Runs `action`, showing its failure as a toast instead of breaking the page. Resolves to its result or undefined. */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    toast(error?.message ?? "Something went wrong. Please try again.", "error");
    return undefined;
  }
}

export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** A timestamp as people say it ("2 min ago", "yesterday"), the exact date and time on hover. */
export function timeAgo(text) {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return h("time", {}, "");
  const exact = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
  const units = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"], [4.35, "week"], [12, "month"], [Infinity, "year"]];
  let amount = seconds;
  let said = "just now";
  for (const [size, unit] of units) {
    if (amount < size) {
      if (unit !== "second") said = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" }).format(-Math.floor(amount), unit);
      break;
    }
    amount /= size;
  }
  return h("time", { class: "muted small", datetime: date.toISOString(), title: exact }, said);
}

/** What a notification says after its actor's name, naming the playlist, release or comment it is about. */
export function notificationText(notification) {
  const title = notification.subjectTitle ? `“${notification.subjectTitle}”` : null;
  switch (notification.kind) {
    case "reply": return title ? `replied to your comment on ${title}` : "replied to your comment";
    case "follow": return "followed you";
    case "playlist-comment": return title ? `commented on your playlist ${title}` : "commented on your playlist";
    case "release": return title ? `has a new release: ${title}` : "has a new release";
    default: return notification.kind;
  }
}

/** A round badge with a person's initials (avatars need the token, so lists show initials). */
export function initials(user) {
  const letters = (user?.displayName ?? "?").split(/\s+/).filter(Boolean).slice(0, 2).map((word) => word[0]).join("");
  return h("span", { class: "avatar", "aria-hidden": "true" }, letters.toUpperCase() || "?");
}

/** A person's name linking to their profile; a long name ends in an ellipsis, whole on hover. */
export function userLink(user) {
  return h("a", { href: `/users/${user.id}`, "data-link": true, class: "user", title: user.displayName },
    initials(user), h("span", { class: "truncate" }, user.displayName));
}

/**
 * The link to show a cover at `pixels` CSS pixels: the smallest published thumbnail that is sharp there on this
 * screen, else the original.
 */
export function coverSource(url, thumbnails, pixels) {
  const needed = pixels * (window.devicePixelRatio || 1);
  const fitting = (thumbnails ?? []).filter((thumbnail) => thumbnail.side >= needed).sort((a, b) => a.side - b.side)[0];
  return fitting?.url ?? url;
}

export function artistNames(artists = []) {
  return artists.map((artist) => artist.name).join(", ");
}

/**
 * Lets the rows of `list` be dragged to a new place; `onMove(from, to)` applies the move. The rows' ↑ and ↓ buttons
 * are the keyboard's way to do the same.
 */
export function sortable(list, onMove) {
  let from = null;
  list.addEventListener("dragstart", (event) => {
    const row = event.target.closest?.("li[draggable]");
    if (!row) return;
    from = [...list.children].indexOf(row);
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", String(from));
  });
  list.addEventListener("dragover", (event) => {
    if (from === null) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  });
  list.addEventListener("drop", (event) => {
    const row = event.target.closest?.("li[draggable]");
    if (from === null || !row) return;
    event.preventDefault();
    const to = [...list.children].indexOf(row);
    const moved = from;
    from = null;
    if (to >= 0 && to !== moved) onMove(moved, to);
  });
  list.addEventListener("dragend", () => {
    from = null;
    for (const row of list.querySelectorAll(".dragging")) row.classList.remove("dragging");
  });
  return list;
}
