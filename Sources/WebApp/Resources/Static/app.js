// Starts the app: renders each page URL with its view (from the server's page table) without reloading, so the
// music keeps playing; keeps the header's search, badge and sign-in state current; wires the keyboard.
import { api, session } from "./api.js";
import { refreshBadge, showBadge } from "./badge.js";
import { cover } from "./components.js";
import { connect, on, watch } from "./live.js";
import { accountPages } from "./pages-account.js";
import { catalogPages } from "./pages-catalog.js";
import { forumPages } from "./pages-forums.js";
import { peoplePages } from "./pages-people.js";
import { playlistPages } from "./pages-playlists.js";
import { player } from "./player.js";
import { navigate, pageOf, routeOf, startRouter } from "./router.js";
import { attempt, fill, h, notificationText, toast } from "./ui.js";

const views = { ...accountPages, ...catalogPages, ...playlistPages, ...forumPages, ...peoplePages };
const main = document.getElementById("main");
const progressBar = document.getElementById("progress-bar");
const searchInput = document.getElementById("search-input");
let current = { stop: null };
let shown = 0;

/**
 * Renders `url`. The view fills a page of its own, put on screen when it is ready, so that a slower earlier
 * navigation never replaces a later one; meanwhile a progress bar shows, and after a moment a placeholder.
 */
async function show(url) {
  const { pathname, searchParams } = new URL(url, location.origin);
  const generation = ++shown;
  current.stop?.();
  current = { stop: null };
  searchInput.value = pathname === "/search" ? (searchParams.get("q") ?? "") : "";
  closeSearch();
  const route = routeOf(pathname);
  if (!route) {
    fill(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-link": true }, "Go home")));
    return;
  }
  if (route.access === "member" && !session.current) return navigate("/login", { replace: true });
  if (route.access === "guest" && session.current) return navigate("/", { replace: true });
  if (route.id !== null) searchParams.set("id", route.id);
  document.body.dataset.page = route.view;
  main.setAttribute("aria-busy", "true");
  const slow = setTimeout(() => { progressBar.hidden = false; }, 150);
  const placeholder = setTimeout(() => fill(main, h("div", { class: "skeleton", "aria-hidden": "true" }, h("div"), h("div"), h("div")),
    h("p", { class: "visually-hidden" }, "Loading…")), 600);
  const pageElement = h("div", { class: "page" });
  let result = {};
  try {
    result = (await views[route.view](pageElement, searchParams)) ?? {};
  } catch (error) {
    // The page could not be fetched: say so in its place, with a way to try again.
    const message = error?.message ?? "This page couldn't load. Please try again.";
    fill(pageElement, h("h1", {}, error?.status ? "This page couldn't load" : "Can't reach Musikk right now"), h("p", {}, message),
      h("button", { type: "button", onclick: () => show(location.href) }, "Try again"));
    if (generation === shown) toast(message, "error");
  } finally {
    clearTimeout(slow);
    clearTimeout(placeholder);
  }
  if (generation !== shown) {
    result.stop?.();
    return;
  }
  progressBar.hidden = true;
  fill(main, pageElement);
  main.removeAttribute("aria-busy");
  current = { stop: result.stop ?? null };
  if (session.current) watch(result.watch ?? []);
  player.markPlaying();
  if (!player.current) document.title = `${main.querySelector("h1")?.textContent ?? "Musikk"} · Musikk`;
}

function signedInChanged() {
  const signedIn = Boolean(session.current);
  document.body.classList.toggle("signed-in", signedIn);
  for (const element of document.querySelectorAll("[data-auth]")) element.hidden = !signedIn;
  for (const element of document.querySelectorAll("[data-guest]")) element.hidden = signedIn;
  if (signedIn) refreshBadge();
}

const searchList = document.getElementById("search-results");

function closeSearch() {
  searchList.hidden = true;
  searchInput.setAttribute("aria-expanded", "false");
}

function setUpSearch() {
  let timer;
  let latest = 0;
  searchInput.addEventListener("input", () => {
    clearTimeout(timer);
    const q = searchInput.value.trim();
    if (!q || !session.current) return closeSearch();
    timer = setTimeout(async () => {
      const asked = ++latest;
      const hits = await attempt(() => api("GET", `/api/search?q=${encodeURIComponent(q)}&limit=8`));
      if (asked !== latest || !hits) return;
      fill(searchList, hits.length ? hits.map((hit) => h("li", { role: "option" },
        h("a", { href: pageOf(hit.kind, hit.id), "data-link": true, class: "search-hit", dataset: { kind: hit.kind } },
          cover(hit.cover, "", "thumb"),
          h("span", { class: "truncate", title: hit.name }, hit.name),
          h("span", { class: "muted small truncate", title: hit.context }, hit.kind, hit.context ? ` · ${hit.context}` : ""))))
        : h("li", { class: "muted" }, "No matches"));
      searchList.hidden = false;
      searchInput.setAttribute("aria-expanded", "true");
    }, 150);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      closeSearch();
      navigate(`/search?q=${encodeURIComponent(searchInput.value.trim())}`);
    } else if (event.key === "Escape") {
      closeSearch();
    } else if (event.key === "ArrowDown" && !searchList.hidden) {
      event.preventDefault();
      searchList.querySelector("a")?.focus();
    }
  });
  // ↑ and ↓ move between the hits and stop at the ends; ↑ from the first goes back to the box.
  searchList.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp" && event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    const links = [...searchList.querySelectorAll("a")];
    const index = links.indexOf(document.activeElement);
    if (event.key === "Escape") {
      closeSearch();
      searchInput.focus();
    } else if (event.key === "ArrowDown") {
      links[Math.min(index + 1, links.length - 1)]?.focus();
    } else if (index <= 0) {
      searchInput.focus();
    } else {
      links[index - 1].focus();
    }
  });
  searchList.addEventListener("click", closeSearch);
  document.addEventListener("click", (event) => { if (!event.target.closest(".search")) closeSearch(); });
}

