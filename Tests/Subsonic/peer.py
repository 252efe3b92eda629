#!/usr/bin/python3
"""musikk-server and a peer Subsonic server nobody here wrote (Debian's supysonic) serve the same masters folder;
their getAlbumList2, getAlbum and search3 must name the same songs and albums, modulo what supysonic reads
differently, which is spelled out here and in the README:

- a master without tags: supysonic titles it by its file name (`03 Harmonics (mono).wav`), credits "[unknown]"
  and files it under "[non-album tracks]"; Musikk takes the title from the file name without its number and
  extension, the artist and release from the folders (`Artist/Album/01 Title.flac`);
- several artists in one tag (`Amen; Breaker`): supysonic keeps one artist of that name, Musikk credits each;
- durations: supysonic truncates to whole seconds, Musikk rounds;
- search: supysonic matches part of a song's title (`a` finds "Tabla"), Musikk the start of any word of its title,
  artists or release (`loop` finds the tracks of "Loops"): for whole words, supysonic's hits are among Musikk's.

Usage: peer.py --musikk http://127.0.0.1:PORT --masters DIR
Prints "all peer checks passed" and exits 0, or lists what failed and exits 1."""
import argparse, json, os, re, sys, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from supysonic import Supysonic  # noqa: E402

failures = []
NON_ALBUM = "[non-album tracks]"


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


class Musikk:
    def __init__(self, base):
        self.base = base
        request = urllib.request.Request(base + "/api/auth/signup", data=json.dumps(
            {"email": "peer@subsonic.test", "password": "correct horse battery", "displayName": "Peer"}).encode(),
            headers={"Content-Type": "application/json"})
        token = json.load(urllib.request.urlopen(request, timeout=30))["accessToken"]
        request = urllib.request.Request(base + "/api/me/subsonic/api-keys", data=b"{}", headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + token})
        self.key = json.load(urllib.request.urlopen(request, timeout=30))["apiKey"]

    def call(self, method, **params):
        query = urllib.parse.urlencode([("apiKey", self.key), ("v", "1.16.1"), ("c", "peer"), ("f", "json")] + list(params.items()))
        with urllib.request.urlopen(f"{self.base}/rest/{method}.view?{query}", timeout=30) as response:
            return json.load(response)["subsonic-response"]


def title(song):
    """A song's title, with supysonic's file-name fallback read as Musikk reads a file name (see above)."""
    name = song["title"]
    if song.get("path") and name == os.path.basename(song["path"]):
        name = re.sub(r"^\d{1,3}[ .\-_]+", "", os.path.splitext(name)[0])
    return name


def library(server):
    """Albums as {(name, artist): [song, …]} and every song, walked through getAlbumList2 and getAlbum."""
    albums, songs = {}, []
    for album in server.call("getAlbumList2", type="alphabeticalByName", size=500)["albumList2"].get("album", []):
        found = server.call("getAlbum", id=album["id"])["album"].get("song", [])
        albums.setdefault(album["name"], []).extend(found)
        songs += found
    return albums, songs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--musikk", required=True)
    parser.add_argument("--masters", required=True)
    options = parser.parse_args()
    musikk = Musikk(options.musikk.rstrip("/"))
    with Supysonic(options.masters) as peer:
        ours, our_songs = library(musikk)
        theirs, their_songs = library(peer)
        check(sorted(title(s) for s in their_songs) == sorted(title(s) for s in our_songs),
              f"the same songs: supysonic {sorted(title(s) for s in their_songs)} vs musikk {sorted(title(s) for s in our_songs)}")
        durations = {title(s): s["duration"] for s in our_songs}
        for song in their_songs:
            check(abs(durations.get(title(song), -9) - song["duration"]) <= 1, f"{title(song)}: {song['duration']} s vs {durations.get(title(song))} s")
        ours_by_title = {title(s): s for s in our_songs}
        for song in their_songs:
            artist = song.get("artist", "[unknown]")
            if artist != "[unknown]" and title(song) in ours_by_title:
                names = sorted(a["name"] for a in ours_by_title[title(song)].get("artists", []))
                check(names == sorted(artist.split("; ")), f"{title(song)}: artists {artist!r} vs {names}")
        # Albums from tags are the same, but for the untagged masters Musikk files in their folder's album.
        untagged = {title(s) for name, songs in theirs.items() if name == NON_ALBUM for s in songs}
        tagged = {name: songs for name, songs in theirs.items() if name != NON_ALBUM}
        check(len(tagged) >= 2, f"supysonic found tagged albums: {sorted(theirs)}")
        for name, songs in tagged.items():
            check(name in ours and [title(s) for s in songs] == [title(s) for s in ours[name] if title(s) not in untagged],
                  f"album {name}: supysonic {[title(s) for s in songs]} vs musikk {[title(s) for s in ours.get(name, [])]}")
        print(f"supysonic files {len(untagged)} songs under {NON_ALBUM}; musikk files them under their folders' names")

        words = sorted({word for s in their_songs if s.get("path") and s["title"] != os.path.basename(s["path"])
                        for word in re.findall(r"[A-Za-z]{4,}", s["title"])})
        check(len(words) >= 4, f"words to search for: {words}")
        for word in words:
            found = {title(s) for s in peer.call("search3", query=word, songCount=100, albumCount=100)["searchResult3"].get("song", [])}
            answer = musikk.call("search3", query=word, songCount=100, albumCount=100)["searchResult3"]
            check(found <= {title(s) for s in answer.get("song", [])}, f"search3 {word!r}: supysonic {sorted(found)} not all among musikk's")
            albums = {a["name"] for a in peer.call("search3", query=word, songCount=0, albumCount=100)["searchResult3"].get("album", []) if a["name"] != NON_ALBUM}
            check(albums <= {a["name"] for a in answer.get("album", [])}, f"search3 {word!r} albums: supysonic {sorted(albums)}")
    if failures:
        print(f"{len(failures)} peer checks failed", flush=True)
        sys.exit(1)
    print("all peer checks passed", flush=True)


if __name__ == "__main__":
    main()
