// The JSON API as the pages use it: tokens kept in localStorage, refreshed when they expire, and every failure
// turned into a message a listener understands.

const STORAGE_KEY = "musikk.session";

/** An error whose message can be shown to the listener as it is. */
export class FriendlyError extends Error {
  constructor(message, { status = 0, code = "" } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const friendlyByCode = {
  invalid_credentials: "That email and password don't match an account.",
  rate_limited: "Too many tries. Wait a few minutes, then try again.",
  listening_private: "They keep what they listen to to themselves.",
  not_found: "We couldn't find that. It may have been removed.",
  forbidden: "That isn't yours to change.",
  invalid_email: "That email can't be used to sign up. Check it, or log in if you already have an account.",
  busy: "Musikk is busy right now. Try again in a few seconds.",
  body_too_large: "That is too long to send.",
  too_many_streams: "Musikk is open in too many tabs. Close one to get live updates here.",
  queue_version_conflict: "Your queue changed on another device.",
  media_link_expired: "The link to this track expired. Press play again.",
  no_access: "This protected track can't be played: its key was refused.",
  no_keys: "This server can't unlock protected tracks yet. Tell its operator.",
};

export const session = {
  get current() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    } catch {
      return null;
    }
  },
  save(tokens) {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({
      accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, userId: tokens.userId,
    }));
    window.dispatchEvent(new CustomEvent("musikk:session"));
  },
  clear() {
    localStorage.removeItem(STORAGE_KEY);
    window.dispatchEvent(new CustomEvent("musikk:session"));
  },
};

let refreshing = null;

async function refresh() {
  const current = session.current;
  if (!current) return false;
  refreshing ??= fetch("/api/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refreshToken: current.refreshToken }),
  }).then(async (response) => {
    if (!response.ok) {
      session.clear();
      return false;
    }
    session.save(await response.json());
    return true;
  }).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * Calls the API. `body` is sent as JSON (or as is when it is a Blob). Resolves with the decoded answer (null for
 * 204); rejects with a FriendlyError. A 409 carries the server's answer in `error.body`.
 */
export async function api(method, path, body, { retried = false } = {}) {
  const headers = {};
  const current = session.current;
  if (current) headers.Authorization = `Bearer ${current.accessToken}`;
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers["Content-Type"] = body.type;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new FriendlyError("We can't reach Musikk right now. Check your connection; everything on screen stays as it is.");
  }
  if (response.status === 401 && current && !retried && !path.startsWith("/api/auth/")) {
    if (await refresh()) return api(method, path, body, { retried: true });
    window.dispatchEvent(new CustomEvent("musikk:signed-out"));
    throw new FriendlyError("Your session ended. Please log in again.", { status: 401 });
  }
  if (response.status === 204) return null;
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (response.ok) return answer;
  const code = answer?.error?.code ?? "";
  let message;
  if (response.status >= 500 || answer === null) {
    message = "Something went wrong on our side. Please try again in a moment.";
  } else {
    message = friendlyByCode[code] ?? sentence(answer?.error?.message) ?? "That didn't work. Please try again.";
  }
  const error = new FriendlyError(message, { status: response.status, code });
  error.body = answer;
  throw error;
}

/** The server's own message, first letter capitalised, as a sentence. */
function sentence(text) {
  if (!text) return null;
  const trimmed = text.replace(/`/g, "").trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

/** An object URL for a resource that needs the token (avatars), or null. */
export async function authorizedObjectURL(path) {
  const current = session.current;
  if (!current) return null;
  try {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${current.accessToken}` } });
    if (!response.ok) return null;
    return URL.createObjectURL(await response.blob());
  } catch {
    return null;
  }
}
