// Starts the app: routes page URLs to views without reloading (so the music keeps playing), keeps the header's
// search, badge and sign-in state current, and wires the keyboard.
import { api, session } from "./api.js";
import { connect, on, watch } from "./live.js";
import { Player } from "./player.js";
import { app } from "./components.js";
import { attempt, fill, h, pageOf, toast } from "./ui.js";
import { views } from "./views.js";

const routes = [
  [/^\/$/, "home"], [/^\/login$/, "login", { guest: true }], [/^\/signup$/, "signup", { guest: true }], [/^\/search$/, "search"],
  [/^\/tracks\/([^/]+)$/, "track"], [/^\/releases\/(\d+)$/, "release"], [/^\/artists\/(\d+)$/, "artist"],
  [/^\/playlists$/, "playlists"], [/^\/playlists\/(\d+)$/, "playlist"], [/^\/forums$/, "forums"], [/^\/forums\/(\d+)$/, "forum"],
  [/^\/threads\/(\d+)$/, "thread"], [/^\/users\/(\d+)$/, "user"], [/^\/me$/, "me"], [/^\/feed$/, "feed"], [/^\/notifications$/, "notifications"],
];

const main = document.getElementById("main");
let current = { stop: null };

async function show(url) {
  const { pathname, searchParams } = new URL(url, location.origin);
  current.stop?.();
  current = { stop: null };
  const match = routes.map(([pattern, name, options]) => [pattern.exec(pathname), name, options ?? {}]).find(([found]) => found);
  if (!match) {
    fill(main, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/", "data-link": true }, "Go home")));
    return;
  }
  const [found, name, options] = match;
  if (!options.guest && !session.current) return navigate("/login", { replace: true });
  if (options.guest && session.current) return navigate("/", { replace: true });
  if (found[1]) searchParams.set("id", decodeURIComponent(found[1]));
  main.setAttribute("aria-busy", "true");
  document.body.dataset.page = name;
  try {
    const result = (await views[name](main, searchParams)) ?? {};
    current = { stop: result.stop ?? null };
    if (session.current) watch(result.watch ?? []);
  } catch (error) {
    // The page could not be fetched: say so in its place, with a way to try again.
    const message = error?.message ?? "This page couldn't load. Please try again.";
    current.stop?.();
    current = { stop: null };
    fill(main, h("h1", {}, error?.status ? "This page couldn't load" : "Can't reach Musikk right now"), h("p", {}, message),
      h("button", { type: "button", onclick: () => show(location.href) }, "Try again"));
    toast(message, "error");
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (!document.title.includes("·") || !app.player?.current) document.title = `${main.querySelector("h1")?.textContent ?? "Musikk"} · Musikk`;
}

export function navigate(path, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"]({}, "", path);
  window.scrollTo(0, 0);
  return show(path);
}

app.navigate = navigate;

function signedInChanged() {
  const signedIn = Boolean(session.current);
  document.body.classList.toggle("signed-in", signedIn);
  for (const element of document.querySelectorAll("[data-auth]")) element.hidden = !signedIn;
  for (const element of document.querySelectorAll("[data-guest]")) element.hidden = signedIn;
  if (signedIn) refreshBadge();
}

async function refreshBadge() {
  const answer = await api("GET", "/api/notifications/unread-count").catch(() => null);
  if (answer) showBadge(answer.unread);
}

function showBadge(count) {
  const badge = document.getElementById("unread-badge");
  badge.hidden = !count;
  badge.textContent = count > 99 ? "99+" : String(count);
  document.querySelector(".bell").setAttribute("aria-label", count ? `Notifications, ${count} unread` : "Notifications");
}

app.refreshBadge = refreshBadge;

function setUpSearch() {
  const input = document.getElementById("search-input");
  const list = document.getElementById("search-results");
  let timer;
  let latest = 0;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q || !session.current) return close();
    timer = setTimeout(async () => {
      const asked = ++latest;
      const hits = await attempt(() => api("GET", `/api/search?q=${encodeURIComponent(q)}&limit=8`));
      if (asked !== latest || !hits) return;
      fill(list, hits.length ? hits.map((hit) => h("li", { role: "option" },
        h("a", { href: pageOf(hit.kind, hit.id), "data-link": true, class: "search-hit", dataset: { kind: hit.kind } },
          h("span", { class: "kind" }, hit.kind), h("span", {}, hit.name), h("span", { class: "muted small" }, hit.context))))
        : h("li", { class: "muted" }, "No matches"));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }, 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      close();
      navigate(`/search?q=${encodeURIComponent(input.value.trim())}`);
    } else if (event.key === "Escape") {
      close();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      list.querySelector("a")?.focus();
    }
  });
  list.addEventListener("click", close);
  document.addEventListener("click", (event) => { if (!event.target.closest(".search")) close(); });
}

function setUpKeyboard() {
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    const player = app.player;
    if (event.key === " " && !event.target.closest("button, a")) {
      event.preventDefault();
      player.toggle();
    } else if (event.key === "ArrowRight" && !event.shiftKey) {
      player.seekBy(5);
    } else if (event.key === "ArrowLeft" && !event.shiftKey) {
      player.seekBy(-5);
    } else if (event.key === "ArrowRight" && event.shiftKey) {
      player.skip(1);
    } else if (event.key === "ArrowLeft" && event.shiftKey) {
      player.skip(-1);
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const volume = document.getElementById("volume");
      event.preventDefault();
      volume.value = String(Math.min(1, Math.max(0, Number(volume.value) + (event.key === "ArrowUp" ? 0.05 : -0.05))));
      volume.dispatchEvent(new Event("input"));
    } else if (event.key === "/") {
      event.preventDefault();
      document.getElementById("search-input").focus();
    }
  });
}

function setUpQueuePanel() {
  const panel = document.getElementById("queue-panel");
  const toggle = document.getElementById("queue-toggle");
  const setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("queue-open", open);
  };
  toggle.addEventListener("click", () => setOpen(panel.hidden));
  document.getElementById("queue-close").addEventListener("click", () => setOpen(false));
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || link.target) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", () => show(location.href));
window.addEventListener("musikk:signed-out", () => navigate("/login"));
window.addEventListener("musikk:session", signedInChanged);
window.addEventListener("offline", () => toast("You're offline. What's on screen stays; we'll catch up when you're back.", "error"));
document.getElementById("logout-button").addEventListener("click", async () => {
  const refreshToken = session.current?.refreshToken;
  app.player.audio.pause();
  await api("POST", "/api/auth/logout", { refreshToken }).catch(() => null);
  session.clear();
  navigate("/login");
});

on("unread", (data) => showBadge(data.unread));
on("notification", (notification) => {
  refreshBadge();
  const what = { reply: "replied to your comment", follow: "followed you", "playlist-comment": "commented on your playlist", release: "has a new release" }[notification.kind];
  if (what) toast(`${notification.actor?.displayName ?? "Someone"} ${what}.`);
});

app.player = new Player();
setUpSearch();
setUpKeyboard();
setUpQueuePanel();
signedInChanged();
if (session.current) {
  connect();
  app.player.load();
}
window.addEventListener("musikk:session", () => { if (session.current && !app.player.queue.version) app.player.load(); });
show(location.href);
