// The catalog's pages: home, search results, a track, a release, an artist.
import { api, session } from "./api.js";
import { commentsSection, cover, likeButton, listLength, releaseCard, trackList } from "./components.js";
import { on } from "./live.js";
import { lyricsSection } from "./lyrics.js";
import { load, page } from "./pages-kit.js";
import { player } from "./player.js";
import { pageOf } from "./router.js";
import { attempt, fill, h, toast, userLink } from "./ui.js";

/** The tracks the listener played last, most recent first, each once. */
async function recentlyPlayed() {
  const listens = (await load(`/api/users/${session.current.userId}/listens?limit=50`))?.items ?? [];
  const ids = [...new Set(listens.map((listen) => listen.trackId))].slice(0, 8);
  const details = await Promise.all(ids.map((id) => player.summary(id).catch(() => null)));
  return details.filter(Boolean).map((detail) => detail.track);
}

function friendsListening(items) {
  return items.length
    ? items.map((item) => h("li", {}, userLink(item.user), " ", h("span", { class: "muted" }, "is listening to"), " ",
      h("a", { href: pageOf("track", item.trackId), "data-link": true, class: "truncate", title: item.trackTitle ?? "" }, item.trackTitle ?? "a track")))
    : h("li", { class: "muted" }, "None of the people you follow is listening right now.");
}

export const catalogPages = {
  async home(main) {
    const [newest, tracks, friends, played] = await Promise.all([
      load("/api/releases?sort=newest&limit=12"), load("/api/tracks?limit=50"), load("/api/now-playing"), recentlyPlayed(),
    ]);
    const listening = h("ul", { class: "people", id: "friends-listening" }, friendsListening(friends ?? []));
    const stop = on("now-playing", async () => {
      const friends = await attempt(() => load("/api/now-playing"));
      if (friends !== undefined) fill(listening, friendsListening(friends ?? []));
    });
    const trackItems = tracks?.items ?? [];
    fill(main, h("h1", { class: "visually-hidden" }, "Home"),
      h("section", { "aria-labelledby": "added-heading" }, h("h2", { id: "added-heading" }, "Recently added"),
        h("div", { class: "grid" }, (newest?.items ?? []).map(releaseCard))),
      h("div", { class: "columns" },
        h("div", {},
          h("section", { "aria-labelledby": "played-heading" }, h("h2", { id: "played-heading" }, "Recently played"),
            played.length ? trackList(played, { context: played.map((track) => track.id), label: "Recently played" })
              : h("p", { class: "muted" }, "What you listen to shows up here.")),
          h("section", { "aria-labelledby": "tracks-heading" }, h("h2", { id: "tracks-heading" }, "All tracks"),
            trackList(trackItems, { context: trackItems.map((track) => track.id), label: "All tracks" }))),
        h("section", { "aria-labelledby": "friends-heading" }, h("h2", { id: "friends-heading" }, "Friends listening"), listening)));
    return { stop };
  },

  async search(main, params) {
    const q = params.get("q") ?? "";
    const hits = q ? (await load(`/api/search?q=${encodeURIComponent(q)}&limit=50`)) ?? [] : [];
    fill(main, page(q ? `Results for “${q}”` : "Search",
      hits.length ? h("ul", { class: "results" }, hits.map((hit) => h("li", { class: "hit" },
        cover(hit.cover, "", "thumb"),
        h("span", { class: "kind" }, hit.kind), h("a", { href: pageOf(hit.kind, hit.id), "data-link": true }, hit.name), h("span", { class: "muted small" }, hit.context))))
        : h("p", { class: "muted" }, q ? "Nothing matches. Try fewer words." : "Type in the search box above.")));
  },

  async track(main, params) {
    const id = params.get("id");
    const detail = await load(`/api/tracks/${encodeURIComponent(id)}`);
    if (!detail) return fill(main, page("Track not found"));
    const { track } = detail;
    const playlists = (await load(`/api/users/${session.current.userId}/playlists?limit=100`))?.items ?? [];
    const picker = h("select", { "aria-label": "Add to a playlist" }, h("option", { value: "" }, "Add to playlist…"),
      playlists.map((playlist) => h("option", { value: playlist.id }, playlist.name)));
    picker.addEventListener("change", async () => {
      if (!picker.value) return;
      if (await attempt(() => api("POST", `/api/playlists/${picker.value}/tracks`, { trackId: track.id }))) toast("Added to the playlist.");
      picker.value = "";
    });
    const comments = commentsSection("track", id);
    const lyrics = lyricsSection(track.id, detail.lyrics);
    fill(main, h("div", { class: "hero" }, cover(track.cover, `Cover of ${track.release?.title ?? track.title}`, "large", track.coverThumbnails),
      h("div", { class: "hero-text" }, h("p", { class: "kind" }, "Track"), h("h1", {}, track.title),
        h("p", {}, track.artists.map((artist, index) => [index ? ", " : "", h("a", { href: pageOf("artist", artist.id), "data-link": true }, artist.name)]),
          track.release ? [" · ", h("a", { href: pageOf("release", track.release.id), "data-link": true }, track.release.title)] : ""),
        h("p", { class: "muted small" }, detail.playCount === 1 ? "1 play" : `${detail.playCount} plays`),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: "play-track", onclick: () => player.play(track.id) }, "▶ Play"),
          h("button", { type: "button", onclick: () => player.enqueue(track.id) }, "+ Queue"),
          likeButton("track", track.id, detail.likedByYou, detail.likeCount), picker))),
    lyrics?.element ?? "", comments.element);
    return { watch: [`track:${id}`], stop: () => { lyrics?.stop(); comments.stop?.(); } };
  },

  async release(main, params) {
    const id = params.get("id");
    const release = await load(`/api/releases/${encodeURIComponent(id)}`);
    if (!release) return fill(main, page("Release not found"));
    const ids = release.tracks.map((track) => track.id);
    const comments = commentsSection("release", id);
    fill(main, h("div", { class: "hero" }, cover(release.cover, `Cover of ${release.title}`, "large", release.coverThumbnails),
      h("div", { class: "hero-text" }, h("p", { class: "kind" }, "Release"), h("h1", {}, release.title),
        h("p", {}, h("a", { href: pageOf("artist", release.artist.id), "data-link": true }, release.artist.name), release.date ? ` · ${release.date}` : ""),
        h("p", { class: "muted small", id: "release-length" }, listLength(release.tracks)),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", disabled: !ids.length, onclick: () => player.play(ids[0], ids) }, "▶ Play all"),
          likeButton("release", id, release.likedByYou, release.likeCount)))),
    trackList(release.tracks, { context: ids, label: `Tracks of ${release.title}`, numbers: "release" }), comments.element);
    return { watch: [`release:${id}`], stop: comments.stop };
  },

  async artist(main, params) {
    const artist = await load(`/api/artists/${encodeURIComponent(params.get("id"))}`);
    if (!artist) return fill(main, page("Artist not found"));
    fill(main, page(artist.name, h("h2", {}, "Releases"), h("div", { class: "grid" }, artist.releases.map(releaseCard)),
      h("h2", {}, "Tracks"), trackList(artist.tracks, { context: artist.tracks.map((track) => track.id) })));
  },
};
