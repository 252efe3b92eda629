#!/usr/bin/env python3
"""Drives musikk-server's web app in headless Chromium (Selenium + chromedriver) as two different listeners: Ann on a
desktop (1280 px) and Bob on a phone (390 px), plus Ann's own phone for the queue she shares between her devices.
They search, play, seek, comment and reply live to each other, follow, share a playlist that its owner edits and
reorders (with the mouse and the keyboard), post in a forum, and see the network fail. Every page is checked at
both widths and in both colour schemes by axe-core (axe-selenium-python; no serious or critical violation), and
for console errors, CSP violations and ids used twice. Saves screenshots of the main pages at both widths in both
themes.
Usage: web_app.py --base http://127.0.0.1:PORT --track-title TITLE --screenshots DIR
Exit status 0 when every check held; otherwise the failed check is printed."""
import argparse, json, os, sys, time, urllib.parse, urllib.request
from selenium.common.exceptions import StaleElementReferenceException
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

# axe-selenium-python (PyPI) is installed by scripts/setup into a folder of its own.
sys.path.insert(0, os.environ.get("MUSIKK_PYTHON_PACKAGES", os.path.expanduser("~/.cache/musikk/python")))
from axe_selenium_python import Axe  # noqa: E402

WAIT = 20
PASSWORD = "a long enough password"


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                     f"--window-size={width},{height}", "--disable-dev-shm-usage"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    scheme(driver, "dark")
    return driver


def scheme(driver, name):
    """Makes the page see `prefers-color-scheme: name`, as a system set to that theme would."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": name}]})


def wait(driver, condition, what, seconds=WAIT):
    try:
        # A live update may redraw what the condition looks at between two WebDriver calls: look again.
        return WebDriverWait(driver, seconds, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition(d))
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


def audit(driver, where):
    """The page as axe-core judges it, in the dark and the light scheme: no serious or critical violation. Then the
    console check."""
    axe = Axe(driver)
    axe.inject()
    for name in ("dark", "light"):
        scheme(driver, name)
        time.sleep(0.15)
        results = axe.run()
        bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
               for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"axe-core on {where} ({name} theme): {bad}"
    scheme(driver, "dark")
    assert_clean_console(driver, where)


def luminance(css):
    """WCAG 2 relative luminance of a computed CSS colour, 'rgb(r, g, b)' or '#rrggbb'."""
    css = css.strip()
    if css.startswith("#"):
        channels = [int(css[i:i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [float(part) for part in css[css.index("(") + 1:css.index(")")].replace("/", ",").split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in channels)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first, second):
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_colours(driver):
    """What axe-core does not judge: non-text contrast (WCAG 1.4.11, 3:1) of the waveform's unplayed bars and of
    input borders, and the unread badge's text (4.5:1), in both themes."""
    for theme in ("dark", "light"):
        scheme(driver, theme)
        time.sleep(0.15)
        colours = driver.execute_script("""
            const root = getComputedStyle(document.documentElement), css = (selector, property) => getComputedStyle(document.querySelector(selector))[property];
            return {wave: root.getPropertyValue('--wave'), player: css('.player', 'backgroundColor'), page: css('body', 'backgroundColor'),
                    border: css('#search-input', 'borderTopColor'), field: css('#search-input', 'backgroundColor'),
                    badge: css('#unread-badge', 'backgroundColor'), badgeText: css('#unread-badge', 'color')};""")
        for what, first, second, least in [("unplayed waveform bars", "wave", "player", 3), ("input borders on the page", "border", "page", 3),
                                           ("input borders on the field", "border", "field", 3), ("the unread badge", "badgeText", "badge", 4.5)]:
            ratio = contrast(colours[first], colours[second])
            assert ratio >= least, f"{what} in the {theme} theme: {ratio:.2f}:1 ({colours[first]} on {colours[second]}), below {least}:1"
    scheme(driver, "dark")


def settled(driver):
    """The page rendered: its heading is there and nothing is loading."""
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#main h1") and not d.find_element(By.ID, "main").get_attribute("aria-busy"),
         "the page did not finish rendering")


def find(driver, selector, what=None):
    return wait(driver, lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, selector)), None), what or f"no {selector}")


