// Pieces several pages share: track rows, cards, like buttons, comment threads with live replies, embeds.
import { api, session } from "./api.js";
import { on } from "./live.js";
import { player } from "./player.js";
import { pageOf } from "./router.js";
import { artistNames, attempt, coverSource, fill, formatTime, h, timeAgo, userLink } from "./ui.js";

/**
 * A track in a list: its number (the release's track number, or its place in the list), title and artists, its
 * length, play and queue buttons; `note` adds to the subtitle, `actions` to the end, and `draggable` lets it be
 * dragged (see sortable). The row of the track playing now is marked (see Player.markPlaying).
 */
export function trackRow(track, { context = null, number = null, note = "", actions = null, draggable = false } = {}) {
  const artists = artistNames(track.artists);
  const playing = player.current?.id === track.id;
  return h("li", { class: playing ? "track-row playing" : "track-row", dataset: { trackId: track.id }, "aria-current": playing ? "true" : null,
    draggable: draggable ? "true" : null },
    number === null ? null : h("span", { class: "number muted small", "aria-hidden": "true" }, String(number)),
    h("button", { type: "button", class: "play-small", "aria-label": `Play ${track.title}`, onclick: () => player.play(track.id, context) }, "▶"),
    track.cover ? cover(track.cover, "", "thumb", track.coverThumbnails) : null,
    h("div", { class: "track-text" },
      h("a", { href: pageOf("track", track.id), "data-link": true, class: "title", title: track.title }, track.title),
      h("span", { class: "muted small truncate", title: artists }, artists, track.release ? [" · ", track.release.title] : "", note)),
    h("span", { class: "muted small time" }, formatTime(track.duration)),
    h("button", { type: "button", class: "quiet", "aria-label": `Add ${track.title} to the queue`, onclick: () => player.enqueue(track.id) }, "+ Queue"),
    actions);
}

/** A list of tracks; `numbers` "release" shows the release's track numbers, "position" their place in the list. */
export function trackList(tracks, { context = null, label = "Tracks", numbers = null } = {}) {
  return h("ol", { class: "track-list", "aria-label": label }, tracks.map((track, index) => trackRow(track, {
    context, number: numbers === "release" ? (track.trackNumber ?? index + 1) : numbers === "position" ? index + 1 : null,
  })));
}

/** How long a list of tracks plays, as "3 tracks · 12 min". */
export function listLength(tracks) {
  const seconds = tracks.reduce((sum, track) => sum + (Number.isFinite(track?.duration) ? track.duration : 0), 0);
  const minutes = Math.round(seconds / 60);
  const length = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : minutes ? `${minutes} min` : `${Math.round(seconds)} s`;
  return `${tracks.length} ${tracks.length === 1 ? "track" : "tracks"} · ${length}`;
}

/** How wide each size of cover is drawn (CSS pixels), to pick its thumbnail. */
const coverWidths = { thumb: 40, small: 48, large: 240, "": 200 };

export function cover(url, alt, size = "", thumbnails = null) {
  return url ? h("img", { class: `cover ${size}`, src: coverSource(url, thumbnails, coverWidths[size] ?? 200), alt, loading: "lazy" })
    : h("div", { class: `cover placeholder ${size}`, "aria-hidden": "true" }, "♪");
}

export function releaseCard(release) {
  return h("a", { class: "card", href: pageOf("release", release.id), "data-link": true, title: `${release.title} · ${release.artist?.name ?? ""}` },
    cover(release.cover, `Cover of ${release.title}`, "", release.coverThumbnails),
    h("span", { class: "title truncate" }, release.title),
    h("span", { class: "muted small truncate" }, release.artist?.name ?? ""));
}

/** A like toggle for a track, release or playlist. */
export function likeButton(kind, id, liked, count) {
  const button = h("button", { type: "button", class: "like", "aria-pressed": String(liked) });
  const show = () => fill(button, liked ? "♥ Liked" : "♡ Like", count ? ` · ${count}` : "");
  show();
  button.addEventListener("click", async () => {
    const done = await attempt(() => api(liked ? "DELETE" : "PUT", `/api/likes/${kind}/${encodeURIComponent(id)}`));
    if (done === undefined) return;
    count += liked ? -1 : 1;
    liked = !liked;
    button.setAttribute("aria-pressed", String(liked));
    show();
  });
  return button;
}

