// Playlists: one's own list, and a playlist's page, where its owner and collaborators edit and reorder it.
import { api, session } from "./api.js";
import { commentsSection, likeButton, listLength, trackRow } from "./components.js";
import { on } from "./live.js";
import { field, form, load, page } from "./pages-kit.js";
import { player } from "./player.js";
import { navigate, pageOf } from "./router.js";
import { attempt, fill, h, sortable, toast, userLink } from "./ui.js";

export const playlistPages = {
  async playlists(main) {
    const mine = (await load(`/api/users/${session.current.userId}/playlists?limit=100`))?.items ?? [];
    fill(main, page("Your playlists",
      mine.length ? h("ul", { class: "results" }, mine.map((playlist) => h("li", {},
        h("a", { href: pageOf("playlist", playlist.id), "data-link": true }, playlist.name), " ",
        h("span", { class: "muted small" }, `${playlist.trackCount} tracks · ${playlist.visibility} · by ${playlist.owner.displayName}`))))
        : h("p", { class: "muted" }, "No playlists yet."),
      h("h2", {}, "New playlist"),
      form([field("Name", { name: "name", required: true, maxlength: 100 }), field("Description", { name: "description", maxlength: 1000 }),
        h("label", { class: "field" }, h("span", {}, "Who can see it"),
          h("select", { name: "visibility" }, h("option", { value: "private" }, "Only me and collaborators"), h("option", { value: "public" }, "Everyone")))],
      "Create", async (data) => {
        const created = await api("POST", "/api/playlists", { name: data.get("name"), description: data.get("description"), visibility: data.get("visibility") });
        navigate(`/playlists/${created.id}`);
      })));
  },

  async playlist(main, params) {
    const id = params.get("id");
    const comments = commentsSection("playlist", id);
    // Edits and refetches run one at a time, in the order asked, each rendering before the next is sent: a
    // change pushed live is fetched again while this page's own edit is in flight, and an older answer must never
    // be drawn over a newer one.
    let turns = Promise.resolve();
    const inTurn = (work) => (turns = turns.then(work, work));
    const render = async (playlist) => {
      const me = session.current.userId;
      const isOwner = playlist.owner.id === me;
      const canEdit = isOwner || playlist.collaborators.some((user) => user.id === me);
      const details = await Promise.all(playlist.entries.map((entry) => player.summary(entry.trackId).catch(() => null)));
      const ids = playlist.entries.map((entry) => entry.trackId);
      const change = (body) => inTurn(() => attempt(async () => render(await api("PATCH", `/api/playlists/${id}`, body))));
      const rows = playlist.entries.map((entry, index) => {
        // A track no longer published still has its row, named by its id, so that it can be removed.
        const track = details[index]?.track ?? { id: entry.trackId, title: entry.trackId, artists: [], duration: NaN };
        const title = track.title;
        return trackRow(track, { context: ids, number: index + 1, note: ` · added by ${entry.addedBy.displayName}`, draggable: canEdit, actions:
          canEdit ? h("div", { class: "row-actions" },
            h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} up`, disabled: index === 0, onclick: () => reorder(index, -1) }, "↑"),
            h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} down`, disabled: index === playlist.entries.length - 1, onclick: () => reorder(index, 1) }, "↓"),
            h("button", { type: "button", class: "quiet", "aria-label": `Remove ${title}`, onclick: async () => {
              await inTurn(async () => {
                if ((await attempt(() => api("DELETE", `/api/playlists/${id}/tracks/${entry.id}`))) !== undefined) await render(await api("GET", `/api/playlists/${id}`));
              });
            } }, "✕")) : null });
      });
      const reorder = (index, delta) => moveEntry(index, index + delta);
      moveEntry = async (from, to) => {
        const order = playlist.entries.map((entry) => entry.id);
        const [moved] = order.splice(from, 1);
        order.splice(to, 0, moved);
        await inTurn(async () => {
          const updated = await attempt(() => api("PUT", `/api/playlists/${id}/order`, { entryIds: order }));
          if (updated) await render(updated);
        });
      };
      const collaborator = h("input", { type: "search", placeholder: "Invite someone by name", "aria-label": "Invite a collaborator" });
      const found = h("ul", { class: "picker-results" });
      collaborator.addEventListener("input", async () => {
        const q = collaborator.value.trim();
        const hits = q ? (await attempt(() => api("GET", `/api/search?q=${encodeURIComponent(q)}&kinds=user&limit=5`))) ?? [] : [];
        fill(found, hits.filter((hit) => Number(hit.id) !== me).map((hit) => h("li", {}, h("button", { type: "button", class: "quiet", onclick: async () => {
          await inTurn(async () => {
            if ((await attempt(() => api("PUT", `/api/playlists/${id}/collaborators/${hit.id}`))) !== undefined) await render(await api("GET", `/api/playlists/${id}`));
          });
        } }, `Invite ${hit.name}`))));
      });
      fill(header,
        h("p", { class: "kind" }, `Playlist · ${playlist.visibility}`),
        h("h1", {}, playlist.name),
        playlist.description ? h("p", {}, playlist.description) : null,
        h("p", { class: "muted small" }, listLength(details.map((detail) => detail?.track).filter(Boolean))),
        h("p", { class: "muted small" }, "By ", userLink(playlist.owner),
          playlist.collaborators.length ? [" with ", playlist.collaborators.map((user, index) => [index ? ", " : "", userLink(user)])] : ""),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", disabled: !ids.length, onclick: () => player.play(ids[0], ids) }, "▶ Play"),
          likeButton("playlist", id, playlist.likedByYou, playlist.likeCount),
          h("button", { type: "button", onclick: async () => {
            try {
              await navigator.clipboard.writeText(location.href);
              toast("Link copied. Share it with friends.");
            } catch {
              toast(`Share this link: ${location.href}`);
            }
          } }, "Share")),
        isOwner ? h("details", { class: "edit" }, h("summary", {}, "Edit playlist"),
          form([field("Name", { name: "name", value: playlist.name, required: true, maxlength: 100 }),
            field("Description", { name: "description", value: playlist.description, maxlength: 1000 }),
            h("label", { class: "field" }, h("span", {}, "Who can see it"), h("select", { name: "visibility" },
              h("option", { value: "private", selected: playlist.visibility === "private" }, "Only me and collaborators"),
              h("option", { value: "public", selected: playlist.visibility === "public" }, "Everyone")))],
          "Save", (data) => change({ name: data.get("name"), description: data.get("description"), visibility: data.get("visibility") })),
          h("div", { class: "field" }, collaborator, found)) : null);
      fill(list, rows.length ? rows : h("li", { class: "muted" }, "No tracks yet. Add some from any track's page."));
    };
    const header = h("div", { class: "hero-text" });
    let moveEntry = async () => {};
    const list = sortable(h("ol", { class: "track-list", "aria-label": "Tracks (editors can drag them, or use the arrows, to reorder)" }),
      (from, to) => moveEntry(from, to));
    fill(main, header, list, comments.element);
    const playlist = await load(`/api/playlists/${encodeURIComponent(id)}`);
    if (!playlist) return fill(main, page("Playlist not found"));
    await render(playlist);
    // A change pushed live is fetched again, so that what is shown is this viewer's (their like, their rights).
    const stop = on("playlist", (updated) => {
      if (String(updated.id) !== String(id)) return;
      inTurn(async () => {
        const current = await attempt(() => api("GET", `/api/playlists/${id}`));
        if (current) await render(current);
      });
    });
    return { watch: [`playlist:${id}`], stop: () => { stop(); comments.stop(); } };
  },
};
