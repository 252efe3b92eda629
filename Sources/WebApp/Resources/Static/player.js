// The player bar and the play queue. The queue lives on the server (one per user, versioned) so every browser
// the listener has open shows the same one: writes carry the version they were based on, a 409 brings the other
// device's queue, and the change is applied again on top of it.
import { api, session, FriendlyError } from "./api.js";
import { on } from "./live.js";
import { playProtected } from "./protected-player.js";
import { pageOf } from "./router.js";
import { attempt, coverSource, fill, formatTime, h, sortable, toast, artistNames } from "./ui.js";

const HLS_TYPE = "application/vnd.apple.mpegurl";
const REPORT_EVERY_SECONDS = 10;
const REPEAT_MODES = ["off", "all", "one"];

export class Player {
  constructor() {
    this.audio = document.getElementById("audio");
    this.queue = { version: 0, trackIds: [], currentIndex: 0, positionSeconds: 0, device: "" };
    this.device = Player.device();
    this.tracks = new Map();
    this.current = null;  // { id, summary, sessionId, peaks }
    this.lastReport = 0;
    this.elements = Object.fromEntries(
      ["player-cover", "player-title", "player-artist", "play-button", "prev-button", "next-button", "current-time", "duration",
        "waveform", "volume", "queue-list", "queue-empty", "queue-device", "queue-clear", "queue-shuffle", "repeat-button", "mute-button",
        "device-name", "lossless-button"].map((id) => [id, document.getElementById(id)]));
    this.lossless = localStorage.getItem("musikk.lossless") === "true";
    this.protectedPlayback = null;
    this.repeat = REPEAT_MODES.includes(localStorage.getItem("musikk.repeat")) ? localStorage.getItem("musikk.repeat") : "off";
    this.bindControls();
    on("queue", (queue) => this.receive(queue));
  }

  /**
   * What this browser tab writes as the queue's device: the name the listener knows it by ("Chromium on Linux",
   * renamable, kept in this browser) and, after a "#", a tag of this tab, so that two tabs tell their writes apart.
   */
  static device() {
    let tab = sessionStorage.getItem("musikk.tab");
    if (!tab) {
      tab = Math.random().toString(36).slice(2, 8);
      sessionStorage.setItem("musikk.tab", tab);
    }
    return `${Player.deviceName()}#${tab}`;
  }