/** A card for an item embedded in a post; its button plays it. */
export function embedCard(embed) {
  const item = embed.item;
  const title = item?.title ?? `${embed.kind} ${embed.id}`;
  const trackIds = item?.trackIds?.length ? item.trackIds : embed.kind === "track" ? [embed.id] : [];
  return h("div", { class: "embed", dataset: { kind: embed.kind, id: embed.id } },
    cover(item?.cover, "", "small"),
    h("div", { class: "track-text" },
      h("a", { href: pageOf(embed.kind, embed.id), "data-link": true, class: "title", title }, title),
      h("span", { class: "muted small" }, item?.subtitle ?? embed.kind)),
    trackIds.length
      ? h("button", { type: "button", class: "play-small embed-play", "aria-label": `Play ${title}`, onclick: () => player.play(trackIds[0], trackIds) }, "▶")
      : null);
}

/**
 * A picker that attaches tracks and releases to a post: search as you type, pick, shown as removable chips.
 * `picker.embeds` holds the choice.
 */
export function embedPicker() {
  const chosen = [];
  const chips = h("div", { class: "chips" });
  const results = h("ul", { class: "picker-results", role: "listbox", "aria-label": "Music to attach" });
  const input = h("input", { type: "search", placeholder: "Attach a track or release…", "aria-label": "Attach a track or release" });
  const render = () => fill(chips, chosen.map((embed, index) => h("span", { class: "chip" }, `${embed.kind}: ${embed.name}`,
    h("button", { type: "button", class: "quiet", "aria-label": `Remove ${embed.name}`, onclick: () => { chosen.splice(index, 1); render(); } }, "✕"))));
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) return fill(results);
      const hits = await attempt(() => api("GET", `/api/search?q=${encodeURIComponent(q)}&kinds=track,release&limit=6`));
      fill(results, (hits ?? []).map((hit) => h("li", {},
        h("button", { type: "button", class: "quiet", onclick: () => {
          if (chosen.length < 5) chosen.push({ kind: hit.kind, id: hit.id, name: hit.name });
          input.value = "";
          fill(results);
          render();
        } }, `${hit.name} (${hit.kind}${hit.context ? ", " + hit.context : ""})`))));
    }, 200);
  });
  const element = h("div", { class: "picker" }, input, results, chips);
  return { element, get embeds() { return chosen.map(({ kind, id }) => ({ kind, id })); }, clear() { chosen.length = 0; render(); } };
}

/** A comment with its replies: reply, and edit or delete one's own. */
function commentView(comment, section) {
  const mine = comment.author.id === session.current?.userId;
  const body = h("p", { class: "comment-body" }, comment.deleted ? "This comment was deleted." : comment.body);
  const replies = h("ol", { class: "replies" }, (comment.replies ?? []).map((reply) => commentView(reply, section)));
  const actions = h("div", { class: "comment-actions" });
  const element = h("li", { class: "comment", id: `comment-${comment.id}`, dataset: { commentId: comment.id } },
    h("div", { class: "comment-head" }, userLink(comment.author), timeAgo(comment.createdAt),
      comment.editedAt ? h("span", { class: "muted small" }, "(edited)") : null),
    body,
    h("div", { class: "embeds" }, (comment.embeds ?? []).map(embedCard)),
    actions, replies);
  if (!comment.deleted) {
    actions.append(h("button", { type: "button", class: "quiet", onclick: () => {
      if (element.querySelector(":scope > form")) return;
      const form = composer(section, { parentId: comment.id, label: `Reply to ${comment.author.displayName}`, onDone: () => form.remove() });
      actions.after(form);
      form.querySelector("textarea").focus();
    } }, "Reply"));
    if (mine) {
      actions.append(
        h("button", { type: "button", class: "quiet", onclick: async () => {
          const text = prompt("Edit your comment", comment.body);
          if (text === null || !text.trim()) return;
          const updated = await attempt(() => api("PATCH", `/api/comments/${comment.id}`, { body: text }));
          if (updated) body.textContent = updated.body;
        } }, "Edit"),
        h("button", { type: "button", class: "quiet", onclick: async () => {
          if (!confirm("Delete this comment?")) return;
          if ((await attempt(() => api("DELETE", `/api/comments/${comment.id}`))) !== undefined) {
            body.textContent = "This comment was deleted.";
            actions.replaceChildren();
          }
        } }, "Delete"));
    }
  }
  return element;
}

