// People: a profile, the feed of what the people one follows did, and one's notifications.
import { api, authorizedObjectURL, session } from "./api.js";
import { refreshBadge } from "./badge.js";
import { peopleList } from "./components.js";
import { on } from "./live.js";
import { load, page } from "./pages-kit.js";
import { pageOf } from "./router.js";
import { attempt, fill, h, notificationText, timeAgo, userLink } from "./ui.js";

const quoted = (title) => (title ? `“${title}”` : null);

/**
 * Feed entries as sentences, in order: a run of tracks one person added to (or removed from) one playlist reads as
 * one entry naming them ("added Song A, Song B and 3 more to “Mix”"), not as "added a track" five times.
 */
function feedEntries(items) {
  const entries = [];
  for (const item of items) {
    const change = item.kind === "playlist" && item.itemId ? (item.summary.startsWith("added") ? "added" : item.summary.startsWith("removed") ? "removed" : null) : null;
    const last = entries.at(-1);
    if (change && last?.change === change && last.item.actor.id === item.actor.id && last.item.subjectId === item.subjectId) {
      last.tracks.push(item);
      continue;
    }
    entries.push({ item, change, tracks: change ? [item] : [] });
  }
  return entries.map(({ item, change, tracks }) => {
    const subject = h("a", { href: pageOf(item.subjectKind, item.subjectId), "data-link": true }, quoted(item.subjectTitle) ?? item.summary);
    let said;
    if (change) {
      const named = tracks.slice(0, 2).map((entry, index) => [index ? ", " : "",
        h("a", { href: pageOf("track", entry.itemId), "data-link": true }, entry.itemTitle ?? "a track")]);
      const more = tracks.length > 2 ? ` and ${tracks.length - 2} more` : "";
      said = [`${change} `, named, more, change === "added" ? " to " : " from ", subject];
    } else if (item.kind === "like") {
      said = ["liked ", subject];
    } else if (item.kind === "listen") {
      said = ["listened to ", subject];
    } else if (item.kind === "comment") {
      said = ["commented on ", subject, h("span", { class: "muted" }, `: ${item.summary}`)];
    } else {
      said = [h("a", { href: pageOf(item.subjectKind, item.subjectId), "data-link": true }, item.summary)];
    }
    return h("li", {}, userLink(item.actor), " ", said, " ", timeAgo(item.createdAt));
  });
}

export const peoplePages = {
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
      listening?.nowPlaying ? h("p", { class: "now-listening" }, "Listening to ",
        h("a", { href: pageOf("track", listening.nowPlaying.trackId), "data-link": true }, listening.nowPlaying.trackTitle ?? "a track")) : null)),
    people,
    h("h2", {}, "Playlists"),
    (playlists?.items ?? []).length ? h("ul", { class: "results" }, playlists.items.map((playlist) => h("li", {},
      h("a", { href: pageOf("playlist", playlist.id), "data-link": true }, playlist.name)))) : h("p", { class: "muted" }, "No public playlists."));
  },


  async feed(main) {
    const list = h("ol", { class: "feed" });
    const more = h("button", { type: "button", class: "quiet", hidden: true }, "Older activity");
    let items = [];
    let cursor = null;
    const next = async () => {
      const answer = await load(`/api/feed?limit=30${cursor ? `&cursor=${cursor}` : ""}`);
      if (!answer) return;
      items = [...items, ...answer.items];
      cursor = answer.nextCursor;
      more.hidden = !cursor;
      fill(list, items.length ? feedEntries(items) : h("li", { class: "muted" }, "Follow people to see what they're up to."));
    };
    more.addEventListener("click", () => attempt(next));
    fill(main, page("Feed", list, more));
    await next();
    // Something new: read the first page again, so that the new entry is named for this reader like the rest.
    return { stop: on("activity", () => attempt(async () => {
      const answer = await load("/api/feed?limit=30");
      if (!answer) return;
      const newer = answer.items.filter((item) => !items.some((shown) => shown.id === item.id));
      items = [...newer, ...items];
      fill(list, feedEntries(items));
    })) };
  },

  async notifications(main) {
    const answer = await load("/api/notifications?limit=50");
    const items = answer?.items ?? [];
    fill(main, page("Notifications",
      items.length ? h("ol", { class: "feed" }, items.map((item) => h("li", { class: item.read ? "" : "unread" },
        item.actor ? userLink(item.actor) : "Someone", " ", h("a", { href: pageOf(item.subjectKind, item.subjectId), "data-link": true }, notificationText(item)), " ",
        timeAgo(item.createdAt), item.read ? null : h("span", { class: "visually-hidden" }, " (new)"))))
        : h("p", { class: "muted" }, "Nothing new.")));
    // Opening the page reads them: the ones new until now stay marked on this visit, the bell's count goes.
    if (items.some((item) => !item.read) && (await attempt(() => api("POST", "/api/notifications/read", {}))) !== undefined) refreshBadge();
  },
};
