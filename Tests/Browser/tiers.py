#!/usr/bin/env python3
"""The lossless and protected tiers in headless Chromium, against a live musikk-server over a publication with a
clear track and a protected one (both with the lossless rung), and a second server over the same publication with
the wrong key file. Two listeners (desktop and phone width), a visitor, and the network going down:

- clear track: plays through native HLS (or the AAC file), then through the lossless tier when "Lossless" is
  pressed; the FLAC file also plays progressive and through MSE with audio/mp4; codecs="flac";
- protected track: plays through the MSE + EME ClearKey player, lossy and lossless, for both listeners;
- a visitor (no sign-in) is refused the key and hears nothing; the server with the wrong key file hands out keys
  that do not decrypt, and the player does not play;
- with the network down, pressing play on the protected track shows an error and nothing breaks;
- no console error or CSP violation anywhere, and axe-core passes on the track page with the tier button.
Prints "all tier checks passed" at the end.
"""
import argparse, os, sys, time

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from web_app import assert_clean_console, audio, audit, browser, call, click_on, find, settled, sign_up, wait  # noqa: E402


def play_track(driver, base, track_id):
    driver.get(f"{base}/tracks/{track_id}")
    settled(driver)
    click_on(driver, "#play-track", "the track page's play button")


def advances(driver, what, beyond=1.0):
    wait(driver, lambda d: audio(d, "a.currentTime") > beyond and not audio(d, "a.paused"), f"{what}: currentTime passes {beyond} s")


def source(driver):
    return audio(driver, "a.dataset.source")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--wrong-key-base", required=True)
    parser.add_argument("--clear-track", required=True)
    parser.add_argument("--protected-track", required=True)
    arguments = parser.parse_args()
    base, clear, protected = arguments.base, arguments.clear_track, arguments.protected_track
    # At most two browsers at once: each is closed when its part is done (the suite runs beside others).
    desktop, phone = browser(1280, 860), browser(390, 844)
    drivers = [desktop, phone]
    try:
        # Listener one, desktop: the clear track, lossy then lossless.
        sign_up(desktop, base, "Tier One", "tier-one@example.com")
        play_track(desktop, base, clear)
        advances(desktop, "clear track")
        assert source(desktop) in ("hls", "progressive"), source(desktop)
        button = find(desktop, "#lossless-button:not([hidden])", "the Lossless button on a track with the tier")
        audit(desktop, "track page with the Lossless button")
        click_on(desktop, "#lossless-button")
        native_hls = audio(desktop, "a.canPlayType('application/vnd.apple.mpegurl')") != ""
        wait(desktop, lambda d: source(d) == ("hls-lossless" if native_hls else "progressive-lossless"), "the player switched to the lossless tier")
        assert button.get_attribute("aria-pressed") == "true"
        advances(desktop, "clear track, lossless", beyond=audio(desktop, "a.currentTime") + 0.5)
        playback = call(desktop, "GET", f"/api/tracks/{clear}/playback")["body"]
        assert playback.get("hlsLossless") and playback.get("lossless") and not playback.get("protected"), playback
        # The FLAC file progressive, and through MSE.
        played = desktop.execute_async_script("""
            const [url, done] = arguments;
            const element = new Audio(url);
            element.muted = true;
            element.play().then(() => setTimeout(() => done(element.currentTime), 1500)).catch((e) => done(String(e)));""",
                                              playback["lossless"])
        assert isinstance(played, (int, float)) and played > 0.5, f"FLAC progressive: {played}"
        mse = desktop.execute_async_script("""
            const [url, done] = arguments;
            const type = 'audio/mp4; codecs="flac"';
            if (!MediaSource.isTypeSupported(type)) return done('unsupported');
            const element = new Audio();
            element.muted = true;
            const source = new MediaSource();
            element.src = URL.createObjectURL(source);
            source.addEventListener('sourceopen', async () => {
              const buffer = source.addSourceBuffer(type);
              const bytes = await (await fetch(url)).arrayBuffer();
              buffer.addEventListener('updateend', () => {
                source.endOfStream();
                element.play().then(() => setTimeout(() => done(element.currentTime), 1500)).catch((e) => done(String(e)));
              }, {once: true});
              buffer.appendBuffer(bytes);
            });""", playback["lossless"])
        assert isinstance(mse, (int, float)) and mse > 0.5, f"FLAC through MSE: {mse}"

        # The protected track through MSE + EME, lossless (still chosen) then lossy.
        play_track(desktop, base, protected)
        wait(desktop, lambda d: source(d) == "protected-lossless", "the protected track's lossless source")
        advances(desktop, "protected track, lossless")
        click_on(desktop, "#lossless-button")
        wait(desktop, lambda d: source(d) == "protected", "the protected track's lossy source")
        advances(desktop, "protected track, lossy", beyond=audio(desktop, "a.currentTime") + 0.5)
        assert_clean_console(desktop, "desktop journey")

        # Listener two, phone: the protected track.
        sign_up(phone, base, "Tier Two", "tier-two@example.com")
        play_track(phone, base, protected)
        wait(phone, lambda d: source(d) == "protected", "the phone plays the protected track's lossy source")
        advances(phone, "protected track on a phone")
        assert_clean_console(phone, "phone journey")

        # The network down: pressing play on the protected track again shows an error; the page keeps working.
        phone.execute_cdp_cmd("Network.enable", {})
        phone.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
        phone.execute_script("document.getElementById('audio').pause()")
        click_on(phone, "#play-track", "play, offline")
        find(phone, ".toast.error", "an error toast with the network down")
        phone.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        phone.get_log("browser")  # the failed fetches are expected here

        # A visitor: the module with a genuine media link, but no sign-in, so no key.
        source_info = call(desktop, "GET", f"/api/tracks/{protected}/playback")["body"]["protected"]["sources"][0]
        for driver in (desktop, phone):
            driver.quit()
        visitor = browser(1280, 860)
        drivers = [visitor]
        visitor.get(base + "/login")
        settled(visitor)
        outcome = visitor.execute_async_script("""
            const [source, done] = arguments;
            import('/app/protected-player.js').then(async ({ playProtected }) => {
              const element = document.getElementById('audio');
              try {
                await playProtected(element, source, async (request) => {
                  const response = await fetch('/api/drm/clearkey', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(request)});
                  if (!response.ok) throw new Error('licence refused: ' + response.status);
                  return response.json();
                });
                await element.play();
                setTimeout(() => done('played ' + element.currentTime), 2000);
              } catch (error) {
                done('refused: ' + error.message + ' at ' + element.currentTime);
              }
            });""", source_info)
        assert outcome.startswith("refused: licence refused: 401"), outcome
        visitor.get_log("browser")  # the 401 is the point

        # The wrong key: a server with another key file licenses keys that do not decrypt this publication.
        visitor.quit()
        wrong = browser(1280, 860)
        drivers = [wrong]
        sign_up(wrong, arguments.wrong_key_base, "Wrong Key", "wrong-key@example.com")
        play_track(wrong, arguments.wrong_key_base, protected)
        time.sleep(4)
        state = wrong.execute_script("const a = document.getElementById('audio'); return {time: a.currentTime, error: a.error && a.error.code};")
        assert state["error"] is not None or state["time"] < 0.5, f"a wrong key played: {state}"
        print(f"native HLS: {native_hls}; visitor: {outcome}; wrong key: {state}")
        print("all tier checks passed")
    finally:
        for driver in drivers:
            try:
                driver.quit()
            except Exception:
                pass


if __name__ == "__main__":
    main()