/** A form posting a comment (or a reply, or a forum post with attachments). */
function composer(section, { parentId = null, label = "Add a comment", withEmbeds = false, onDone = () => {} } = {}) {
  const textarea = h("textarea", { required: true, maxlength: 4000, rows: parentId ? 2 : 3, "aria-label": label, placeholder: label });
  const picker = withEmbeds ? embedPicker() : null;
  const form = h("form", { class: "composer" }, textarea, picker?.element, h("button", { type: "submit" }, parentId ? "Reply" : "Post"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (!text) return;
    const comment = await attempt(() => api("POST", section.path, { body: text, parentId: parentId ?? undefined, embeds: picker?.embeds }));
    if (!comment) return;
    textarea.value = "";
    picker?.clear();
    section.insert(comment);
    onDone();
  });
  return form;
}

/**
 * The comments on a subject, new ones appearing live (the page watches the subject's events). Comments read newest
 * first with the composer on top; a forum thread (`oldestFirst`) reads from its first post, the composer at the end.
 */
export function commentsSection(kind, id, { title = "Comments", postLabel = "Add a comment", withEmbeds = false, oldestFirst = false } = {}) {
  const list = h("ol", { class: "comments", "aria-live": "polite" });
  const section = {
    path: `/api/${kind}s/${encodeURIComponent(id)}/comments`,
    insert(comment) {
      if (document.getElementById(`comment-${comment.id}`)) return;
      const parent = comment.parentId ? document.getElementById(`comment-${comment.parentId}`)?.querySelector(":scope > .replies") : null;
      if (comment.parentId && !parent) return;
      if (parent) parent.append(commentView(comment, section)); else place(commentView(comment, section), comment.id);
      empty.hidden = true;
    },
  };
  // Top-level comments stay in order (by id) however they arrive: loaded pages and live ones interleave.
  const place = (view, commentId) => {
    const later = [...list.children].find((shown) => oldestFirst
      ? Number(shown.dataset.commentId) > commentId : Number(shown.dataset.commentId) < commentId);
    list.insertBefore(view, later ?? null);
  };
  const empty = h("p", { class: "muted" }, oldestFirst ? "No posts yet. Write the first." : "No comments yet. Start the conversation.");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, oldestFirst ? "Later posts" : "Older comments");
  let cursor = null;
  const load = async () => {
    const query = new URLSearchParams({ limit: "30" });
    if (cursor) query.set("cursor", cursor);
    if (oldestFirst) query.set("order", "oldest");
    const page = await attempt(() => api("GET", `${section.path}?${query}`));
    if (!page) return;
    for (const comment of page.items) {
      // One that arrived live first is replaced by the loaded one, whose embeds are resolved for this viewer.
      const view = commentView(comment, section);
      const shown = document.getElementById(`comment-${comment.id}`);
      if (shown) shown.replaceWith(view); else place(view, comment.id);
    }
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  };
  more.addEventListener("click", load);
  const stop = [
    on("comment", (comment) => { if (comment.subjectKind === kind && String(comment.subjectId) === String(id)) section.insert(comment); }),
    on("comment-updated", (comment) => {
      const element = document.getElementById(`comment-${comment.id}`);
      if (element) element.querySelector(":scope > .comment-body").textContent = comment.deleted ? "This comment was deleted." : comment.body;
    }),
  ];
  const composerForm = composer(section, { label: postLabel, withEmbeds });
  const element = h("section", { class: "comments-section", "aria-label": title }, h("h2", {}, title),
    oldestFirst ? [list, empty, more, composerForm] : [composerForm, list, empty, more]);
  load();
  return { element, stop: () => stop.forEach((off) => off()) };
}

/** Followers/following and the like: a list of people with links. */
export function peopleList(users, emptyText) {
  return users.length ? h("ul", { class: "people" }, users.map((user) => h("li", {}, userLink(user)))) : h("p", { class: "muted" }, emptyText);
}
