// Plays an encrypted (CMAF cbcs) single-file rendition through Media Source Extensions and EME ClearKey: the
// browser's native HLS cannot decrypt it. The file's `sidx` gives each fragment's byte range; fragments are
// fetched a little ahead of the playhead, and from wherever the listener seeks. The key comes from musikk-server's
// licence endpoint, which answers only a signed-in listener.

const KEY_SYSTEM = "org.w3.clearkey";
/** Seconds of audio kept buffered ahead of the playhead. */
const AHEAD_SECONDS = 30;
/** Bytes read first: the init segment (ftyp, moov) and the sidx of any track fit. */
const HEAD_BYTES = 64 * 1024;
/** A fragment that takes longer than this to arrive fails the fetch (the next timeupdate tries again). */
const FETCH_TIMEOUT_MS = 30_000;

/** An error the player shows as it is. */
export class ProtectedPlaybackError extends Error {}

/** Big-endian reads over a byte array. */
function reader(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    u32: (at) => view.getUint32(at),
    u64: (at) => view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4),
    type: (at) => String.fromCharCode(...bytes.subarray(at, at + 4)),
  };
}

/**
 * The top-level boxes of `bytes` (from the file's start) up to and including the `sidx`: where the init segment
 * ends, and each fragment's offset, size, start and duration in seconds. Null when `bytes` ends before the sidx.
 */
export function parseIndex(bytes) {
  const read = reader(bytes);
  let at = 0;
  let initEnd = 0;
  while (at + 8 <= bytes.length) {
    const size = read.u32(at);
    const type = read.type(at + 4);
    if (size < 8) throw new ProtectedPlaybackError("This track's file is damaged (a box has no size).");
    if (type === "moov") initEnd = at + size;
    if (type === "sidx") {
      if (at + size > bytes.length) return null;
      const version = bytes[at + 8];
      let field = at + 12 + 4;
      const timescale = read.u32(field);
      field += 4;
      const earliest = version === 0 ? read.u32(field) : read.u64(field);
      const firstOffset = version === 0 ? read.u32(field + 4) : read.u64(field + 8);
      field += version === 0 ? 8 : 16;
      const count = (bytes[field + 2] << 8) | bytes[field + 3];
      field += 4;
      let offset = at + size + firstOffset;
      let time = earliest;
      const fragments = [];
      for (let index = 0; index < count; index += 1) {
        const referenceSize = read.u32(field) & 0x7fffffff;
        const duration = read.u32(field + 4);
        fragments.push({ offset, size: referenceSize, start: time / timescale, duration: duration / timescale });
        offset += referenceSize;
        time += duration;
        field += 12;
      }
      return { initEnd, fragments };
    }
    at += size;
  }
  return null;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hexBytes(hex) {
  return new Uint8Array(hex.match(/../g).map((pair) => parseInt(pair, 16)));
}

async function fetchRange(url, start, end) {
  const response = await fetch(url, { headers: { Range: `bytes=${start}-${end}` }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new ProtectedPlaybackError(response.status === 403 ? "The link to this track expired. Press play again." : "This track could not be loaded.");
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Plays `source` ({ url, mimeType, kid }) in `audio` from `position` seconds. `requestLicense(body)` sends the EME
 * licence request (a JSON object) and resolves with the licence object. Resolves once the key is in place and the
 * fragments at the position are buffered; returns a `stop()` that detaches the player.
 */
export async function playProtected(audio, source, requestLicense, position = 0) {
  if (!window.MediaSource || !navigator.requestMediaKeySystemAccess || !MediaSource.isTypeSupported(source.mimeType)) {
    throw new ProtectedPlaybackError("This browser cannot play protected tracks. Try a current Chrome, Edge or Firefox.");
  }
  let access;
  try {
    access = await navigator.requestMediaKeySystemAccess(KEY_SYSTEM, [{
      initDataTypes: ["keyids", "cenc"], audioCapabilities: [{ contentType: source.mimeType }],
    }]);
  } catch {
    throw new ProtectedPlaybackError("This browser cannot decrypt protected tracks.");
  }
  const mediaKeys = await access.createMediaKeys();
  await audio.setMediaKeys(mediaKeys);
  const session = mediaKeys.createSession("temporary");
  const licensed = new Promise((resolve, reject) => {
    session.addEventListener("message", async (event) => {
      try {
        const request = JSON.parse(new TextDecoder().decode(event.message));
        const license = await requestLicense(request);
        await session.update(new TextEncoder().encode(JSON.stringify(license)));
        resolve();
      } catch (error) {
        reject(error instanceof Error ? error : new ProtectedPlaybackError("The key for this track was refused."));
      }
    });
  });
  await session.generateRequest("keyids", new TextEncoder().encode(JSON.stringify({ kids: [base64url(hexBytes(source.kid))] })));
  await licensed;

  let head = await fetchRange(source.url, 0, HEAD_BYTES - 1);
  let index = parseIndex(head);
  if (!index) {
    head = await fetchRange(source.url, 0, 16 * HEAD_BYTES - 1);
    index = parseIndex(head);
  }
  if (!index || index.initEnd === 0) throw new ProtectedPlaybackError("This track's file has no index; it cannot be streamed.");

  const mediaSource = new MediaSource();
  const objectURL = URL.createObjectURL(mediaSource);
  audio.src = objectURL;
  await new Promise((resolve) => mediaSource.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = mediaSource.addSourceBuffer(source.mimeType);
  const last = index.fragments.at(-1);
  mediaSource.duration = last ? last.start + last.duration : 0;
  const appended = new Set();
  let stopped = false;
  let pumping = false;
  let again = false;

  const append = (bytes) => new Promise((resolve, reject) => {
    buffer.addEventListener("updateend", resolve, { once: true });
    buffer.addEventListener("error", () => reject(new ProtectedPlaybackError("This track could not be decoded.")), { once: true });
    buffer.appendBuffer(bytes);
  });

  /**
   * Appends the fragments from the playhead to AHEAD_SECONDS past it that are not buffered yet. A call while one
   * runs (a seek, say) makes that one look again at the playhead when it is done, so no seek is lost.
   */
  const pump = async () => {
    if (stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        const now = audio.currentTime;
        for (const [number, fragment] of index.fragments.entries()) {
          if (stopped || again || fragment.start > now + AHEAD_SECONDS) break;
          if (fragment.start + fragment.duration < now || appended.has(number)) continue;
          const bytes = await fetchRange(source.url, fragment.offset, fragment.offset + fragment.size - 1);
          if (stopped) break;
          await append(bytes);
          appended.add(number);
        }
      } while (again && !stopped);
      if (!stopped && appended.size === index.fragments.length && mediaSource.readyState === "open") mediaSource.endOfStream();
    } finally {
      pumping = false;
    }
  };
  const onProgress = () => { pump().catch(() => {}); };
  const events = ["timeupdate", "seeking", "waiting"];

  await append(head.subarray(0, index.initEnd));
  if (position > 0) audio.currentTime = position;
  await pump();
  for (const name of events) audio.addEventListener(name, onProgress);
  return {
    stop() {
      stopped = true;
      for (const name of events) audio.removeEventListener(name, onProgress);
      session.close().catch(() => {});
      URL.revokeObjectURL(objectURL);
    },
  };
}