def click(driver, element):
    """Clicks like a person would: after scrolling the element to the middle of the screen, clear of the player bar."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    return element


def click_on(driver, selector, what=None):
    """Finds and clicks, finding again if a live update redrew the element in between."""
    for _ in range(5):
        element = find(driver, selector, what)
        try:
            return click(driver, element)
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{what or selector} kept being redrawn before it could be clicked")


def audio(driver, expression):
    return driver.execute_script(f"const a = document.getElementById('audio'); return {expression};")


def toast_with(driver, text, what):
    return wait(driver, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, ".toast") if text in e.text), None), what)


def call(driver, method, path, body=None):
    """The JSON API as the signed-in page calls it (for setting up data the journey then looks at)."""
    return driver.execute_async_script("""
        const [method, path, body, done] = arguments;
        const token = JSON.parse(localStorage.getItem('musikk.session')).accessToken;
        fetch(path, {method, headers: {'Content-Type': 'application/json', Authorization: 'Bearer ' + token},
          body: body === null ? undefined : JSON.stringify(body)})
          .then(async (r) => done({status: r.status, body: r.status === 204 ? null : await r.json()}));""", method, path, body)


def subsonic(base, key, method, pairs=()):
    """A Subsonic API call, as a listener's own app makes it (an API key, a form POST), answered in JSON."""
    data = urllib.parse.urlencode([("apiKey", key), ("f", "json"), ("c", "Phone app"), ("v", "1.16.1")] + list(pairs)).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/rest/{method}.view", data=data), timeout=WAIT) as response:
        answer = json.load(response)["subsonic-response"]
    assert answer["status"] == "ok", f"{method}: {answer}"
    return answer


def me(driver):
    return driver.execute_script("return JSON.parse(localStorage.getItem('musikk.session')).userId")


class Shots:
    """Screenshots of a page at the driver's width in both themes: NAME-WIDTH-dark.png and NAME-WIDTH-light.png."""
    def __init__(self, directory):
        self.directory = directory

    def __call__(self, driver, name):
        width = driver.execute_script("window.scrollTo(0, 0); return window.innerWidth")
        for theme in ("dark", "light"):
            scheme(driver, theme)
            time.sleep(0.6)  # let covers and the waveform paint
            driver.save_screenshot(os.path.join(self.directory, f"{name}-{'phone' if width < 500 else 'desktop'}-{theme}.png"))
        scheme(driver, "dark")


def sign_up(driver, base, name, email):
    driver.get(base + "/signup")
    settled(driver)
    find(driver, "input[name=displayName]").send_keys(name)
    find(driver, "input[name=email]").send_keys(email)
    find(driver, "input[name=password]").send_keys(PASSWORD)
    click_on(driver, "form button[type=submit]")
    find(driver, ".grid .card", f"home page with releases after {name} signed up")


def log_in(driver, base, email):
    driver.get(base + "/login")
    find(driver, "input[name=email]").send_keys(email)
    find(driver, "input[name=password]").send_keys(PASSWORD)
    click_on(driver, "form button[type=submit]")
    find(driver, ".grid .card", "home page after log-in")


def drag(driver, list_selector, source, target):
    """Drags row `source` of a list onto row `target` with the HTML drag-and-drop events a mouse drag fires."""
    driver.execute_script("""
        const [selector, from, to] = arguments;
        const rows = document.querySelector(selector).children;
        const transfer = new DataTransfer();
        const fire = (element, type) => element.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        fire(rows[from], 'dragstart'); fire(rows[to], 'dragover'); fire(rows[to], 'drop'); fire(rows[from], 'dragend');""",
                          list_selector, source, target)


