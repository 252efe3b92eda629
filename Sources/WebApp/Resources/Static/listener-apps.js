// The credentials a listener gives their own Subsonic apps (DSub, Symfonium, Feishin, Amperfy…): API keys for
// apps that know OpenSubsonic, app passwords (with the account's email as user name) for older ones. Each secret is
// shown once, when made; the lists show names and dates, and revoking one signs that app out.
import { api } from "./api.js";
import { field, form } from "./pages-kit.js";
import { attempt, fill, h, timeAgo, toast } from "./ui.js";

const KINDS = {
  "api-keys": { title: "API keys", one: "API key", hint: "For apps that support OpenSubsonic API keys.", secret: (made) => [["API key", made.apiKey]] },
  "app-passwords": {
    title: "App passwords", one: "app password", hint: "For apps that ask for a user name and password. Use these, never your login password.",
    secret: (made) => [["User name", made.username], ["Password", made.password]],
  },
};

/** The Listener apps section of the profile page. */
export function listenerAppsSection() {
  return h("section", { id: "listener-apps", "aria-labelledby": "listener-apps-heading" },
    h("h2", { id: "listener-apps-heading" }, "Listener apps"),
    h("p", {}, "Play this catalog in your own Subsonic app. Server address: ", h("code", {}, location.origin), "."),
    Object.entries(KINDS).map(([kind, text]) => credentials(kind, text)));
}

function credentials(kind, text) {
  const list = h("ul", { class: "credentials", "aria-label": `Your ${text.title.toLowerCase()}` });
  const shown = h("div", { class: "made-secret", "aria-live": "polite" });
  const refresh = async () => {
    const items = await attempt(() => api("GET", `/api/me/subsonic/${kind}`));
    if (!items) return;
    fill(list, items.length ? items.map((item) => h("li", {},
      h("span", {}, item.name), " ", h("span", { class: "muted small" }, "made ", timeAgo(item.createdAt)), " ",
      h("button", { type: "button", "aria-label": `Revoke ${item.name}`, onclick: async () => {
        if (await attempt(() => api("DELETE", `/api/me/subsonic/${kind}/${item.id}`)) !== undefined) {
          toast(`${item.name} revoked: apps using it are signed out.`);
          refresh();
        }
      } }, "Revoke")))
      : h("li", { class: "muted" }, `No ${text.title.toLowerCase()} yet.`));
  };
  const maker = form([field("Name", { name: "name", required: true, maxlength: 64, placeholder: "Symfonium on my phone" })], `Create ${text.one}`, async (data) => {
    const made = await api("POST", `/api/me/subsonic/${kind}`, { name: data.get("name") });
    maker.reset();
    fill(shown, h("p", {}, `Copy it now: it is not shown again.`),
      text.secret(made).map(([label, value]) => h("label", { class: "field" }, h("span", {}, label),
        h("input", { readonly: true, value, class: "secret", "data-secret": label, onfocus: (event) => event.target.select() }))));
    refresh();
  });
  refresh();
  return h("div", { class: "credential-kind" }, h("h3", {}, text.title), h("p", { class: "muted small" }, text.hint), maker, shown, list);
}
