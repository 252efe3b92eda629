#!/usr/bin/env python3
"""Drives musikk-server's web app in headless Chromium (Selenium + chromedriver): two browsers signed in as the
same listener (a desktop and a phone-sized one) sign up, search and play, seek on the waveform, see each other's
comments and queue changes live, post in a forum with an embedded track that plays, and see a friendly message
when the network fails. Saves screenshots of the main pages at both widths.
Usage: web_app.py --base http://127.0.0.1:PORT --track-title TITLE --screenshots DIR
Exit status 0 when every check held; otherwise the failed check is printed."""
import argparse, os, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                     f"--window-size={width},{height}", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    return driver


def wait(driver, condition, what, seconds=WAIT):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: condition(d))
    except Exception:
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
        raise AssertionError(f"{what} (url {driver.current_url}; browser console: {errors[-5:]})")


def assert_clean_console(driver, where):
    """No console error and no Content Security Policy violation (Chromium reports them as errors) since the last look,
    and no element id used twice on the page (a comment shown twice shares its id)."""
    errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors on {where}: {errors[:5]}"
    repeated = driver.execute_script("const ids = [...document.querySelectorAll('[id]')].map((e) => e.id); "
                                     "return [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];")
    assert not repeated, f"ids used twice on {where}: {repeated}"


def find(driver, selector, what=None):
    return wait(driver, lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, selector)), None), what or f"no {selector}")


