// The pages. Each takes the URL's parameters and the <main> element, fills it from the API, and returns the
// subjects whose live comments it shows plus a clean-up function.
import { api, authorizedObjectURL, session } from "./api.js";
import { on } from "./live.js";
import { app, commentsSection, cover, embedPicker, likeButton, peopleList, releaseCard, trackList } from "./components.js";
import { artistNames, attempt, fill, formatDate, h, pageOf, toast, userLink } from "./ui.js";

const page = (title, ...children) => [h("h1", {}, title), ...children];

/**
 * What a page shows, or null when it does not exist (404). Any other failure (no network, a server error) is thrown
 * to the router, which says so: a page that could not be fetched is never shown as absent or empty.
 */
async function load(path) {
  try {
    return await api("GET", path);
  } catch (error) {
    if (error?.status === 404) return null;
    throw error;
  }
}

function form(fields, submitLabel, onSubmit) {
  const error = h("p", { class: "form-error", role: "alert" });
  const element = h("form", { class: "stack" }, fields, error, h("button", { type: "submit" }, submitLabel));
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const button = element.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await onSubmit(new FormData(element));
    } catch (failure) {
      error.textContent = failure?.message ?? "That didn't work. Please try again.";
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

const field = (label, attributes) => h("label", { class: "field" }, h("span", {}, label), h("input", attributes));

export const views = {
  async login(main) {
    fill(main, page("Log in",
      form([field("Email", { name: "email", type: "email", required: true, autocomplete: "email" }),
        field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password" })], "Log in", async (data) => {
        session.save(await api("POST", "/api/auth/login", { email: data.get("email"), password: data.get("password") }));
        app.navigate("/");
      }),
      h("p", {}, "New here? ", h("a", { href: "/signup", "data-link": true }, "Create an account"), ".")));
  },

  async signup(main) {
    fill(main, page("Create your account",
      form([field("Your name", { name: "displayName", required: true, maxlength: 80, autocomplete: "nickname" }),
        field("Email", { name: "email", type: "email", required: true, autocomplete: "email" }),
        field("Password (at least 10 characters)", { name: "password", type: "password", required: true, minlength: 10, autocomplete: "new-password" })],
      "Sign up", async (data) => {
        session.save(await api("POST", "/api/auth/signup", {
          email: data.get("email"), password: data.get("password"), displayName: data.get("displayName"),
        }));
        app.navigate("/");
      }),
      h("p", {}, "Already have an account? ", h("a", { href: "/login", "data-link": true }, "Log in"), ".")));
  },

  async home(main) {
    const [releases, tracks, friends] = await Promise.all([
      load("/api/releases?limit=24"), load("/api/tracks?limit=50"), load("/api/now-playing"),
    ]);
    const listening = h("ul", { class: "people", id: "friends-listening" });
    const showFriends = (items) => fill(listening, items.length
      ? items.map((item) => h("li", {}, userLink(item.user), " ", h("a", { href: `/tracks/${item.trackId}`, "data-link": true, class: "muted" }, "is listening")))
      : h("li", { class: "muted" }, "None of the people you follow is listening right now."));
    showFriends(friends ?? []);
    const stop = on("now-playing", async () => {
      const friends = await attempt(() => load("/api/now-playing"));
      if (friends !== undefined) showFriends(friends ?? []);
    });
    fill(main, h("h1", { class: "visually-hidden" }, "Home"),
      h("section", { "aria-labelledby": "releases-heading" }, h("h2", { id: "releases-heading" }, "Releases"),
        h("div", { class: "grid" }, (releases?.items ?? []).map(releaseCard))),
      h("div", { class: "columns" },
        h("section", { "aria-labelledby": "tracks-heading" }, h("h2", { id: "tracks-heading" }, "Tracks"),
          trackList(tracks?.items ?? [], { context: (tracks?.items ?? []).map((track) => track.id) })),
        h("section", { "aria-labelledby": "friends-heading" }, h("h2", { id: "friends-heading" }, "Friends listening"), listening)));
    return { stop };
  },

  async search(main, params) {
    const q = params.get("q") ?? "";
    const hits = q ? (await load(`/api/search?q=${encodeURIComponent(q)}&limit=50`)) ?? [] : [];
    fill(main, page(q ? `Results for “${q}”` : "Search",
      hits.length ? h("ul", { class: "results" }, hits.map((hit) => h("li", {},
        h("span", { class: "kind" }, hit.kind), " ", h("a", { href: pageOf(hit.kind, hit.id), "data-link": true }, hit.name), " ", h("span", { class: "muted small" }, hit.context))))
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
    fill(main, h("div", { class: "hero" }, cover(track.cover, `Cover of ${track.release?.title ?? track.title}`, "large"),
      h("div", { class: "hero-text" }, h("p", { class: "kind" }, "Track"), h("h1", {}, track.title),
        h("p", {}, track.artists.map((artist, index) => [index ? ", " : "", h("a", { href: `/artists/${artist.id}`, "data-link": true }, artist.name)]),
          track.release ? [" · ", h("a", { href: `/releases/${track.release.id}`, "data-link": true }, track.release.title)] : ""),
        h("p", { class: "muted small" }, `${detail.playCount} plays`),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: "play-track", onclick: () => app.player.play(track.id) }, "▶ Play"),
          h("button", { type: "button", onclick: () => app.player.enqueue(track.id) }, "+ Queue"),
          likeButton("track", track.id, detail.likedByYou, detail.likeCount), picker))),
    comments.element);
    return { watch: [`track:${id}`], stop: comments.stop };
  },

  async release(main, params) {
    const id = params.get("id");
    const release = await load(`/api/releases/${encodeURIComponent(id)}`);
    if (!release) return fill(main, page("Release not found"));
    const ids = release.tracks.map((track) => track.id);
    const comments = commentsSection("release", id);
    fill(main, h("div", { class: "hero" }, cover(release.cover, `Cover of ${release.title}`, "large"),
      h("div", { class: "hero-text" }, h("p", { class: "kind" }, "Release"), h("h1", {}, release.title),
        h("p", {}, h("a", { href: `/artists/${release.artist.id}`, "data-link": true }, release.artist.name), release.date ? ` · ${release.date}` : ""),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", disabled: !ids.length, onclick: () => app.player.play(ids[0], ids) }, "▶ Play all"),
          likeButton("release", id, release.likedByYou, release.likeCount)))),
    trackList(release.tracks, { context: ids, label: `Tracks of ${release.title}` }), comments.element);
    return { watch: [`release:${id}`], stop: comments.stop };
  },

  async artist(main, params) {
    const artist = await load(`/api/artists/${encodeURIComponent(params.get("id"))}`);
    if (!artist) return fill(main, page("Artist not found"));
    fill(main, page(artist.name, h("h2", {}, "Releases"), h("div", { class: "grid" }, artist.releases.map(releaseCard)),
      h("h2", {}, "Tracks"), trackList(artist.tracks, { context: artist.tracks.map((track) => track.id) })));
  },

  async playlists(main) {
    const mine = (await load(`/api/users/${session.current.userId}/playlists?limit=100`))?.items ?? [];
    fill(main, page("Your playlists",
      mine.length ? h("ul", { class: "results" }, mine.map((playlist) => h("li", {},
        h("a", { href: `/playlists/${playlist.id}`, "data-link": true }, playlist.name), " ",
        h("span", { class: "muted small" }, `${playlist.trackCount} tracks · ${playlist.visibility} · by ${playlist.owner.displayName}`))))
        : h("p", { class: "muted" }, "No playlists yet."),
      h("h2", {}, "New playlist"),
      form([field("Name", { name: "name", required: true, maxlength: 100 }), field("Description", { name: "description", maxlength: 1000 }),
        h("label", { class: "field" }, h("span", {}, "Who can see it"),
          h("select", { name: "visibility" }, h("option", { value: "private" }, "Only me and collaborators"), h("option", { value: "public" }, "Everyone")))],
      "Create", async (data) => {
        const created = await api("POST", "/api/playlists", { name: data.get("name"), description: data.get("description"), visibility: data.get("visibility") });
        app.navigate(`/playlists/${created.id}`);
      })));
  },

  async playlist(main, params) {
    const id = params.get("id");
    const comments = commentsSection("playlist", id);
    const render = async (playlist) => {
      const me = session.current.userId;
      const isOwner = playlist.owner.id === me;
      const canEdit = isOwner || playlist.collaborators.some((user) => user.id === me);
      const details = await Promise.all(playlist.entries.map((entry) => app.player.summary(entry.trackId).catch(() => null)));
      const ids = playlist.entries.map((entry) => entry.trackId);
      const change = (body) => attempt(async () => render(await api("PATCH", `/api/playlists/${id}`, body)));
      const rows = playlist.entries.map((entry, index) => {
        const track = details[index]?.track;
        const title = track?.title ?? entry.trackId;
        return h("li", { class: "track-row" },
          h("button", { type: "button", class: "play-small", "aria-label": `Play ${title}`, onclick: () => app.player.play(entry.trackId, ids) }, "▶"),
          h("div", { class: "track-text" }, h("a", { href: `/tracks/${entry.trackId}`, "data-link": true, class: "title" }, title),
            h("span", { class: "muted small" }, artistNames(track?.artists), ` · added by ${entry.addedBy.displayName}`)),
          canEdit ? h("div", { class: "row-actions" },
            h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} up`, disabled: index === 0, onclick: () => reorder(index, -1) }, "↑"),
            h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} down`, disabled: index === playlist.entries.length - 1, onclick: () => reorder(index, 1) }, "↓"),
            h("button", { type: "button", class: "quiet", "aria-label": `Remove ${title}`, onclick: async () => {
              if ((await attempt(() => api("DELETE", `/api/playlists/${id}/tracks/${entry.id}`))) !== undefined) render(await api("GET", `/api/playlists/${id}`));
            } }, "✕")) : null);
      });
      const reorder = async (index, delta) => {
        const order = playlist.entries.map((entry) => entry.id);
        [order[index], order[index + delta]] = [order[index + delta], order[index]];
        const updated = await attempt(() => api("PUT", `/api/playlists/${id}/order`, { entryIds: order }));
        if (updated) render(updated);
      };
      const collaborator = h("input", { type: "search", placeholder: "Invite someone by name", "aria-label": "Invite a collaborator" });
      const found = h("ul", { class: "picker-results" });
      collaborator.addEventListener("input", async () => {
        const q = collaborator.value.trim();
        const hits = q ? (await attempt(() => api("GET", `/api/search?q=${encodeURIComponent(q)}&kinds=user&limit=5`))) ?? [] : [];
        fill(found, hits.filter((hit) => Number(hit.id) !== me).map((hit) => h("li", {}, h("button", { type: "button", class: "quiet", onclick: async () => {
          if ((await attempt(() => api("PUT", `/api/playlists/${id}/collaborators/${hit.id}`))) !== undefined) render(await api("GET", `/api/playlists/${id}`));
        } }, `Invite ${hit.name}`))));
      });
      fill(header,
        h("p", { class: "kind" }, `Playlist · ${playlist.visibility}`),
        h("h1", {}, playlist.name),
        playlist.description ? h("p", {}, playlist.description) : null,
        h("p", { class: "muted small" }, "By ", userLink(playlist.owner),
          playlist.collaborators.length ? [" with ", playlist.collaborators.map((user, index) => [index ? ", " : "", userLink(user)])] : ""),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", disabled: !ids.length, onclick: () => app.player.play(ids[0], ids) }, "▶ Play"),
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
    const list = h("ol", { class: "track-list", "aria-label": "Tracks" });
    fill(main, header, list, comments.element);
    const playlist = await load(`/api/playlists/${encodeURIComponent(id)}`);
    if (!playlist) return fill(main, page("Playlist not found"));
    await render(playlist);
    // A change pushed live is fetched again, so that what is shown is this viewer's (their like, their rights).
    const stop = on("playlist", async (updated) => {
      if (String(updated.id) !== String(id)) return;
      const current = await attempt(() => api("GET", `/api/playlists/${id}`));
      if (current) render(current);
    });
    return { watch: [`playlist:${id}`], stop: () => { stop(); comments.stop(); } };
  },

  async forums(main) {
    const forums = (await load("/api/forums?limit=100"))?.items ?? [];
    fill(main, page("Forums",
      forums.length ? h("ul", { class: "results" }, forums.map((forum) => h("li", {},
        h("a", { href: `/forums/${forum.id}`, "data-link": true }, forum.name), " ",
        h("span", { class: "muted small" }, `${forum.threadCount} threads · ${forum.description}`))))
        : h("p", { class: "muted" }, "No forums yet. Start one."),
      h("h2", {}, "New forum"),
      form([field("Name", { name: "name", required: true, maxlength: 100 }), field("What it's about", { name: "description", maxlength: 1000 })],
        "Create forum", async (data) => {
          const forum = await api("POST", "/api/forums", { name: data.get("name"), description: data.get("description") });
          app.navigate(`/forums/${forum.id}`);
        })));
  },

  async forum(main, params) {
    const id = params.get("id");
    const [forum, threads] = await Promise.all([load(`/api/forums/${id}`), load(`/api/forums/${id}/threads?limit=100`)]);
    if (!forum) return fill(main, page("Forum not found"));
    const picker = embedPicker();
    const textarea = h("textarea", { name: "body", required: true, rows: 4, maxlength: 4000, "aria-label": "First post" });
    fill(main, page(forum.name, h("p", { class: "muted" }, forum.description),
      (threads?.items ?? []).length ? h("ul", { class: "results" }, threads.items.map((thread) => h("li", {},
        h("a", { href: `/threads/${thread.id}`, "data-link": true }, thread.title), " ",
        h("span", { class: "muted small" }, `${thread.postCount} posts · by ${thread.author.displayName}`))))
        : h("p", { class: "muted" }, "No threads yet."),
      h("h2", {}, "New thread"),
      form([field("Title", { name: "title", required: true, maxlength: 200 }), h("label", { class: "field" }, h("span", {}, "First post"), textarea), picker.element],
        "Start thread", async (data) => {
          const thread = await api("POST", `/api/forums/${id}/threads`, { title: data.get("title"), body: data.get("body"), embeds: picker.embeds });
          app.navigate(`/threads/${thread.id}`);
        })));
  },

  async thread(main, params) {
    const id = params.get("id");
    const detail = await load(`/api/threads/${id}`);
    if (!detail) return fill(main, page("Thread not found"));
    const posts = commentsSection("thread", id, { title: "Posts", postLabel: "Write a post", withEmbeds: true });
    fill(main, h("p", { class: "kind" }, h("a", { href: `/forums/${detail.forum.id}`, "data-link": true }, detail.forum.name)),
      h("h1", {}, detail.thread.title), posts.element);
    return { watch: [`thread:${id}`], stop: posts.stop };
  },

  async user(main, params) {
    const id = Number(params.get("id"));
    const [profile, playlists, listening] = await Promise.all([
      load(`/api/users/${id}`), load(`/api/users/${id}/playlists?limit=50`), api("GET", `/api/users/${id}/now-playing`).catch(() => null),
    ]);
    if (!profile) return fill(main, page("Person not found"));
    const avatar = h("div", { class: "avatar large", "aria-hidden": "true" }, profile.displayName.slice(0, 1).toUpperCase());
    if (profile.avatarUrl) authorizedObjectURL(profile.avatarUrl).then((url) => url && avatar.replaceWith(h("img", { class: "avatar large", src: url, alt: "" })));
    const people = h("div", {});
    const show = async (which) => {
      const answer = await attempt(() => load(`/api/users/${id}/${which}?limit=100`));
      if (answer === undefined) return;
      fill(people, h("h2", {}, which === "followers" ? "Followers" : "Following"), peopleList(answer?.items ?? [], "Nobody yet."));
    };
    let following = profile.followedByYou;
    let followers = profile.followerCount;
    const followerButton = h("button", { type: "button", class: "quiet", onclick: () => show("followers") });
    const countFollowers = () => fill(followerButton, followers === 1 ? "1 follower" : `${followers} followers`);
    countFollowers();
    const follow = h("button", { type: "button", class: "primary", "aria-pressed": String(following) }, following ? "Following" : "Follow");
    follow.addEventListener("click", async () => {
      if ((await attempt(() => api(following ? "DELETE" : "PUT", `/api/users/${id}/follow`))) === undefined) return;
      following = !following;
      followers += following ? 1 : -1;
      countFollowers();
      follow.textContent = following ? "Following" : "Follow";
      follow.setAttribute("aria-pressed", String(following));
    });
    const isMe = id === session.current.userId;
    fill(main, h("div", { class: "hero" }, avatar, h("div", { class: "hero-text" },
      h("p", { class: "kind" }, profile.role === "owner" ? "Artist account" : "Listener"), h("h1", {}, profile.displayName),
      profile.bio ? h("p", {}, profile.bio) : null,
      h("p", { class: "actions" },
        followerButton,
        h("button", { type: "button", class: "quiet", onclick: () => show("following") }, `${profile.followingCount} following`),
        isMe ? h("a", { href: "/me", "data-link": true, class: "button" }, "Edit profile") : follow),
      listening?.nowPlaying ? h("p", {}, "Listening to ", h("a", { href: `/tracks/${listening.nowPlaying.trackId}`, "data-link": true }, "this track")) : null)),
    people,
    h("h2", {}, "Playlists"),
    (playlists?.items ?? []).length ? h("ul", { class: "results" }, playlists.items.map((playlist) => h("li", {},
      h("a", { href: `/playlists/${playlist.id}`, "data-link": true }, playlist.name)))) : h("p", { class: "muted" }, "No public playlists."));
  },

  async me(main) {
    const account = await load("/api/me");
    if (!account) return fill(main, page("Your profile"));
    const { profile } = account;
    const avatarInput = h("input", { type: "file", accept: "image/png,image/jpeg,image/webp", "aria-label": "New avatar" });
    avatarInput.addEventListener("change", async () => {
      const file = avatarInput.files?.[0];
      if (file && (await attempt(() => api("PUT", "/api/me/avatar", file)))) toast("Avatar updated.");
    });
    fill(main, page("Your profile",
      h("p", {}, h("a", { href: `/users/${profile.id}`, "data-link": true }, "See your public profile")),
      form([field("Name", { name: "displayName", value: profile.displayName, required: true, maxlength: 80 }),
        h("label", { class: "field" }, h("span", {}, "About you"), h("textarea", { name: "bio", maxlength: 1000, rows: 3 }, profile.bio)),
        h("label", { class: "field" }, h("span", {}, "Who sees what you're listening to"), h("select", { name: "nowPlayingVisibility" },
          ["nobody", "followers", "everyone"].map((value) => h("option", { value, selected: account.nowPlayingVisibility === value },
            { nobody: "Nobody", followers: "People who follow me", everyone: "Everyone" }[value]))))],
      "Save", async (data) => {
        await api("PATCH", "/api/me", { displayName: data.get("displayName"), bio: data.get("bio"), nowPlayingVisibility: data.get("nowPlayingVisibility") });
        toast("Saved.");
      }),
      h("label", { class: "field" }, h("span", {}, "Avatar (PNG, JPEG or WebP)"), avatarInput),
      h("p", { class: "muted small" }, `Signed in as ${account.email}.`)));
  },

  async feed(main) {
    const list = h("ol", { class: "feed" });
    const more = h("button", { type: "button", class: "quiet", hidden: true }, "Older activity");
    let cursor = null;
    const row = (item) => h("li", {}, userLink(item.actor), " ", h("a", { href: pageOf(item.subjectKind, item.subjectId), "data-link": true }, item.summary), " ",
      h("time", { class: "muted small", datetime: item.createdAt }, formatDate(item.createdAt)));
    const next = async () => {
      const answer = await load(`/api/feed?limit=30${cursor ? `&cursor=${cursor}` : ""}`);
      if (!answer) return;
      list.append(...answer.items.map(row));
      cursor = answer.nextCursor;
      more.hidden = !cursor;
      if (!list.children.length) list.append(h("li", { class: "muted" }, "Follow people to see what they're up to."));
    };
    more.addEventListener("click", () => attempt(next));
    fill(main, page("Feed", list, more));
    await next();
    return { stop: on("activity", (item) => list.prepend(row(item))) };
  },

  async notifications(main) {
    const answer = await load("/api/notifications?limit=50");
    const items = answer?.items ?? [];
    const text = (item) => ({
      reply: "replied to your comment", follow: "followed you", "playlist-comment": "commented on your playlist", release: "has a new release",
    })[item.kind] ?? item.kind;
    fill(main, page("Notifications",
      h("button", { type: "button", onclick: async () => {
        if ((await attempt(() => api("POST", "/api/notifications/read", {}))) !== undefined) app.refreshBadge();
      } }, "Mark all as read"),
      items.length ? h("ol", { class: "feed" }, items.map((item) => h("li", { class: item.read ? "" : "unread" },
        item.actor ? userLink(item.actor) : "Someone", " ", h("a", { href: pageOf(item.subjectKind, item.subjectId), "data-link": true }, text(item)), " ",
        h("time", { class: "muted small", datetime: item.createdAt }, formatDate(item.createdAt)))))
        : h("p", { class: "muted" }, "Nothing new.")));
  },
};
