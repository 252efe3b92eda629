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

/** Shows a short message; `kind` "error" keeps it longer. */
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

export function formatDate(text) {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A round badge with a person's initials (avatars need the token, so lists show initials). */
export function initials(user) {
  const letters = (user?.displayName ?? "?").split(/\s+/).filter(Boolean).slice(0, 2).map((word) => word[0]).join("");
  return h("span", { class: "avatar", "aria-hidden": "true" }, letters.toUpperCase() || "?");
}

export function userLink(user) {
  return h("a", { href: `/users/${user.id}`, "data-link": true, class: "user" }, initials(user), user.displayName);
}

export function artistNames(artists = []) {
  return artists.map((artist) => artist.name).join(", ");
}

/** The page of a catalog item, a person, a playlist or a forum thread (`kind` as the API names it). */
export function pageOf(kind, id) {
  const folder = { track: "tracks", release: "releases", artist: "artists", user: "users", playlist: "playlists", thread: "threads" }[kind];
  return folder ? `/${folder}/${encodeURIComponent(id)}` : "/";
}
