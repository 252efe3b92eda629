// Signing up and in, and one's own profile.
import { api, session } from "./api.js";
import { listenerAppsSection } from "./listener-apps.js";
import { field, form, load, page } from "./pages-kit.js";
import { navigate, pageOf } from "./router.js";
import { attempt, fill, h, toast } from "./ui.js";

export const accountPages = {
  async login(main) {
    fill(main, page("Log in",
      form([field("Email", { name: "email", type: "email", required: true, autocomplete: "email" }),
        field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password" })], "Log in", async (data) => {
        session.save(await api("POST", "/api/auth/login", { email: data.get("email"), password: data.get("password") }));
        navigate("/");
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
        navigate("/");
      }),
      h("p", {}, "Already have an account? ", h("a", { href: "/login", "data-link": true }, "Log in"), ".")));
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
      h("p", {}, h("a", { href: pageOf("user", profile.id), "data-link": true }, "See your public profile")),
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
      h("p", { class: "muted small" }, `Signed in as ${account.email}.`),
      h("button", { type: "button", "data-logout": true }, "Log out"),
      listenerAppsSection()));
  },
};