  /** The name of this browser as the listener sees it in "Updated from …". */
  static deviceName() {
    const saved = localStorage.getItem("musikk.deviceName")?.trim();
    if (saved) return saved;
    const agent = navigator.userAgent;
    const browser = [[/Edg\//, "Edge"], [/OPR\//, "Opera"], [/Firefox\//, "Firefox"], [/Chromium\//, "Chromium"], [/Chrome\//, "Chrome"],
      [/Safari\//, "Safari"]].find(([pattern]) => pattern.test(agent))?.[1] ?? "Browser";
    const system = [[/Android/, "Android"], [/iPhone|iPad/, "iOS"], [/Mac OS X/, "macOS"], [/Windows/, "Windows"], [/CrOS/, "ChromeOS"],
      [/Linux/, "Linux"]].find(([pattern]) => pattern.test(agent))?.[1];
    return system ? `${browser} on ${system}` : browser;
  }

  /** The name part of a queue's `device` (without this tab's tag). */
  static label(device) {
    return String(device ?? "").replace(/#[^#]*$/, "") || "another device";
  }

  bindControls() {
    const { audio, elements } = this;
    audio.volume = Number(localStorage.getItem("musikk.volume") ?? 0.8);
    elements.volume.value = String(audio.volume);
    elements.volume.addEventListener("input", () => {
      audio.volume = Number(elements.volume.value);
      localStorage.setItem("musikk.volume", elements.volume.value);
      if (audio.muted && audio.volume > 0) this.setMuted(false);
    });
    this.setMuted(localStorage.getItem("musikk.muted") === "true");
    elements["mute-button"].addEventListener("click", () => this.setMuted(!audio.muted));
    elements["lossless-button"].addEventListener("click", () => this.setLossless(!this.lossless));
    elements["repeat-button"].addEventListener("click", () => this.setRepeat(REPEAT_MODES[(REPEAT_MODES.indexOf(this.repeat) + 1) % REPEAT_MODES.length]));
    this.setRepeat(this.repeat);
    elements["queue-shuffle"].addEventListener("click", () => this.shuffle());
    elements["device-name"].value = Player.deviceName();
    elements["device-name"].addEventListener("change", () => {
      const name = elements["device-name"].value.trim().replace(/#/g, "").slice(0, 40);
      if (name) localStorage.setItem("musikk.deviceName", name); else localStorage.removeItem("musikk.deviceName");
      elements["device-name"].value = Player.deviceName();
      this.device = Player.device();
      toast(`This browser is now called “${Player.deviceName()}”.`);
    });
    sortable(elements["queue-list"], (from, to) => this.moveTo(from, to));
    elements["play-button"].addEventListener("click", () => this.toggle());
    elements["next-button"].addEventListener("click", () => this.skip(1));
    elements["prev-button"].addEventListener("click", () => this.skip(-1));
    elements["queue-clear"].addEventListener("click", () => this.change(() => ({ trackIds: [], currentIndex: 0, positionSeconds: 0 })));
    audio.addEventListener("timeupdate", () => this.progress());
    audio.addEventListener("durationchange", () => this.progress());
    audio.addEventListener("play", () => this.stateChanged());
    audio.addEventListener("pause", () => this.stateChanged());
    audio.addEventListener("ended", () => {
      this.report("stopped");
      if (this.repeat === "one") {
        this.audio.currentTime = 0;
        this.current.sessionId = crypto.randomUUID();
        this.audio.play().catch(() => {});
      } else if (this.queue.currentIndex + 1 < this.queue.trackIds.length) {
        this.skip(1);
      } else if (this.repeat === "all" && this.queue.trackIds.length) {
        this.jump(0);
      }
    });
    audio.addEventListener("error", () => {
      if (this.current) toast("This track can't be played right now. Try again in a moment.", "error");
    });
    const canvas = elements.waveform;
    const seekTo = (clientX) => {
      const box = canvas.getBoundingClientRect();
      const fraction = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
      if (Number.isFinite(audio.duration)) audio.currentTime = fraction * audio.duration;
    };
    canvas.addEventListener("click", (event) => seekTo(event.clientX));
    canvas.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        event.preventDefault();
        event.stopPropagation();
        this.seekBy(event.key === "ArrowRight" ? 5 : -5);
      }
    });
    new ResizeObserver(() => this.drawWaveform()).observe(canvas);
  }

  /** Reads the queue from the server and shows its current track, without starting playback. */
  async load() {
    if (!session.current) return;
    const queue = await attempt(() => api("GET", "/api/queue"));
    if (queue) {
      this.queue = queue;
      await this.renderQueue();
      const id = queue.trackIds[queue.currentIndex];
      if (id && !this.current) await this.open(id, { autoplay: false, position: queue.positionSeconds });
    }
  }

  setMuted(muted) {
    this.audio.muted = muted;
    localStorage.setItem("musikk.muted", String(muted));
    const button = this.elements["mute-button"];
    button.setAttribute("aria-pressed", String(muted));
    button.classList.toggle("on", muted);
  }

  setRepeat(mode) {
    this.repeat = mode;
    localStorage.setItem("musikk.repeat", mode);
    const button = this.elements["repeat-button"];
    button.setAttribute("aria-label", { off: "Repeat: off", all: "Repeat: the whole queue", one: "Repeat: this track" }[mode]);
    button.dataset.mode = mode;
    button.classList.toggle("on", mode !== "off");
  }

  /** Shuffles what comes after the current track (on every device, as the queue is shared). */
  shuffle() {
    return this.change((queue) => {
      const head = queue.trackIds.slice(0, queue.currentIndex + 1);
      const rest = queue.trackIds.slice(queue.currentIndex + 1);
      for (let index = rest.length - 1; index > 0; index--) {
        const other = Math.floor(Math.random() * (index + 1));
        [rest[index], rest[other]] = [rest[other], rest[index]];
      }
      return { ...queue, trackIds: [...head, ...rest] };
    });
  }

  toggle() {
    if (!this.current) {
      const id = this.queue.trackIds[this.queue.currentIndex];
      if (id) this.open(id, { autoplay: true, position: this.queue.positionSeconds });
      return;
    }
    if (this.audio.paused) this.audio.play().catch(() => toast("Press play to start listening.")); else this.audio.pause();
  }

  seekBy(seconds) {
    if (!this.current || !Number.isFinite(this.audio.duration)) return;
    this.audio.currentTime = Math.min(this.audio.duration, Math.max(0, this.audio.currentTime + seconds));
  }

  /** Plays `trackId` now. With `context` (the tracks of a release or playlist), the queue becomes that list. */
  async play(trackId, context = null) {
    await this.change((queue) => {
      if (context && context.includes(trackId)) return { trackIds: [...context], currentIndex: context.indexOf(trackId), positionSeconds: 0 };
      const trackIds = [...queue.trackIds];
      const index = Math.min(queue.currentIndex + (trackIds.length ? 1 : 0), trackIds.length);
      trackIds.splice(index, 0, trackId);
      return { trackIds, currentIndex: index, positionSeconds: 0 };
    });
    await this.open(trackId, { autoplay: true });
  }

  async enqueue(trackId) {
    if (await this.change((queue) => ({ ...queue, trackIds: [...queue.trackIds, trackId] }))) toast("Added to your queue.");
  }

  async skip(delta) {
    const index = this.queue.currentIndex + delta;
    if (index < 0 || index >= this.queue.trackIds.length) return;
    await this.change((queue) => ({ ...queue, currentIndex: index, positionSeconds: 0 }));
    await this.open(this.queue.trackIds[index], { autoplay: true });
  }

  /**
   * Applies `edit` (queue → { trackIds, currentIndex, positionSeconds }) and writes it with the version it was
   * based on; when another device wrote first, applies the same edit to that queue and writes again.
   */
  async change(edit) {
    for (let attemptNumber = 0; attemptNumber < 3; attemptNumber++) {
      const next = { ...this.queue, ...edit(this.queue) };
      next.currentIndex = Math.max(0, Math.min(next.currentIndex, Math.max(0, next.trackIds.length - 1)));
      try {
        this.queue = await api("PUT", "/api/queue", {
          version: this.queue.version, trackIds: next.trackIds, currentIndex: next.currentIndex,
          positionSeconds: next.positionSeconds ?? 0, device: this.device,
        });
        await this.renderQueue();
        return true;
      } catch (error) {
        if (error instanceof FriendlyError && error.status === 409 && error.body?.current) {
          this.queue = error.body.current;
          continue;
        }
        toast(error.message, "error");
        return false;
      }
    }
    toast("Your queue keeps changing on another device; try again.", "error");
    return false;
  }

  /** A queue pushed by the server: another device's change (our own writes come back too, and are skipped). */
  async receive(queue) {
    if (queue.version <= this.queue.version) return;
    const playingBefore = this.queue.trackIds[this.queue.currentIndex];
    this.queue = queue;
    await this.renderQueue();
    if (queue.device !== this.device) {
      this.elements["queue-device"].textContent = `Updated from ${Player.label(queue.device)}.`;
      const playingNow = queue.trackIds[queue.currentIndex];
      if (this.current && playingNow && playingNow !== playingBefore && !this.audio.paused) this.open(playingNow, { autoplay: true });
    }
  }

  async summary(trackId) {
    if (!this.tracks.has(trackId)) {
      const detail = await api("GET", `/api/tracks/${encodeURIComponent(trackId)}`);
      this.tracks.set(trackId, detail);
    }
    return this.tracks.get(trackId);
  }

  async renderQueue() {
    const { trackIds, currentIndex } = this.queue;
    const list = this.elements["queue-list"];
    this.elements["queue-empty"].hidden = trackIds.length > 0;
    const rows = await Promise.all(trackIds.map(async (id, index) => {
      let title = id;
      let artists = "";
      let artwork = null;
      try {
        const detail = await this.summary(id);
        title = detail.track.title;
        artists = artistNames(detail.track.artists);
        if (detail.track.cover) artwork = h("img", { class: "cover thumb", src: coverSource(detail.track.cover, detail.track.coverThumbnails, 40), alt: "" });
      } catch {
        // keep the id; the row still works
      }
      const isCurrent = index === currentIndex;
      return h("li", { class: isCurrent ? "current" : "", "aria-current": isCurrent ? "true" : null, dataset: { trackId: id }, draggable: "true" },
        artwork,
        h("button", { type: "button", class: "queue-title", onclick: () => this.jump(index), "aria-label": `Play ${title}`, title: `${title} · ${artists}` },
          h("span", {}, title), h("span", { class: "muted small" }, artists)),
        h("div", { class: "row-actions" },
          h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} up`, disabled: index === 0, onclick: () => this.move(index, -1) }, "↑"),
          h("button", { type: "button", class: "quiet", "aria-label": `Move ${title} down`, disabled: index === trackIds.length - 1, onclick: () => this.move(index, 1) }, "↓"),
          h("button", { type: "button", class: "quiet", "aria-label": `Remove ${title} from the queue`, onclick: () => this.remove(index) }, "✕")));
    }));
    fill(list, rows);
  }

  async jump(index) {
    await this.change((queue) => ({ ...queue, currentIndex: index, positionSeconds: 0 }));
    await this.open(this.queue.trackIds[this.queue.currentIndex], { autoplay: true });
  }

  /** Moves a track one place up or down (the queue's ↑ and ↓ buttons, the keyboard's way to drag). */
  move(index, delta) {
    return this.moveTo(index, index + delta);
  }

  /** Moves the track at `from` to `to` (a drag in the queue panel). */
  moveTo(from, to) {
    return this.change((queue) => {
      if (from < 0 || from >= queue.trackIds.length || to < 0 || to >= queue.trackIds.length) return queue;
      const trackIds = [...queue.trackIds];
      const [moved] = trackIds.splice(from, 1);
      trackIds.splice(to, 0, moved);
      return { ...queue, trackIds, currentIndex: queue.currentIndex === from ? to : Player.shifted(queue.currentIndex, from, to) };
    });
  }

  /** Where the item at `index` ends up when another moves from `from` to `to`. */
  static shifted(index, from, to) {
    if (from < index && to >= index) return index - 1;
    if (from > index && to <= index) return index + 1;
    return index;
  }

  remove(index) {
    return this.change((queue) => {
      const trackIds = queue.trackIds.filter((_, position) => position !== index);
      const currentIndex = queue.currentIndex > index ? queue.currentIndex - 1 : queue.currentIndex;
      return { ...queue, trackIds, currentIndex };
    });
  }

  /** Chooses the lossless tier (kept in this browser) and reloads the current track at the same position. */
  async setLossless(lossless) {
    this.lossless = lossless;
    localStorage.setItem("musikk.lossless", String(lossless));
    this.elements["lossless-button"].setAttribute("aria-pressed", String(lossless));
    if (this.current) await this.open(this.current.id, { autoplay: !this.audio.paused, position: this.audio.currentTime });
  }

  /**
   * Points the audio element at a track's playback: a protected track through the MSE + EME player, else the HLS
   * master where the browser plays HLS, else the single file; the lossless tier's when chosen and there.
   */
  async attach(playback, position) {
    this.protectedPlayback?.stop();
    this.protectedPlayback = null;
    const button = this.elements["lossless-button"];
    const sources = playback.protected?.sources ?? [];
    const hasLossless = Boolean(playback.hlsLossless || playback.lossless || sources.some((source) => source.tier === "lossless"));
    button.hidden = !hasLossless;
    button.setAttribute("aria-pressed", String(this.lossless));
    const lossless = this.lossless && hasLossless;
    if (playback.protected) {
      const source = sources.find((candidate) => candidate.tier === (lossless ? "lossless" : "lossy")) ?? sources[0];
      this.audio.removeAttribute("src");
      this.audio.dataset.source = lossless ? "protected-lossless" : "protected";
      this.protectedPlayback = await playProtected(this.audio, source, (request) => api("POST", playback.protected.licenseUrl, request), position);
    } else {
      const hls = this.audio.canPlayType(HLS_TYPE);
      const source = hls ? (lossless ? playback.hlsLossless : playback.hls) : (lossless ? playback.lossless ?? playback.progressive : playback.progressive);
      this.audio.src = source;
      this.audio.dataset.source = (hls ? "hls" : "progressive") + (lossless ? "-lossless" : "");
      if (position > 0) this.audio.currentTime = position;
    }
  }

  /** Loads a track into the audio element (see `attach`) and shows it in the player bar. */
  async open(trackId, { autoplay = true, position = 0 } = {}) {
    let detail;
    let playback;
    try {
      [detail, playback] = await Promise.all([this.summary(trackId), api("GET", `/api/tracks/${encodeURIComponent(trackId)}/playback`)]);
    } catch (error) {
      toast(error.message, "error");
      return;
    }
    if (this.current && !this.audio.paused) this.report("stopped");
    const track = detail.track;
    this.current = { id: trackId, track, sessionId: crypto.randomUUID(), peaks: null };
    try {
      await this.attach(playback, position);
    } catch (error) {
      toast(error.message, "error");
      return;
    }
    const { elements } = this;
    elements["player-title"].textContent = track.title;
    elements["player-title"].setAttribute("href", pageOf("track", track.id));
    elements["player-title"].title = track.title;
    elements["player-artist"].textContent = artistNames(track.artists);
    elements["player-artist"].title = artistNames(track.artists);
    elements["player-cover"].hidden = !track.cover;
    if (track.cover) elements["player-cover"].src = coverSource(track.cover, track.coverThumbnails, 48);
    document.title = `${track.title} · Musikk`;
    this.loadPeaks(detail);
    this.renderQueue();
    this.markPlaying();
    if (autoplay) {
      try {
        await this.audio.play();
      } catch {
        toast("Press play to start listening.");
      }
    }
  }

  async loadPeaks(detail) {
    const current = this.current;
    this.drawWaveform();
    if (!detail.waveform?.json) return;
    try {
      const response = await fetch(detail.waveform.json);
      if (!response.ok) return;
      const peaks = await response.json();
      if (this.current === current) {
        current.peaks = peaks;
        this.drawWaveform();
      }
    } catch {
      // no waveform: the bar still seeks
    }
  }

  /** Draws the published peaks (min/max pairs), the played part in the accent colour. */
  drawWaveform() {
    const canvas = this.elements.waveform;
    const width = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
    const height = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, width, height);
    const styles = getComputedStyle(document.documentElement);
    const played = this.audio.duration > 0 ? this.audio.currentTime / this.audio.duration : 0;
    const data = this.current?.peaks?.data;
    const range = this.current?.peaks?.bits === 16 ? 32768 : 128;
    const bars = Math.max(1, Math.floor(width / (3 * devicePixelRatio)));
    for (let bar = 0; bar < bars; bar++) {
      let level = 0.08;
      if (data && data.length >= 2) {
        const pairs = data.length / 2;
        const from = Math.floor((bar / bars) * pairs);
        const to = Math.max(from + 1, Math.floor(((bar + 1) / bars) * pairs));
        for (let pair = from; pair < to && pair < pairs; pair++) {
          level = Math.max(level, Math.abs(data[2 * pair]) / range, Math.abs(data[2 * pair + 1]) / range);
        }
      }
      const x = (bar / bars) * width;
      const barHeight = Math.max(2, level * height);
      context.fillStyle = bar / bars < played ? styles.getPropertyValue("--accent") : styles.getPropertyValue("--wave");
      context.fillRect(x, (height - barHeight) / 2, Math.max(1, width / bars - devicePixelRatio), barHeight);
    }
  }

  /** Marks the rows of the track playing now, in whatever lists the page shows. */
  markPlaying() {
    for (const row of document.querySelectorAll(".track-row[data-track-id]")) {
      const playing = row.dataset.trackId === this.current?.id;
      row.classList.toggle("playing", playing);
      if (playing) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    }
  }

  progress() {
    const { audio, elements } = this;
    elements["current-time"].textContent = formatTime(audio.currentTime);
    elements.duration.textContent = formatTime(audio.duration);
    const canvas = elements.waveform;
    canvas.setAttribute("aria-valuemax", String(Math.round(audio.duration || 0)));
    canvas.setAttribute("aria-valuenow", String(Math.round(audio.currentTime)));
    canvas.setAttribute("aria-valuetext", `${formatTime(audio.currentTime)} of ${formatTime(audio.duration)}`);
    this.drawWaveform();
    if (!audio.paused && audio.currentTime - this.lastReport >= REPORT_EVERY_SECONDS) this.report("playing");
  }

  stateChanged() {
    const playing = !this.audio.paused;
    const button = this.elements["play-button"];
    button.setAttribute("aria-label", playing ? "Pause" : "Play");
    document.body.classList.toggle("playing", playing);
    if (this.current) this.report(playing ? "playing" : "paused");
  }

  /** Tells the server how far this playback got (listens count after 30 s; friends see what is playing). */
  report(state) {
    if (!this.current || !session.current) return;
    this.lastReport = this.audio.currentTime;
    api("POST", "/api/listens", {
      sessionId: this.current.sessionId, trackId: this.current.id, positionSeconds: this.audio.currentTime || 0, state,
    }).catch(() => { /* a missed report only delays a listen */ });
  }
}

/** The one player of the page. */
export const player = new Player();