def click(driver, element):
    """Clicks like a person would: after scrolling the element to the middle of the screen, clear of the player bar."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    return element


def audio(driver, expression):
    return driver.execute_script(f"const a = document.getElementById('audio'); return {expression};")


def shot(driver, directory, name):
    time.sleep(0.6)  # let covers and the waveform paint
    driver.save_screenshot(os.path.join(directory, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--track-title", required=True)
    parser.add_argument("--screenshots", required=True)
    arguments = parser.parse_args()
    base, title, shots = arguments.base, arguments.track_title, arguments.screenshots
    os.makedirs(shots, exist_ok=True)
    desktop, phone = browser(1280, 860), browser(390, 844)
    try:
        # Sign up on the desktop; log in as the same listener on the phone.
        desktop.get(base + "/signup")
        find(desktop, "input[name=displayName]").send_keys("Ann Listener")
        find(desktop, "input[name=email]").send_keys("ann@example.org")
        find(desktop, "input[name=password]").send_keys("a long enough password")
        click(desktop, find(desktop, "form button[type=submit]"))
        find(desktop, ".grid .card", "home page with releases after sign-up")
        check = "signed-in class on body"
        assert "signed-in" in desktop.find_element(By.TAG_NAME, "body").get_attribute("class"), check
        shot(desktop, shots, "home-desktop.png")
        assert_clean_console(desktop, "the home page (desktop)")

        phone.get(base + "/login")
        find(phone, "input[name=email]").send_keys("ann@example.org")
        find(phone, "input[name=password]").send_keys("a long enough password")
        click(phone, find(phone, "form button[type=submit]"))
        find(phone, ".grid .card", "home page on the phone after log-in")
        shot(phone, shots, "home-phone.png")
        assert_clean_console(phone, "the home page (phone)")

        # Search as you type, open the track, play it: currentTime advances.
        search = find(desktop, "#search-input")
        search.send_keys(title)
        hit = find(desktop, f"a.search-hit[data-kind=track]", "a track in the search-as-you-type results")
        shot(desktop, shots, "search-desktop.png")
        click(desktop, hit)
        click(desktop, find(desktop, "#play-track", "the track page's play button"))
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0.3, "currentTime did not advance after pressing play")
        first = audio(desktop, "a.currentTime")
        time.sleep(0.8)
        assert audio(desktop, "a.currentTime") > first or audio(desktop, "a.ended"), "playback stalled"
        source = audio(desktop, "a.dataset.source")
        hls = audio(desktop, "a.canPlayType('application/vnd.apple.mpegurl')")
        print(f"desktop plays the {source} rendition (canPlayType for HLS: {hls!r})")

        # Seek with the waveform: a click at 75 % of its width.
        desktop.execute_script("document.getElementById('audio').pause()")
        wait(desktop, lambda d: audio(d, "Number.isFinite(a.duration) && a.duration > 0"), "no duration")
        duration = audio(desktop, "a.duration")
        canvas = find(desktop, "#waveform")
        wait(desktop, lambda d: d.execute_script("return document.getElementById('waveform').clientWidth") > 50, "waveform not laid out")
        webdriver.ActionChains(desktop).move_to_element_with_offset(canvas, int(canvas.size["width"] * 0.25), 0).click().perform()
        wait(desktop, lambda d: abs(audio(d, "a.currentTime") - 0.75 * duration) < max(0.6, duration * 0.03),
             f"seeking to 75% of {duration:.1f} s via the waveform")
        print(f"seeked to {audio(desktop, 'a.currentTime'):.2f} s of {duration:.2f} s")

        # A comment posted on the desktop appears on the phone without a reload.
        track_url = desktop.current_url
        phone.get(track_url)
        find(phone, ".comments-section textarea", "comment form on the phone")
        phone.execute_script("window.stillTheSamePage = true")
        time.sleep(1)  # the phone's event stream watches the track
        box = find(desktop, ".comments-section textarea")
        box.send_keys("This loop is lovely")
        click(desktop, find(desktop, ".comments-section form button[type=submit]"))
        wait(phone, lambda d: "This loop is lovely" in d.find_element(By.CSS_SELECTOR, ".comments").text, "the comment did not appear live on the phone")
        assert phone.execute_script("return window.stillTheSamePage === true"), "the phone reloaded the page"
        # … and a reply from the phone appears on the desktop.
        click(phone, find(phone, ".comment .comment-actions button"))
        find(phone, ".comment form textarea").send_keys("Agreed, from my phone")
        click(phone, find(phone, ".comment form button[type=submit]"))
        wait(desktop, lambda d: "Agreed, from my phone" in d.find_element(By.CSS_SELECTOR, ".comments").text, "the reply did not appear live on the desktop")
        shot(desktop, shots, "track-desktop.png")
        shot(phone, shots, "track-phone.png")
        assert_clean_console(desktop, "the track page (desktop)")
        assert_clean_console(phone, "the track page (phone)")

        # The queue follows the listener: added on the desktop, seen on the phone; removed on the phone, gone on the desktop.
        click(phone, phone.find_element(By.ID, "queue-toggle"))
        click(desktop, find(desktop, "#queue-toggle"))
        before = len(desktop.find_elements(By.CSS_SELECTOR, "#queue-list li"))
        click(desktop, find(desktop, ".hero .actions button:nth-child(2)", "add to queue"))
        wait(desktop, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue-list li")) == before + 1, "the desktop's queue did not grow")
        wait(phone, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue-list li")) == before + 1, "the phone did not see the queue change")
        shot(phone, shots, "queue-phone.png")
        click(phone, phone.find_elements(By.CSS_SELECTOR, "#queue-list li")[-1].find_element(By.CSS_SELECTOR, "button[aria-label^=Remove]"))
        wait(desktop, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue-list li")) == before, "the desktop did not see the phone's removal")
        shot(desktop, shots, "queue-desktop.png")

        # A forum thread whose first post embeds the track; its play button plays it.
        desktop.get(base + "/forums")
        find(desktop, "input[name=name]").send_keys("Loops we love")
        find(desktop, "input[name=description]").send_keys("Share the loops that stay in your head")
        click(desktop, find(desktop, "form button[type=submit]"))
        find(desktop, "input[name=title]", "the new forum's thread form").send_keys("Favourite loop")
        find(desktop, "textarea[name=body]").send_keys("Listen to this one")
        find(desktop, ".picker input").send_keys(title)
        click(desktop, find(desktop, ".picker-results button", "the embed picker's results"))
        find(desktop, ".chip", "the chosen embed")
        click(desktop, find(desktop, "form button[type=submit]"))
        embed = find(desktop, ".embed[data-kind=track]", "the embedded track in the thread")
        desktop.execute_script("const a = document.getElementById('audio'); a.pause(); a.removeAttribute('src'); a.load();")
        click(desktop, embed.find_element(By.CSS_SELECTOR, ".embed-play"))
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0.3, "the embedded track did not play")
        shot(desktop, shots, "forum-thread-desktop.png")
        assert_clean_console(desktop, "the forum pages")

        # The owner of a playlist with a track opens it: header, the track, and editing (issue 17: a script error
        # left the owner with a toast and nothing else).
        desktop.get(base + "/playlists")
        find(desktop, "input[name=name]").send_keys("Mix for Ann")
        click(desktop, find(desktop, "form button[type=submit]"))
        wait(desktop, lambda d: "/playlists/" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".hero-text h1"), "the new playlist's page")
        playlist_url = desktop.current_url
        desktop.get(track_url)
        picker = find(desktop, "select[aria-label='Add to a playlist']")
        wait(desktop, lambda d: len(picker.find_elements(By.TAG_NAME, "option")) > 1, "the playlist in the track page's picker")
        Select(picker).select_by_visible_text("Mix for Ann")
        wait(desktop, lambda d: any("Added to the playlist" in e.text for e in d.find_elements(By.CSS_SELECTOR, ".toast")), "no confirmation of the added track")
        desktop.get(playlist_url)
        wait(desktop, lambda d: d.find_elements(By.CSS_SELECTOR, ".track-list .track-row"), "the owner does not see the playlist's track")
        assert find(desktop, ".hero-text h1").text == "Mix for Ann", "the owner does not see the playlist's name"
        find(desktop, "details.edit summary", "the owner's edit controls")
        find(desktop, "button[aria-label^='Move']", "the owner's reorder controls")
        toasts = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, ".toast") if e.text.strip()]
        assert not toasts, f"the owner's playlist page showed {toasts}"
        # A like is remembered on the next visit, and liking is not counted twice.
        click(desktop, find(desktop, ".hero-text button.like"))
        wait(desktop, lambda d: d.find_element(By.CSS_SELECTOR, ".hero-text button.like").get_attribute("aria-pressed") == "true", "the like did not take")
        desktop.get(playlist_url)
        like = find(desktop, ".hero-text button.like")
        wait(desktop, lambda d: like.get_attribute("aria-pressed") == "true" and "1" in like.text, f"the like was forgotten on revisit: {like.text!r}")
        assert_clean_console(desktop, "the owner's playlist page")
        shot(desktop, shots, "playlist-owner-desktop.png")

        # Another listener's profile: the follower count is singular when it is one, and follows the Follow button.
        bob = desktop.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('/api/auth/signup', {method: 'POST', headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({email: 'bob@example.org', password: 'another long password', displayName: 'Bob Visitor'})})
              .then((r) => r.json()).then((tokens) => done(tokens.userId));""")
        desktop.get(f"{base}/users/{bob}")
        counter = wait(desktop, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, ".hero .actions button") if "follower" in b.text), None),
                       "the follower count")
        assert counter.text == "0 followers", counter.text
        click(desktop, find(desktop, ".hero .actions button.primary", "the Follow button"))
        wait(desktop, lambda d: counter.text == "1 follower", f"the follower count after Follow: {counter.text!r}")
        assert_clean_console(desktop, "another listener's profile")

        # Profile page and notifications (the phone sees its own profile).
        phone.get(base + "/me")
        find(phone, "select[name=nowPlayingVisibility]")
        shot(phone, shots, "profile-phone.png")
        assert_clean_console(phone, "the profile page (phone)")

        # The network fails: the page stays and says so in plain words.
        desktop.get(base + "/playlists")
        click(desktop, find(desktop, "a[href='" + playlist_url.replace(base, "") + "']", "the playlist in the list"))
        wait(desktop, lambda d: d.find_elements(By.CSS_SELECTOR, ".track-list .track-row"), "the playlist page, reached by a link")
        desktop.execute_script("history.back()")
        find(desktop, "input[name=name]", "the playlists page again")
        desktop.execute_cdp_cmd("Network.enable", {})
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        find(desktop, "input[name=name]").send_keys("Road trip")
        click(desktop, find(desktop, "form button[type=submit]"))
        message = wait(desktop, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, ".form-error, .toast") if e.text.strip()), None),
                       "no message when the network failed")
        assert "reach Musikk" in message, f"unfriendly failure message: {message!r}"
        assert "Your playlists" in desktop.find_element(By.TAG_NAME, "h1").text, "the page did not stay rendered"
        # Pages seen before, reached again while offline, say that Musikk can't be reached: never "not found", never
        # an empty list; and the same failure makes one toast, not a stack.
        for move, where in [("history.forward()", "the playlist"), ("history.back()", "the playlists list")]:
            desktop.execute_script(move)
            heading = wait(desktop, lambda d: "reach Musikk" in d.find_element(By.TAG_NAME, "h1").text and d.find_element(By.TAG_NAME, "h1").text,
                           f"going to {where} offline did not say Musikk can't be reached")
            body = desktop.find_element(By.ID, "main").text
            assert "not found" not in body.lower() and "No playlists yet" not in body, f"offline {where} read as absent: {body!r}"
        toasts = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, ".toast") if "reach Musikk" in e.text]
        assert len(toasts) <= 1, f"{len(toasts)} identical toasts"
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        shot(desktop, shots, "network-failure-desktop.png")
        print("all browser checks passed")
    finally:
        desktop.quit()
        phone.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"FAILED: {failure}")
        sys.exit(1)
