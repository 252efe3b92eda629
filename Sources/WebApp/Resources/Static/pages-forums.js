// Forums: the list of forums, a forum's threads, and a thread read from its first post.
import { api } from "./api.js";
import { commentsSection, embedPicker } from "./components.js";
import { field, form, load, page } from "./pages-kit.js";
import { navigate, pageOf } from "./router.js";
import { fill, h } from "./ui.js";

export const forumPages = {
  async forums(main) {
    const forums = (await load("/api/forums?limit=100"))?.items ?? [];
    fill(main, page("Forums",
      forums.length ? h("ul", { class: "results" }, forums.map((forum) => h("li", {},
        h("a", { href: pageOf("forum", forum.id), "data-link": true }, forum.name), " ",
        h("span", { class: "muted small" }, `${forum.threadCount === 1 ? "1 thread" : `${forum.threadCount} threads`} · ${forum.description}`))))
        : h("p", { class: "muted" }, "No forums yet. Start one."),
      h("h2", {}, "New forum"),
      form([field("Name", { name: "name", required: true, maxlength: 100 }), field("What it's about", { name: "description", maxlength: 1000 })],
        "Create forum", async (data) => {
          const forum = await api("POST", "/api/forums", { name: data.get("name"), description: data.get("description") });
          navigate(pageOf("forum", forum.id));
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
        h("a", { href: pageOf("thread", thread.id), "data-link": true }, thread.title), " ",
        h("span", { class: "muted small" }, `${thread.postCount === 1 ? "1 post" : `${thread.postCount} posts`} · by ${thread.author.displayName}`))))
        : h("p", { class: "muted" }, "No threads yet."),
      h("h2", {}, "New thread"),
      form([field("Title", { name: "title", required: true, maxlength: 200 }), h("label", { class: "field" }, h("span", {}, "First post"), textarea), picker.element],
        "Start thread", async (data) => {
          const thread = await api("POST", `/api/forums/${id}/threads`, { title: data.get("title"), body: data.get("body"), embeds: picker.embeds });
          navigate(pageOf("thread", thread.id));
        })));
  },

  async thread(main, params) {
    const id = params.get("id");
    const detail = await load(`/api/threads/${id}`);
    if (!detail) return fill(main, page("Thread not found"));
    const posts = commentsSection("thread", id, { title: "Posts", postLabel: "Write a post", withEmbeds: true, oldestFirst: true });
    fill(main, h("p", { class: "kind" }, h("a", { href: pageOf("forum", detail.forum.id), "data-link": true }, detail.forum.name)),
      h("h1", {}, detail.thread.title), posts.element);
    return { watch: [`thread:${id}`], stop: posts.stop };
  },
};
