// A track's lyrics on its page. Synced lyrics follow playback: while this track plays, the line being sung is
// marked (aria-current) and kept in view, and a line's time button seeks there.
import { player } from "./player.js";
import { formatTime, h } from "./ui.js";

/** The lyrics section of a track page, or null when the track has none; `stop` ends following the player. */
export function lyricsSection(trackId, sets) {
  if (!sets?.length) return null;
  const body = h("div", { class: "lyrics-body" });
  let lines = [];
  let shown = null;
  const show = (set) => {
    shown = set;
    lines = set.lines.map((line) => h("li", { "data-start": line.start ?? "" },
      set.synced ? h("button", { type: "button", class: "lyrics-time", "aria-label": `Play from ${formatTime(line.start / 1000)}`,
        onclick: () => seek(line.start / 1000) }, formatTime(line.start / 1000)) : "",
      h("span", {}, line.text || "\u00a0")));
    body.replaceChildren(h("ol", { class: set.synced ? "lyrics synced" : "lyrics", lang: set.language === "und" ? null : set.language }, lines));
    follow();
  };
  const seek = (seconds) => {
    if (player.current?.id === trackId) player.audio.currentTime = seconds;
    else player.play(trackId).then(() => { player.audio.currentTime = seconds; }).catch(() => {});
  };
  let marked = null;
  const follow = () => {
    if (!shown?.synced) return;
    const playing = player.current?.id === trackId;
    const now = playing ? player.audio.currentTime * 1000 : -1;
    let index = -1;
    shown.lines.forEach((line, position) => { if (line.start <= now) index = position; });
    const line = index >= 0 ? lines[index] : null;
    if (line === marked) return;
    marked?.removeAttribute("aria-current");
    marked = line;
    if (line) {
      line.setAttribute("aria-current", "true");
      const list = line.parentElement;
      const top = line.offsetTop - list.offsetTop - list.clientHeight / 2 + line.clientHeight / 2;
      list.scrollTo({ top, behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
    }
  };
  const picker = sets.length > 1 ? h("select", { "aria-label": "Lyrics version" },
    sets.map((set, index) => h("option", { value: String(index) }, `${set.synced ? "Synced" : "Plain"}${set.language === "und" ? "" : ` (${set.language})`}`))) : null;
  picker?.addEventListener("change", () => show(sets[Number(picker.value)]));
  player.audio.addEventListener("timeupdate", follow);
  player.audio.addEventListener("seeked", follow);
  show(sets[0]);
  const element = h("section", { class: "lyrics-section", "aria-labelledby": "lyrics-heading" },
    h("div", { class: "section-head" }, h("h2", { id: "lyrics-heading" }, "Lyrics"), picker ?? ""), body);
  return {
    element,
    stop: () => {
      player.audio.removeEventListener("timeupdate", follow);
      player.audio.removeEventListener("seeked", follow);
    },
  };
}
