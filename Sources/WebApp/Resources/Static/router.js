// The page table and moving between pages without reloading (so the music keeps playing). The table is the
// server's (WebApp.pages), carried in the shell: the server answers these URLs and the app renders them.
const table = JSON.parse(document.getElementById("page-table").textContent);
const routes = table.map((page) => ({
  ...page, pattern: new RegExp(`^${page.path.replace(":id", "([^/]+)")}$`),
}));

/** The page for a path: { view, access, id } or null. */
export function routeOf(pathname) {
  for (const route of routes) {
    const found = route.pattern.exec(pathname);
    if (found) return { view: route.view, access: route.access, id: found[1] ? decodeURIComponent(found[1]) : null };
  }
  return null;
}

/** The page of a catalog item, a person, a playlist or a forum thread (`kind` as the API names it). */
export function pageOf(kind, id) {
  const page = table.find((candidate) => candidate.view === kind && candidate.path.includes(":id"));
  return page ? page.path.replace(":id", encodeURIComponent(id)) : "/";
}

let render = null;

/** Renders the current URL with `show(url)` now, and again on every link, back and forward. */
export function startRouter(show) {
  render = show;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-link]");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || link.target) return;
    event.preventDefault();
    navigate(link.getAttribute("href"));
  });
  window.addEventListener("popstate", () => show(location.href));
  return show(location.href);
}

export function navigate(path, { replace = false } = {}) {
  history[replace ? "replaceState" : "pushState"]({}, "", path);
  window.scrollTo(0, 0);
  return render?.(path);
}
