// What every page module uses: fetching what a page shows, headings, and forms that report their errors.
import { api } from "./api.js";
import { h } from "./ui.js";

export const page = (title, ...children) => [h("h1", {}, title), ...children];

/**
 * What a page shows, or null when it does not exist (404). Any other failure (no network, a server error) is thrown
 * to the router, which says so: a page that could not be fetched is never shown as absent or empty.
 */
export async function load(path) {
  try {
    return await api("GET", path);
  } catch (error) {
    if (error?.status === 404) return null;
    throw error;
  }
}

export function form(fields, submitLabel, onSubmit) {
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

export const field = (label, attributes) => h("label", { class: "field" }, h("span", {}, label), h("input", attributes));