def queue_ids(driver):
    return driver.execute_script("return [...document.querySelectorAll('#queue-list li')].map((li) => li.dataset.trackId)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--track-title", required=True)
    parser.add_argument("--screenshots", required=True)
    arguments = parser.parse_args()
    base, title = arguments.base, arguments.track_title
    os.makedirs(arguments.screenshots, exist_ok=True)
    shots = Shots(arguments.screenshots)
    desktop, phone = browser(1280, 860), browser(390, 844)
    ann_phone = None
    bob_name = "Bob Visitor, whose name is much too long for one line"
    try:
        # Two listeners sign up: Ann on the desktop, Bob on his phone. The sign-up page passes axe on both.
        desktop.get(base + "/signup")
        settled(desktop)
        audit(desktop, "the sign-up page (desktop)")
        sign_up(desktop, base, "Ann Listener", "ann@example.org")
        assert "signed-in" in desktop.find_element(By.TAG_NAME, "body").get_attribute("class"), "signed-in class on body"
        phone.get(base + "/signup")
        settled(phone)
        audit(phone, "the sign-up page (phone)")
        sign_up(phone, base, bob_name, "bob@example.org")
        ann, bob = me(desktop), me(phone)
        find(desktop, "#added-heading", "the home page's Recently added")
        check_colours(desktop)
        # Release cards show the published thumbnails, not the full-size covers.
        covers = wait(desktop, lambda d: d.execute_script(
            "const images = [...document.querySelectorAll('.grid .card img.cover')]; "
            "return images.length && images.every((i) => i.complete && i.naturalWidth > 0) && images.map((i) => [i.getAttribute('src'), i.naturalWidth]);"),
            "the release cards' covers did not load")
        assert all("/cover-" in src.split("?")[0] and width <= 600 for src, width in covers), f"release cards do not use thumbnails: {covers}"
        shots(desktop, "home")
        shots(phone, "home")

        # On a phone, header, mini-player and tab bar leave most of the screen to the page.
        chrome = phone.execute_script("""
            const height = (selector) => document.querySelector(selector).getBoundingClientRect().height;
            return {header: height('.topbar'), player: height('.player'), tabs: height('.tabbar'), screen: innerHeight};""")
        assert chrome["tabs"] > 0, "no tab bar on the phone"
        share = (chrome["header"] + chrome["player"] + chrome["tabs"]) / chrome["screen"]
        assert share < 0.25, f"header, player and tab bar take {share:.0%} of the phone's screen: {chrome}"

        # Search as you type; ↓ walks the hits and stops at the last one, ↑ walks back into the box; the volume stays.
        volume = desktop.execute_script("return document.getElementById('volume').value")
        search = find(desktop, "#search-input")
        search.send_keys(title)
        find(desktop, "a.search-hit[data-kind=track]", "a track in the search-as-you-type results")
        hits = len(desktop.find_elements(By.CSS_SELECTOR, "a.search-hit"))
        search.send_keys(Keys.ARROW_DOWN)
        for _ in range(hits + 2):
            desktop.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
        last = desktop.execute_script("const links = [...document.querySelectorAll('#search-results a')]; return links.indexOf(document.activeElement) === links.length - 1")
        assert last, "↓ in the search results did not stop at the last hit"
        for _ in range(hits + 1):
            desktop.switch_to.active_element.send_keys(Keys.ARROW_UP)
        assert desktop.execute_script("return document.activeElement.id") == "search-input", "↑ from the first hit did not return to the search box"
        assert desktop.execute_script("return document.getElementById('volume').value") == volume, "arrow keys in the search changed the volume"
        click_on(desktop, "a.search-hit[data-kind=track]")
        find(desktop, "#play-track", "the track page's play button")
        assert find(desktop, "#search-input").get_attribute("value") == "", "the search text stayed in the box after navigating"

        # Play: currentTime advances. Seek with the waveform: a click at 75 % of its width.
        click_on(desktop, "#play-track")
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0.3, "currentTime did not advance after pressing play")
        first = audio(desktop, "a.currentTime")
        time.sleep(0.8)
        assert audio(desktop, "a.currentTime") > first or audio(desktop, "a.ended"), "playback stalled"
        print(f"desktop plays the {audio(desktop, 'a.dataset.source')} rendition")
        desktop.execute_script("document.getElementById('audio').pause()")
        wait(desktop, lambda d: audio(d, "Number.isFinite(a.duration) && a.duration > 0"), "no duration")
        duration = audio(desktop, "a.duration")
        canvas = find(desktop, "#waveform")
        webdriver.ActionChains(desktop).move_to_element_with_offset(canvas, int(canvas.size["width"] * 0.25), 0).click().perform()
        wait(desktop, lambda d: abs(audio(d, "a.currentTime") - 0.75 * duration) < max(0.6, duration * 0.03),
             f"seeking to 75% of {duration:.1f} s via the waveform")
        # The track's lyrics (an .lrc beside its master) follow playback: the line sung at 75 % is the marked one.
        lines = desktop.execute_script("return [...document.querySelectorAll('#main .lyrics li')].map((li) => [Number(li.dataset.start), li.textContent])")
        assert len(lines) == 4 and all(text.endswith(word) for (_, text), word in zip(lines, ["one", "two", "three", "four"])), f"the track page's lyrics: {lines}"
        sung = max((line for line in lines if line[0] <= 0.75 * duration * 1000), key=lambda line: line[0])
        wait(desktop, lambda d: d.execute_script("return document.querySelector('#main .lyrics li[aria-current=true]')?.textContent") == sung[1],
             f"the line sung at {0.75 * duration:.1f} s is not marked")
        click(desktop, desktop.find_elements(By.CSS_SELECTOR, "#main .lyrics li .lyrics-time")[1])
        wait(desktop, lambda d: abs(audio(d, "a.currentTime") - lines[1][0] / 1000) < 0.3, "a lyrics line's time did not seek there")

        # Keys: ↑/↓ on the page leave the volume alone (they scroll); Shift+↓ lowers it. M mutes; repeat cycles.
        track_url = desktop.current_url
        desktop.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_DOWN)
        assert desktop.execute_script("return document.getElementById('volume').value") == volume, "↓ on the page changed the volume"
        webdriver.ActionChains(desktop).key_down(Keys.SHIFT).send_keys(Keys.ARROW_DOWN).key_up(Keys.SHIFT).perform()
        lowered = float(desktop.execute_script("return document.getElementById('volume').value"))
        assert abs(lowered - (float(volume) - 0.05)) < 1e-6, f"Shift+↓ did not lower the volume: {volume} → {lowered}"
        click_on(desktop, "#mute-button")
        assert audio(desktop, "a.muted") and find(desktop, "#mute-button").get_attribute("aria-pressed") == "true", "mute did not mute"
        desktop.find_element(By.TAG_NAME, "body").send_keys("m")
        assert not audio(desktop, "a.muted"), "M did not unmute"
        labels = []
        for _ in range(3):
            click_on(desktop, "#repeat-button")
            labels.append(find(desktop, "#repeat-button").get_attribute("aria-label"))
        assert labels == ["Repeat: the whole queue", "Repeat: this track", "Repeat: off"], labels

        # The track's release: numbered tracks, its length, and the row of the track playing marked.
        playing_id = desktop.execute_script("return document.querySelector('#player-title').getAttribute('href').split('/').pop()")
        click_on(desktop, ".hero-text a[href^='/releases/']", "the link to the track's release")
        find(desktop, ".track-list .track-row", "the release's tracks")
        numbers = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, ".track-list .track-row .number")]
        assert numbers and numbers[0] == "1", f"the release's tracks are not numbered: {numbers}"
        length = find(desktop, "#release-length").text
        assert "track" in length and ("min" in length or " s" in length), f"no album length: {length!r}"
        marked = desktop.execute_script("return [...document.querySelectorAll('.track-row.playing')].map((row) => row.dataset.trackId)")
        assert marked == [playing_id], f"the playing track is not marked: {marked} (playing {playing_id})"
        release_url = desktop.current_url
        audit(desktop, "the release page (desktop)")
        shots(desktop, "release")

        # Ann comments on the track; Bob, on his phone, sees it live, and replies; Ann sees the reply live and is
        # told, naming the track.
        phone.get(track_url)
        find(phone, ".comments-section textarea", "comment form on the phone")
        phone.execute_script("window.stillTheSamePage = true")
        desktop.get(track_url)
        find(desktop, ".comments-section textarea")
        time.sleep(1)  # both event streams watch the track
        desktop.find_element(By.CSS_SELECTOR, ".comments-section textarea").send_keys("This loop is lovely")
        click_on(desktop, ".comments-section form button[type=submit]")
        wait(phone, lambda d: "This loop is lovely" in d.find_element(By.CSS_SELECTOR, ".comments").text, "Ann's comment did not appear live on Bob's phone")
        assert phone.execute_script("return window.stillTheSamePage === true"), "the phone reloaded the page"
        click_on(phone, ".comment .comment-actions button")
        find(phone, ".comment form textarea").send_keys("Agreed, from my phone")
        click_on(phone, ".comment form button[type=submit]")
        wait(desktop, lambda d: "Agreed, from my phone" in d.find_element(By.CSS_SELECTOR, ".comments").text, "Bob's reply did not appear live on the desktop")
        toast_with(desktop, f"replied to your comment on “{title}”", "the reply's notification does not name the track")
        author = find(phone, ".comment .replies .user")
        assert author.get_attribute("title") == bob_name, "a long name has no title with the whole of it"
        assert phone.execute_script("const e = arguments[0].querySelector('.truncate'); return e.scrollWidth > e.clientWidth", author), \
            "a long name is not cut with an ellipsis on the phone"
        audit(desktop, "the track page (desktop)")
        audit(phone, "the track page (phone)")

        # Bob follows Ann from her profile: '1 follower'. Ann's notifications name what they are about, and
        # opening the page reads them (the bell's count goes).
        phone.get(f"{base}/users/{ann}")
        counter = wait(phone, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, ".hero .actions button") if "follower" in b.text), None),
                       "the follower count")
        assert counter.text == "0 followers", counter.text
        click_on(phone, ".hero .actions button.primary", "the Follow button")
        wait(phone, lambda d: counter.text == "1 follower", f"the follower count after Follow: {counter.text!r}")
        wait(desktop, lambda d: d.find_element(By.ID, "unread-badge").is_displayed(), "no unread badge for Ann")
        desktop.get(base + "/notifications")
        settled(desktop)
        text = desktop.find_element(By.ID, "main").text
        assert f"replied to your comment on “{title}”" in text and "followed you" in text, f"notifications: {text!r}"
        wait(desktop, lambda d: not d.find_element(By.ID, "unread-badge").is_displayed(), "opening the notifications did not mark them read")
        audit(desktop, "the notifications page (desktop)")
        shots(desktop, "notifications")

        # Ann plays; Bob's home names the track she is listening to, and so does her profile.
        desktop.get(track_url)
        click_on(desktop, "#play-track")
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0.3, "Ann's second play did not start")
        phone.get(base + "/")
        wait(phone, lambda d: f"Ann Listener is listening to {title}" in " ".join(d.find_element(By.ID, "friends-listening").text.split()),
             "Bob's home does not name the track Ann is listening to")
        phone.get(f"{base}/users/{ann}")
        wait(phone, lambda d: title in "".join(e.text for e in d.find_elements(By.CSS_SELECTOR, ".now-listening")),
             "Ann's profile does not name the track she is listening to")
        desktop.execute_script("document.getElementById('audio').pause()")

        # A short track played to its end counts as a listen, and shows under Recently played.
        shortest = min(call(desktop, "GET", "/api/tracks?limit=50", None)["body"]["items"], key=lambda t: t["duration"])
        desktop.get(base + "/")
        click_on(desktop, f"#main .track-row[data-track-id='{shortest['id']}'] .play-small", "the shortest track on the home page")
        wait(desktop, lambda d: any(l["trackId"] == shortest["id"] for l in call(d, "GET", f"/api/users/{ann}/listens", None)["body"]["items"]),
             "playing a short track to its end counted no listen", seconds=30)
        desktop.execute_script("document.getElementById('audio').pause()")
        desktop.get(base + "/")
        wait(desktop, lambda d: shortest["title"] in d.find_element(By.CSS_SELECTOR, "section[aria-labelledby=played-heading]").text,
             "Recently played does not list the track played")

        # Ann's public playlist: she adds tracks; she, its owner, opens it (issue 17: a script error left the owner
        # with a toast and nothing else), reorders it by dragging and by keyboard. Bob sees it without the edit
        # controls, and his feed names the tracks she added.
        desktop.get(base + "/playlists")
        settled(desktop)
        audit(desktop, "the playlists page (desktop)")
        find(desktop, "input[name=name]").send_keys("Mix for Ann")
        Select(find(desktop, "select[name=visibility]")).select_by_value("public")
        click_on(desktop, "form button[type=submit]")
        wait(desktop, lambda d: "/playlists/" in d.current_url and d.find_elements(By.CSS_SELECTOR, ".hero-text h1"), "the new playlist's page")
        playlist_url = desktop.current_url
        playlist = playlist_url.rsplit("/", 1)[1]
        desktop.get(track_url)
        picker = find(desktop, "select[aria-label='Add to a playlist']")
        wait(desktop, lambda d: len(picker.find_elements(By.TAG_NAME, "option")) > 1, "the playlist in the track page's picker")
        Select(picker).select_by_visible_text("Mix for Ann")
        toast_with(desktop, "Added to the playlist", "no confirmation of the added track")
        others = [t for t in call(desktop, "GET", "/api/tracks?limit=10", None)["body"]["items"] if t["title"] != title][:2]
        for track in others:
            assert call(desktop, "POST", f"/api/playlists/{playlist}/tracks", {"trackId": track["id"]})["status"] == 200
        desktop.get(playlist_url)
        wait(desktop, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".track-list .track-row")) == 3, "the owner does not see the playlist's three tracks")
        assert find(desktop, ".hero-text h1").text == "Mix for Ann", "the owner does not see the playlist's name"
        find(desktop, "details.edit summary", "the owner's edit controls")
        toasts = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, ".toast") if e.text.strip() and "Added" not in e.text]
        assert not toasts, f"the owner's playlist page showed {toasts}"
        order = lambda: [e["trackId"] for e in call(desktop, "GET", f"/api/playlists/{playlist}", None)["body"]["entries"]]
        before = order()
        drag(desktop, ".track-list", 0, 2)
        wait(desktop, lambda d: order() == [before[1], before[2], before[0]], f"dragging the first track to the end did not reorder: {order()}")
        # Read in one script: a live update may redraw the rows between two WebDriver calls (a stale element).
        rows = lambda: desktop.execute_script("return [...document.querySelectorAll('.track-list .track-row')].map((row) => row.dataset.trackId)")
        try:
            wait(desktop, lambda d: rows()[2:3] == [before[0]], "the page did not follow the drag")
        except AssertionError as error:
            raise AssertionError(f"{error}: rows {rows()}, expected {before[0]} third of {before}") from None
        click_on(desktop, ".track-list .track-row button[aria-label^='Move'][aria-label$='down']")
        wait(desktop, lambda d: order() == [before[2], before[1], before[0]], f"the keyboard's Move down did not reorder: {order()}")
        # A like is remembered on the next visit, and liking is not counted twice.
        click_on(desktop, ".hero-text button.like")
        wait(desktop, lambda d: d.find_element(By.CSS_SELECTOR, ".hero-text button.like").get_attribute("aria-pressed") == "true", "the like did not take")
        desktop.get(playlist_url)
        like = lambda: find(desktop, ".hero-text button.like")
        wait(desktop, lambda d: like().get_attribute("aria-pressed") == "true" and "1" in like().text, f"the like was forgotten on revisit: {like().text!r}")
        audit(desktop, "the owner's playlist page")
        shots(desktop, "playlist-owner")
        phone.get(playlist_url)
        wait(phone, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".track-list .track-row")) == 3, "Bob does not see Ann's public playlist")
        assert not phone.find_elements(By.CSS_SELECTOR, "details.edit, .track-list li[draggable], button[aria-label^='Move']"), \
            "a visitor was offered the owner's controls"
        audit(phone, "a visitor's view of a playlist (phone)")
        phone.get(base + "/feed")
        settled(phone)
        feed = wait(phone, lambda d: "Mix for Ann" in d.find_element(By.ID, "main").text and d.find_element(By.ID, "main").text, "Bob's feed has no playlist entry")
        assert all(track["title"] in feed for track in others) and "to “Mix for Ann”" in feed, f"the feed does not name the added tracks: {feed!r}"
        assert phone.find_elements(By.CSS_SELECTOR, ".feed time[title]"), "feed times have no exact time on hover"
        audit(phone, "the feed (phone)")

        # A forum thread whose first post embeds the track: shown once, its play button plays it. Bob's post comes
        # after it, and the composer is at the bottom.
        desktop.get(base + "/forums")
        settled(desktop)
        find(desktop, "input[name=name]").send_keys("Loops we love")
        find(desktop, "input[name=description]").send_keys("Share the loops that stay in your head")
        click_on(desktop, "form button[type=submit]")
        find(desktop, "input[name=title]", "the new forum's thread form").send_keys("Favourite loop")
        find(desktop, "textarea[name=body]").send_keys("Listen to this one")
        find(desktop, ".picker input").send_keys(title)
        click_on(desktop, ".picker-results button", "the embed picker's results")
        find(desktop, ".chip", "the chosen embed")
        click_on(desktop, "form button[type=submit]")
        embed = find(desktop, ".embed[data-kind=track]", "the embedded track in the thread")
        thread_url = desktop.current_url
        time.sleep(1)
        assert len(desktop.find_elements(By.CSS_SELECTOR, ".comments > .comment")) == 1, "the first post is shown twice"
        desktop.execute_script("const a = document.getElementById('audio'); a.pause(); a.removeAttribute('src'); a.load();")
        click(desktop, embed.find_element(By.CSS_SELECTOR, ".embed-play"))
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0.3, "the embedded track did not play")
        desktop.execute_script("document.getElementById('audio').pause()")
        phone.get(thread_url)
        find(phone, ".comments-section textarea", "the thread's composer on the phone").send_keys("Mine is the choir")
        click_on(phone, ".comments-section > form button[type=submit]")
        wait(desktop, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".comments > .comment > .comment-body")] == ["Listen to this one", "Mine is the choir"],
             "the thread does not read oldest first with Bob's post live at the end")
        assert desktop.execute_script("const s = document.querySelector('.comments-section'); "
                                      "return s.querySelector(':scope > .comments').compareDocumentPosition(s.querySelector(':scope > form')) & Node.DOCUMENT_POSITION_FOLLOWING"), \
            "the thread's composer is not below its posts"
        audit(desktop, "a forum thread (desktop)")
        shots(desktop, "forum-thread")
        shots(phone, "forum-thread")

        # Ann's queue follows her to her phone: a third browser, Ann's own. She names the phone; the queue sheet
        # opens in view; what one device changes (add, remove, drag, shuffle) the other shows.
        ann_phone = browser(390, 844)
        log_in(ann_phone, base, "ann@example.org")
        click_on(ann_phone, ".tabbar .queue-toggle", "the tab bar's Queue button")
        sheet = ann_phone.execute_script("const r = document.getElementById('queue-panel').getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: innerHeight}")
        assert sheet["top"] >= 0 and sheet["bottom"] <= sheet["height"] and sheet["bottom"] > sheet["top"], f"the phone's queue opened out of view: {sheet}"
        name = find(ann_phone, "#device-name")
        assert " on " in name.get_attribute("value"), f"the device's default name: {name.get_attribute('value')!r}"
        name.send_keys(Keys.CONTROL, "a")
        name.send_keys("Ann's phone", Keys.TAB)
        toast_with(ann_phone, "Ann's phone", "renaming the device was not confirmed")
        desktop.get(release_url)
        click_on(desktop, ".hero .actions button.primary", "Play all")
        wait(desktop, lambda d: audio(d, "a.currentTime") > 0, "Play all did not play")
        desktop.execute_script("document.getElementById('audio').pause()")
        click_on(desktop, ".brand")
        for track in others:
            queued = len(queue_ids(desktop))
            click_on(desktop, f"#main .track-row[data-track-id='{track['id']}'] button[aria-label$='to the queue']", "a track's + Queue on the home page")
            wait(desktop, lambda d: len(queue_ids(d)) == queued + 1, "+ Queue did not add to the queue")
        click_on(desktop, "button.queue-toggle", "the desktop's Queue button")
        wait(ann_phone, lambda d: queue_ids(d) == queue_ids(desktop) and len(queue_ids(d)) >= 3, "Ann's phone did not get the desktop's queue")
        count = len(queue_ids(desktop))
        click(ann_phone, ann_phone.find_elements(By.CSS_SELECTOR, "#queue-list li")[-1].find_element(By.CSS_SELECTOR, "button[aria-label^=Remove]"))
        wait(desktop, lambda d: len(queue_ids(d)) == count - 1, "the desktop did not see the phone's removal")
        find(desktop, "#queue-device")
        wait(desktop, lambda d: d.find_element(By.ID, "queue-device").text == "Updated from Ann's phone.",
             f"the desktop does not name the phone by its new name: {desktop.find_element(By.ID, 'queue-device').text!r}")
        ids = queue_ids(desktop)
        drag(desktop, "#queue-list", 1, 2)
        expected = [ids[0], ids[2], ids[1]] + ids[3:]
        wait(ann_phone, lambda d: queue_ids(d) == expected, f"a drag in the desktop's queue did not reach the phone: {queue_ids(ann_phone)} (wanted {expected})")
        ids = queue_ids(desktop)
        click(desktop, desktop.find_elements(By.CSS_SELECTOR, "#queue-list li")[1].find_element(By.CSS_SELECTOR, "button[aria-label^='Move'][aria-label$='down']"))
        expected = [ids[0], ids[2], ids[1]] + ids[3:]
        wait(ann_phone, lambda d: queue_ids(d) == expected, f"the queue's Move down did not reach the phone: {queue_ids(ann_phone)} (wanted {expected})")
        changed = False
        for _ in range(12):
            before = queue_ids(desktop)
            click_on(desktop, "#queue-shuffle")
            wait(desktop, lambda d: sorted(queue_ids(d)) == sorted(before), "shuffle lost or added tracks")
            time.sleep(0.4)
            after = queue_ids(desktop)
            assert after[0] == before[0], "shuffle moved the current track"
            if after != before:
                changed = True
                break
        assert changed, "twelve shuffles never changed the order"
        wait(ann_phone, lambda d: queue_ids(d) == queue_ids(desktop), "the shuffled queue did not reach the phone")
        audit(ann_phone, "the queue sheet (phone)")
        shots(ann_phone, "queue")
        audit(desktop, "the queue panel (desktop)")
        ann_phone.quit()
        ann_phone = None

        # Ann's own Subsonic app: she makes an API key on her profile (shown once), and the queue her app saves
        # appears in the open web app at once; what she then changes in the web app, the app reads back.
        desktop.get(base + "/me#listener-apps")
        settled(desktop)
        maker = find(desktop, "#listener-apps .credential-kind form input[name=name]", "the API key form on the profile")
        maker.send_keys("Phone app")
        click(desktop, desktop.find_elements(By.CSS_SELECTOR, "#listener-apps .credential-kind form button[type=submit]")[0])
        key = wait(desktop, lambda d: d.execute_script("return document.querySelector('#listener-apps input.secret')?.value"), "the new API key was not shown")
        wait(desktop, lambda d: "Phone app" in d.find_element(By.CSS_SELECTOR, "#listener-apps .credentials").text, "the new key is not listed")
        audit(desktop, "the profile with a new API key (desktop)")
        queued = queue_ids(desktop)
        wanted = list(reversed(queued))
        subsonic(base, key, "savePlayQueue", [("id", i) for i in wanted] + [("current", wanted[1]), ("position", "1500")])
        wait(desktop, lambda d: queue_ids(d) == wanted, f"the queue the app saved did not reach the web app: {queue_ids(desktop)} (wanted {wanted})")
        wait(desktop, lambda d: "Phone app (Subsonic)" in d.execute_script("return document.getElementById('queue-device').textContent"),
             "the web app does not say the app changed the queue")
        click_on(desktop, "button.queue-toggle", "the desktop's Queue button")
        click(desktop, desktop.find_elements(By.CSS_SELECTOR, "#queue-list li")[-1].find_element(By.CSS_SELECTOR, "button[aria-label^=Remove]"))
        wait(desktop, lambda d: len(queue_ids(d)) == len(wanted) - 1, "removing from the queue in the web app")
        read = subsonic(base, key, "getPlayQueue")["playQueue"]
        assert [entry["id"] for entry in read.get("entry", [])] == queue_ids(desktop), f"the app reads another queue: {read}"
        click(desktop, find(desktop, "#listener-apps .credentials button[aria-label='Revoke Phone app']"))
        toast_with(desktop, "revoked", "revoking the key was not confirmed")

        # The mini-player opens into the whole player; a very long artist name neither grows the bars nor pushes the
        # seek bar off the screen, on either width.
        phone.get(release_url)
        settled(phone)
        rows = phone.execute_script("const row = document.querySelector('.track-list .track-row').getBoundingClientRect(); "
                                    "return {top: row.top, fold: document.querySelector('.player').getBoundingClientRect().top}")
        assert rows["top"] < rows["fold"], f"a release page on the phone shows no track above the fold: {rows}"
        click_on(phone, ".player .play", "the mini-player's play button")
        click_on(phone, "#expand-button")
        wait(phone, lambda d: d.find_element(By.ID, "waveform").size["width"] > 200, "the expanded player has no seek bar")
        click_on(phone, "#expand-button")
        for driver in (phone, desktop):
            height = driver.execute_script("return document.querySelector('.player').getBoundingClientRect().height")
            driver.execute_script("document.getElementById('player-artist').textContent = 'An Orchestra With A Name So Long '.repeat(8)")
            box = driver.execute_script("const p = document.querySelector('.player').getBoundingClientRect(); "
                                        "const w = document.getElementById('play-button').getBoundingClientRect(); "
                                        "return {height: p.height, right: w.right, width: innerWidth}")
            assert abs(box["height"] - height) < 1 and box["right"] <= box["width"], f"a long artist name broke the player: {box} (was {height} high)"
            driver.execute_script("document.getElementById('player-artist').textContent = ''")
        audit(phone, "the release page with the player (phone)")
        shots(phone, "release")

        # A slow network: the page shows that it is loading instead of the old page with a new URL.
        desktop.get(base + "/playlists")
        settled(desktop)
        desktop.execute_cdp_cmd("Network.enable", {})
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 2000, "downloadThroughput": -1, "uploadThroughput": -1})
        click_on(desktop, f"a[href='/playlists/{playlist}']", "the playlist in the list")
        wait(desktop, lambda d: d.find_element(By.ID, "progress-bar").is_displayed(), "no progress bar while a page loads slowly", seconds=1.8)
        wait(desktop, lambda d: d.find_elements(By.CSS_SELECTOR, ".skeleton"), "no placeholder while a page loads slowly", seconds=1.8)
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        wait(desktop, lambda d: d.find_elements(By.CSS_SELECTOR, ".track-list .track-row") and not d.find_element(By.ID, "progress-bar").is_displayed(),
             "the slow page did not finish loading")

        # The network fails: the page stays and says so in plain words.
        desktop.execute_script("history.back()")
        find(desktop, "input[name=name]", "the playlists page again")
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        find(desktop, "input[name=name]").send_keys("Road trip")
        click_on(desktop, "form button[type=submit]")
        message = wait(desktop, lambda d: next((e.text for e in d.find_elements(By.CSS_SELECTOR, ".form-error, .toast") if e.text.strip() and "reach" in e.text), None),
                       "no message when the network failed")
        assert "reach Musikk" in message, f"unfriendly failure message: {message!r}"
        assert "Your playlists" in desktop.find_element(By.TAG_NAME, "h1").text, "the page did not stay rendered"
        # Pages seen before, reached again while offline, say that Musikk can't be reached: never "not found", never
        # an empty list; and the same failure makes one toast, not a stack.
        for move, where in [("history.forward()", "the playlist"), ("history.back()", "the playlists list")]:
            desktop.execute_script(move)
            wait(desktop, lambda d: "reach Musikk" in d.find_element(By.TAG_NAME, "h1").text, f"going to {where} offline did not say Musikk can't be reached")
            body = desktop.find_element(By.ID, "main").text
            assert "not found" not in body.lower() and "No playlists yet" not in body, f"offline {where} read as absent: {body!r}"
        toasts = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, ".toast") if "reach Musikk" in e.text]
        assert len(toasts) <= 1, f"{len(toasts)} identical toasts"
        shots(desktop, "network-failure")
        desktop.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        desktop.get_log("browser")  # the offline failures are expected console errors

        # Every page, at both widths and in both themes, passes axe and has a clean console.
        forum = thread_url.rsplit("/", 1)[1]
        forum_id = call(desktop, "GET", f"/api/threads/{forum}", None)["body"]["forum"]["id"]
        artist = call(desktop, "GET", "/api/artists?limit=1", None)["body"]["items"][0]["id"]
        pages = ["/", f"/search?q={title[:3]}", track_url.replace(base, ""), release_url.replace(base, ""), f"/artists/{artist}", "/playlists",
                 f"/playlists/{playlist}", "/forums", f"/forums/{forum_id}", f"/threads/{forum}", f"/users/{bob}", f"/users/{ann}", "/me", "/feed", "/notifications"]
        for driver, width in ((desktop, "desktop"), (phone, "phone")):
            for path in pages:
                driver.get(base + path)
                settled(driver)
                time.sleep(0.3)
                audit(driver, f"{path} ({width})")
        phone.get(f"{base}/users/{ann}")
        settled(phone)
        shots(phone, "profile")
        for driver, width in ((desktop, "desktop"), (phone, "phone")):
            driver.get(base + "/me")
            click_on(driver, "#main [data-logout]", "the profile's Log out button")
            find(driver, "input[name=email]", "the log-in page after logging out")
            settled(driver)
            audit(driver, f"the log-in page ({width})")
        print("all browser checks passed")
    finally:
        desktop.quit()
        phone.quit()
        if ann_phone:
            ann_phone.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"FAILED: {failure}")
        sys.exit(1)
