// Pieces several pages share: track rows, cards, like buttons, comment threads with live replies, embeds.
import { api, session } from "./api.js";
import { on } from "./live.js";
import { artistNames, attempt, fill, formatDate, formatTime, h, pageOf, userLink } from "./ui.js";

export const app = { player: null, navigate: null, me: null };

export function trackRow(track, context = null) {
  return h("li", { class: "track-row", dataset: { trackId: track.id } },
    h("button", { type: "button", class: "play-small", "aria-label": `Play ${track.title}`, onclick: () => app.player.play(track.id, context) }, "▶"),
    h("div", { class: "track-text" },
      h("a", { href: `/tracks/${track.id}`, "data-link": true, class: "title" }, track.title),
      h("span", { class: "muted small" }, artistNames(track.artists), track.release ? [" · ", track.release.title] : "")),
    h("span", { class: "muted small time" }, formatTime(track.durationSeconds)),
    h("button", { type: "button", class: "quiet", "aria-label": `Add ${track.title} to the queue`, onclick: () => app.player.enqueue(track.id) }, "+ Queue"));
}

export function trackList(tracks, { context = null, label = "Tracks" } = {}) {
  return h("ol", { class: "track-list", "aria-label": label }, tracks.map((track) => trackRow(track, context)));
}

export function cover(url, alt, size = "") {
  return url ? h("img", { class: `cover ${size}`, src: url, alt, loading: "lazy" }) : h("div", { class: `cover placeholder ${size}`, "aria-hidden": "true" }, "♪");
}

export function releaseCard(release) {
  return h("a", { class: "card", href: `/releases/${release.id}`, "data-link": true },
    cover(release.cover, `Cover of ${release.title}`),
    h("span", { class: "title" }, release.title),
    h("span", { class: "muted small" }, release.artist?.name ?? ""));
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
      h("a", { href: pageOf(embed.kind, embed.id), "data-link": true, class: "title" }, title),
      h("span", { class: "muted small" }, item?.subtitle ?? embed.kind)),
    trackIds.length
      ? h("button", { type: "button", class: "play-small embed-play", "aria-label": `Play ${title}`, onclick: () => app.player.play(trackIds[0], trackIds) }, "▶")
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
    h("div", { class: "comment-head" }, userLink(comment.author), h("time", { class: "muted small", datetime: comment.createdAt }, formatDate(comment.createdAt)),
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

/** The comments on a subject, newest replies appearing live (the page watches the subject's events). */
export function commentsSection(kind, id, { title = "Comments", postLabel = "Add a comment", withEmbeds = false } = {}) {
  const list = h("ol", { class: "comments", "aria-live": "polite" });
  const section = {
    path: `/api/${kind}s/${encodeURIComponent(id)}/comments`,
    insert(comment) {
      if (document.getElementById(`comment-${comment.id}`)) return;
      const parent = comment.parentId ? document.getElementById(`comment-${comment.parentId}`)?.querySelector(":scope > .replies") : null;
      if (comment.parentId && !parent) return;
      (parent ?? list)[parent ? "append" : "prepend"](commentView(comment, section));
      empty.hidden = true;
    },
  };
  const empty = h("p", { class: "muted" }, "No comments yet. Start the conversation.");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, "Older comments");
  let cursor = null;
  const load = async () => {
    const page = await attempt(() => api("GET", `${section.path}?limit=30${cursor ? `&cursor=${cursor}` : ""}`));
    if (!page) return;
    for (const comment of page.items) {
      // One that arrived live first is replaced by the loaded one, whose embeds are resolved for this viewer.
      const view = commentView(comment, section);
      const shown = document.getElementById(`comment-${comment.id}`);
      if (shown) shown.replaceWith(view); else list.append(view);
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
  const element = h("section", { class: "comments-section", "aria-label": title }, h("h2", {}, title),
    composer(section, { label: postLabel, withEmbeds }), list, empty, more);
  load();
  return { element, stop: () => stop.forEach((off) => off()) };
}

/** Followers/following and the like: a list of people with links. */
export function peopleList(users, emptyText) {
  return users.length ? h("ul", { class: "people" }, users.map((user) => h("li", {}, userLink(user)))) : h("p", { class: "muted" }, emptyText);
}