/**
 * Space plays and pauses, ← → seek, Shift+← → skip, M mutes, / searches. ↑ ↓ are left to lists and to scrolling;
 * they change the volume only on the player bar, or anywhere with Shift.
 */
function setUpKeyboard() {
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " " && !event.target.closest("button, a")) {
      event.preventDefault();
      player.toggle();
    } else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const forward = event.key === "ArrowRight";
      if (event.shiftKey) player.skip(forward ? 1 : -1); else player.seekBy(forward ? 5 : -5);
    } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && (event.shiftKey || event.target.closest(".player"))) {
      const volume = document.getElementById("volume");
      event.preventDefault();
      volume.value = String(Math.min(1, Math.max(0, Number(volume.value) + (event.key === "ArrowUp" ? 0.05 : -0.05))));
      volume.dispatchEvent(new Event("input"));
    } else if (event.key === "m" || event.key === "M") {
      player.setMuted(!player.audio.muted);
    } else if (event.key === "/") {
      event.preventDefault();
      searchInput.focus();
    }
  });
}

function setUpQueuePanel() {
  const panel = document.getElementById("queue-panel");
  const toggles = document.querySelectorAll(".queue-toggle");
  const setOpen = (open) => {
    panel.hidden = !open;
    for (const toggle of toggles) toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("queue-open", open);
    if (open) panel.querySelector("h2").scrollIntoView({ block: "nearest" });
  };
  for (const toggle of toggles) toggle.addEventListener("click", () => setOpen(panel.hidden));
  document.getElementById("queue-close").addEventListener("click", () => setOpen(false));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !panel.hidden && document.body.classList.contains("compact")) setOpen(false); });
}

/** On a phone the player is a one-line mini-player; its arrow opens the whole player, and closes it again. */
function setUpMiniPlayer() {
  const bar = document.getElementById("player");
  const expand = document.getElementById("expand-button");
  expand.addEventListener("click", () => {
    const expanded = !bar.classList.contains("expanded");
    bar.classList.toggle("expanded", expanded);
    expand.setAttribute("aria-expanded", String(expanded));
    expand.setAttribute("aria-label", expanded ? "Show the mini-player" : "Show the whole player");
  });
  const phone = matchMedia("(max-width: 640px)");
  const compact = () => document.body.classList.toggle("compact", phone.matches);
  phone.addEventListener("change", compact);
  compact();
}

async function logOut() {
  const refreshToken = session.current?.refreshToken;
  player.audio.pause();
  await api("POST", "/api/auth/logout", { refreshToken }).catch(() => null);
  session.clear();
  navigate("/login");
}

document.addEventListener("click", (event) => { if (event.target.closest("[data-logout]")) logOut(); });
window.addEventListener("musikk:signed-out", () => navigate("/login"));
window.addEventListener("musikk:session", signedInChanged);
window.addEventListener("offline", () => toast("You're offline. What's on screen stays; we'll catch up when you're back.", "error"));

on("unread", (data) => showBadge(data.unread));
on("notification", async (notification) => {
  refreshBadge();
  // The live event does not carry the subject's name for this reader; the list does.
  const named = (await api("GET", "/api/notifications?limit=10").catch(() => null))?.items?.find((item) => item.id === notification.id) ?? notification;
  toast(`${named.actor?.displayName ?? "Someone"} ${notificationText(named)}.`);
});

setUpSearch();
setUpKeyboard();
setUpQueuePanel();
setUpMiniPlayer();
signedInChanged();
if (session.current) {
  connect();
  player.load();
}
window.addEventListener("musikk:session", () => { if (session.current && !player.queue.version) player.load(); });
startRouter(show);
