#!/usr/bin/python3
"""Drives musikk-server's Subsonic API (/rest) with two client libraries nobody here wrote, py-opensonic
(libopensonic, API keys) and py-sonic (libsonic, app passwords by token and by enc: password), as two listeners.

Every JSON answer is validated against the OpenSubsonic project's own OpenAPI schemas (Tests/Subsonic/opensubsonic,
Apache-2.0), every XML answer must be well-formed in the http://subsonic.org/restapi namespace, and what comes back
is compared with the publication's own documents (api/*.json) and media files, read here directly.

Usage: clients.py --base http://127.0.0.1:PORT --publication OUT
Prints "all subsonic checks passed" and exits 0, or lists what failed and exits 1.
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.environ.get("MUSIKK_SUBSONIC_CLIENTS", os.path.expanduser("~/.cache/musikk/python-subsonic")))
import jsonschema  # noqa: E402  (Debian's python3-jsonschema)
import libopensonic  # noqa: E402
import libsonic  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "opensubsonic", "openapi")
NAMESPACE = "{http://subsonic.org/restapi}"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return condition


# ---------------------------------------------------------------- the OpenSubsonic schemas, $refs inlined

def load_schema(path, depth=0):
    with open(path) as handle:
        schema = json.load(handle)

    def inline(node, base):
        if isinstance(node, dict):
            if "$ref" in node and depth < 40:
                target = os.path.normpath(os.path.join(os.path.dirname(base), node["$ref"]))
                return load_schema(target, depth + 1)
            return {key: inline(value, base) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item, base) for item in node]
        return node

    return inline(schema, path)


schemas = {}


def validate(method, document):
    """Validates a whole JSON answer against the spec's schema for the method (when the spec has one)."""
    folder = os.path.join(SPEC, "endpoints", method)
    files = glob.glob(os.path.join(folder, "*Response.json"))
    files = [f for f in files if not f.endswith("SuccessResponse.json")]
    if not files:
        answers = [load_schema(os.path.join(SPEC, "schemas", "SubsonicResponse", name)) for name in ["SubsonicSuccessResponse.json", "SubsonicFailureResponse.json"]]
        schema = {"type": "object", "properties": {"subsonic-response": {"oneOf": answers}}, "required": ["subsonic-response"]}
    else:
        if method not in schemas:
            schemas[method] = load_schema(files[0])
        schema = schemas[method]
    try:
        jsonschema.Draft7Validator(schema).validate(document)
    except jsonschema.ValidationError as error:
        check(False, f"{method}: the JSON answer breaks the OpenSubsonic schema: {error.message} at {list(error.absolute_path)}")


# ---------------------------------------------------------------- plain HTTP, for what the libraries hide

class Raw:
    def __init__(self, base, auth):
        self.base = base
        self.auth = auth

    def call(self, method, fmt="json", post=False, headers=None, **params):
        query = [("v", "1.16.1"), ("c", "judge"), ("f", fmt)] + list(self.auth.items())
        for key, value in params.items():
            for item in value if isinstance(value, list) else [value]:
                query.append((key, str(item)))
        encoded = urllib.parse.urlencode(query)
        url = f"{self.base}/rest/{method}.view"
        request = urllib.request.Request(url + ("" if post else "?" + encoded), data=encoded.encode() if post else None, headers=headers or {})
        if post:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method, **params):
        status, _, body = self.call(method, **params)
        document = json.loads(body)
        validate(method, document)
        return document["subsonic-response"]

    def error_code(self, method, **params):
        answer = self.json(method, **params)
        return answer.get("error", {}).get("code") if answer.get("status") == "failed" else None

    def xml(self, method, **params):
        status, headers, body = self.call(method, fmt="xml", **params)
        root = ElementTree.fromstring(body)
        check(root.tag == NAMESPACE + "subsonic-response", f"{method}: XML root is {root.tag}")
        check(all(element.tag.startswith(NAMESPACE) for element in root.iter()), f"{method}: an XML element outside the restapi namespace")
        return root


def api(base, method, path, token=None, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# ---------------------------------------------------------------- the publication, read directly

def publication(out):
    def read(path):
        with open(os.path.join(out, path)) as handle:
            return json.load(handle)

    tracks = {}
    for path in glob.glob(os.path.join(out, "api", "tracks", "*.json")):
        if not os.path.basename(path).startswith("page-"):
            document = read(os.path.relpath(path, out))
            tracks[document["id"]] = document
    releases = {}
    for path in glob.glob(os.path.join(out, "api", "releases", "*.json")):
        if not os.path.basename(path).startswith("page-"):
            document = read(os.path.relpath(path, out))
            releases["al-%d" % document["id"]] = document
    artists = {}
    for path in glob.glob(os.path.join(out, "api", "artists", "*.json")):
        if not os.path.basename(path).startswith("page-"):
            document = read(os.path.relpath(path, out))
            artists["ar-%d" % document["id"]] = document
    return tracks, releases, artists


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--publication", required=True)
    options = parser.parse_args()
    base = options.base.rstrip("/")
    host, port = base.rsplit(":", 1)
    tracks, releases, artists = publication(options.publication)
    check(len(tracks) >= 3 and releases and artists, "the publication has tracks, releases and artists")

    # Two listeners, each with credentials made through the JSON API.
    people = {}
    for name in ["ann", "bob"]:
        status, tokens = api(base, "POST", "/api/auth/signup", body={"email": f"{name}@subsonic.test", "password": "correct horse battery", "displayName": name.title()})
        check(status == 201, f"sign-up of {name}: {status}")
        token = tokens["accessToken"]
        status, key = api(base, "POST", "/api/me/subsonic/api-keys", token, {"name": "py-opensonic"})
        check(status == 201 and key["apiKey"], f"{name}'s API key: {status}")
        status, password = api(base, "POST", "/api/me/subsonic/app-passwords", token, {"name": "py-sonic"})
        check(status == 201 and password["username"] == f"{name}@subsonic.test", f"{name}'s app password: {status} {password}")
        people[name] = {"token": token, "key": key["apiKey"], "keyId": key["id"], "password": password["password"], "passwordId": password["id"]}
    ann, bob = people["ann"], people["bob"]
    status, listed = api(base, "GET", "/api/me/subsonic/api-keys", ann["token"])
    check(status == 200 and [k["name"] for k in listed] == ["py-opensonic"] and "apiKey" not in listed[0], f"listed API keys show no secret: {listed}")
    status, listed = api(base, "GET", "/api/me/subsonic/app-passwords", ann["token"])
    check(status == 200 and len(listed) == 1 and "password" not in listed[0], f"listed app passwords show no secret: {listed}")

    opensonic = libopensonic.Connection(host, port=int(port), api_key=ann["key"], app_name="py-opensonic-judge")
    sonic = libsonic.Connection(host, username="ann@subsonic.test", password=ann["password"], port=int(port), appName="py-sonic-judge")
    sonic_legacy = libsonic.Connection(host, username="ann@subsonic.test", password=ann["password"], port=int(port), legacyAuth=True, appName="py-sonic-legacy")
    raw = Raw(base, {"apiKey": ann["key"]})
    raw_bob = Raw(base, {"apiKey": bob["key"]})

    # ---- system
    check(opensonic.ping(), "py-opensonic ping")
    check(sonic.ping() and sonic_legacy.ping(), "py-sonic ping, by token and by enc: password")
    check(opensonic.get_license()["license"]["valid"] is True, "getLicense")
    raw.json("getLicense")
    extensions = {e.name: e.versions for e in opensonic.get_open_subsonic_extensions()}
    check({"apiKeyAuthentication", "formPost", "indexBasedQueue", "songLyrics"} <= set(extensions), f"extensions: {extensions}")
    user = opensonic.get_user("ann@subsonic.test")
    check(user.username == "ann@subsonic.test" and user.stream_role and not user.admin_role, f"getUser: {user}")
    check(sonic.getUser("ann@subsonic.test")["user"]["username"] == "ann@subsonic.test", "py-sonic getUser")

    # ---- browsing: every release and track of the publication, as published
    # (py-opensonic 10.4.1's get_music_folders reads musicFolders as a list, against the spec's {"musicFolder": [...]};
    # the answer is judged by the spec's schema instead, and by py-sonic.)
    folders = raw.json("getMusicFolders")["musicFolders"]["musicFolder"]
    check(len(folders) == 1 and sonic.getMusicFolders()["musicFolders"]["musicFolder"][0]["id"] == 1, f"one music folder: {folders}")
    album_list = opensonic.get_album_list2("alphabeticalByName", size=500)
    check({a.id for a in album_list} == set(releases), f"getAlbumList2 lists every release: {[a.id for a in album_list]} vs {sorted(releases)}")
    titles = [a.name for a in album_list]
    check(titles == sorted(titles, key=lambda t: t.casefold()), f"alphabeticalByName is sorted: {titles}")
    for kind in ["random", "newest", "highest", "frequent", "recent", "alphabeticalByArtist", "starred"]:
        check(isinstance(opensonic.get_album_list2(kind, size=50), list), f"getAlbumList2 {kind}")
        raw.json("getAlbumList2", type=kind, size=50)
        raw.json("getAlbumList", type=kind, size=50)
        raw.xml("getAlbumList2", type=kind)
    raw.json("getAlbumList2", type="byYear", fromYear=1900, toYear=2100)
    raw.json("getAlbumList2", type="byGenre", genre="Rock")
    check(raw.error_code("getAlbumList2", type="nonsense") == 0, "an unknown list type is refused")
    check(raw.error_code("getAlbumList2") == 10, "getAlbumList2 without type: error 10")
    legacy_list = sonic.getAlbumList("alphabeticalByName", size=500)["albumList"]["album"]
    check({a["id"] for a in legacy_list} == set(releases), "py-sonic getAlbumList lists every release")

    for release_id, release in releases.items():
        album = opensonic.get_album(release_id)
        check(album.name == release["title"] and album.song_count == len(release["tracks"]), f"getAlbum {release_id}: {album.name} {album.song_count}")
        check([s.id for s in (album.song or [])] == [t["id"] for t in release["tracks"]], f"getAlbum {release_id} tracks in order")
        check(album.artist_id == "ar-%d" % release["artist"]["id"], f"getAlbum {release_id} artist")
        raw.json("getAlbum", id=release_id)
        raw.xml("getAlbum", id=release_id)
        directory = opensonic.get_music_directory(release_id)
        check([c.id for c in directory.child or []] == [t["id"] for t in release["tracks"]], f"getMusicDirectory {release_id}")
        raw.json("getMusicDirectory", id=release_id)
    for artist_id, artist in artists.items():
        found = opensonic.get_artist(artist_id)
        check(found.name == artist["name"] and {a.id for a in found.album or []} == {"al-%d" % r["id"] for r in artist["releases"]}, f"getArtist {artist_id}")
        raw.json("getArtist", id=artist_id)
        directory = sonic.getMusicDirectory(artist_id)["directory"]
        check(directory["name"] == artist["name"], f"py-sonic getMusicDirectory {artist_id}")
    indexed = {a.id for index in (opensonic.get_artists().index or []) for a in index.artist or []}
    check(indexed == set(artists), f"getArtists indexes every artist: {indexed}")
    indexed = {a.id for index in (opensonic.get_indexes().index or []) for a in index.artist or []}
    check(indexed == set(artists), "getIndexes indexes every artist")
    raw.json("getArtists")
    raw.json("getIndexes")
    raw.json("getMusicFolders")
    raw.xml("getIndexes")

    genres = {}
    for track in tracks.values():
        if track.get("genre"):
            genres[track["genre"]] = genres.get(track["genre"], 0) + 1
    found = {g.value: g.song_count for g in opensonic.get_genres()}
    check(found == genres, f"getGenres {found} vs {genres}")
    raw.json("getGenres")
    for genre, count in genres.items():
        songs = opensonic.get_songs_by_genre(genre, count=500)
        check(len(songs) == count and all(s.genre == genre for s in songs), f"getSongsByGenre {genre}")
        raw.json("getSongsByGenre", genre=genre)

    for track_id, track in tracks.items():
        song = opensonic.get_song(track_id)
        check(song.title == track["title"] and song.duration == round(track["duration"]), f"getSong {track_id}")
        check(song.replay_gain is not None, f"getSong {track_id}: replayGain is always there")
        check(sorted(a.name for a in song.artists or []) == sorted(a["name"] for a in track["artists"]), f"getSong {track_id}: artists, each once")
        if track.get("release"):
            album_artist = releases["al-%d" % track["release"]["id"]]["artist"]["name"]
            check([a.name for a in song.album_artists or []] == [album_artist], f"getSong {track_id}: albumArtists")
        loudness = track.get("loudness") or {}
        if "trackGainDB" in loudness:
            check(abs(song.replay_gain.track_gain - loudness["trackGainDB"]) < 1e-9, f"{track_id}: replayGain.trackGain is the published R128 gain")
            check(abs(song.replay_gain.track_peak - loudness["trackPeak"]) < 1e-9, f"{track_id}: replayGain.trackPeak")
        if "albumGainDB" in loudness:
            check(abs(song.replay_gain.album_gain - loudness["albumGainDB"]) < 1e-9, f"{track_id}: replayGain.albumGain")
        best = max((r for r in track["renditions"] if r["codecs"].startswith("mp4a") and r.get("url")), key=lambda r: r["bitrate"])
        check(song.size == best["size"] and song.suffix == "m4a" and song.bit_rate == best["bitrate"] // 1000, f"getSong {track_id}: describes the file stream sends")
        raw.json("getSong", id=track_id)

    check(len(opensonic.get_random_songs(size=2)) == 2, "getRandomSongs size=2")
    raw.json("getRandomSongs", size=3)
    some_artist = next(iter(artists.values()))
    top = opensonic.get_top_songs(some_artist["name"], count=50)
    check({s.id for s in top} == {t["id"] for t in some_artist["tracks"]}, f"getTopSongs {some_artist['name']}")
    raw.json("getTopSongs", artist=some_artist["name"])
    similar = opensonic.get_similar_songs2("ar-%d" % some_artist["id"], count=10)
    check(all(s.artist_id != "ar-%d" % some_artist["id"] for s in similar), "getSimilarSongs2 gives other artists' tracks")
    raw.json("getSimilarSongs2", id="ar-%d" % some_artist["id"])

    # ---- search: the web app's full-text search
    a_track = sorted(tracks.values(), key=lambda t: t["id"])[0]
    word = a_track["title"].split()[0]
    result = opensonic.search3(word, artist_count=0, album_count=0, song_count=50)
    check(a_track["id"] in {s.id for s in result.song or []}, f"search3 '{word}' finds {a_track['title']}")
    raw.json("search3", query=word)
    raw.json("search2", query=word)
    raw.xml("search3", query=word)
    everything = opensonic.search3('""', artist_count=500, album_count=500, song_count=500)
    check({s.id for s in everything.song or []} == set(tracks) and {a.id for a in everything.album or []} == set(releases), "search3 with an empty query lists the whole library")
    first_page = opensonic.search3("", song_count=1, song_offset=0, artist_count=0, album_count=0).song
    second_page = opensonic.search3("", song_count=1, song_offset=1, artist_count=0, album_count=0).song
    check(len(first_page) == 1 and len(second_page) == 1 and first_page[0].id != second_page[0].id, "search3 pages by songOffset")
    check(a_track["id"] in {s["id"] for s in sonic.search3(word)["searchResult3"].get("song", [])}, "py-sonic search3")

    # ---- play: published files, with length and byte ranges
    for track_id, track in list(tracks.items())[:3]:
        files = {r["name"]: r for r in track["renditions"] if r.get("url")}
        best = max((r for r in files.values() if r["codecs"].startswith("mp4a")), key=lambda r: r["bitrate"])
        with open(os.path.join(options.publication, best["url"]), "rb") as handle:
            published = handle.read()
        status, headers, body = raw.call("stream", id=track_id)
        check(status == 200 and sha256(body) == sha256(published) and headers.get("Content-Length") == str(len(published)), f"stream {track_id} sends the best AAC file whole")
        check(headers.get("Content-Type") == "audio/mp4" and headers.get("Accept-Ranges") == "bytes", f"stream {track_id} headers {headers}")
        status, headers, body = raw.call("stream", id=track_id, headers={"Range": "bytes=100-299"})
        check(status == 206 and body == published[100:300] and headers.get("Content-Range") == f"bytes 100-299/{len(published)}", f"stream {track_id} range")
        status, headers, body = raw.call("stream", id=track_id, maxBitRate=100)
        low = [r for r in files.values() if r["codecs"].startswith("mp4a") and r["bitrate"] <= 100000]
        expected = max(low, key=lambda r: r["bitrate"]) if low else None
        if expected:
            with open(os.path.join(options.publication, expected["url"]), "rb") as handle:
                check(body == handle.read(), f"stream {track_id} maxBitRate=100 sends {expected['name']}")
        opus = [r for r in files.values() if r["codecs"] == "opus"]
        if opus:
            status, headers, body = raw.call("stream", id=track_id, format="opus", maxBitRate=96)
            pick = max((r for r in opus if r["bitrate"] <= 96000), key=lambda r: r["bitrate"])
            with open(os.path.join(options.publication, pick["url"]), "rb") as handle:
                check(body == handle.read(), f"stream {track_id} format=opus maxBitRate=96 sends {pick['name']}")
        response = opensonic.stream(track_id, max_bit_rate=0)
        check(sha256(response) == sha256(published) if isinstance(response, bytes) else True, "py-opensonic stream")
        streamed = sonic.stream(track_id)
        check(streamed.read() == published, "py-sonic stream")
        downloaded = sonic.download(track_id)
        check(downloaded.read() == published, "py-sonic download")
        check(raw.call("stream", id=track_id, post=True)[2] == published, "stream by form POST")
    check(raw.error_code("stream", id="0123456789abcdef0123") == 70, "stream of an unknown id: error 70")
    check(raw.error_code("stream") == 10, "stream without id: error 10")

    covered = [r for r in releases.values() if r.get("cover")]
    for release in covered[:2]:
        release_id = "al-%d" % release["id"]
        status, headers, body = raw.call("getCoverArt", id=release_id)
        with open(os.path.join(options.publication, release["cover"]["url"]), "rb") as handle:
            check(status == 200 and body == handle.read(), f"getCoverArt {release_id} sends the published cover")
        for size, side in [(50, 96), (96, 96), (200, 300), (599, 600)]:
            thumbnail = next((t for t in sorted(release["cover"].get("thumbnails") or [], key=lambda t: t["side"]) if t["side"] >= size), None)
            if thumbnail:
                status, headers, body = raw.call("getCoverArt", id=release_id, size=size)
                with open(os.path.join(options.publication, thumbnail["url"]), "rb") as handle:
                    check(body == handle.read() and thumbnail["side"] == side, f"getCoverArt size={size} sends the {thumbnail['side']} px thumbnail made at publish")
        check(sonic.getCoverArt(release_id, size=96).read()[:3] in (b"\xff\xd8\xff", b"\x89PN"), "py-sonic getCoverArt")

    # ---- listening: stars are likes, ratings, scrobbles, now playing
    song_id = a_track["id"]
    release_id = "al-%d" % a_track["release"]["id"]
    artist_id = "ar-%d" % a_track["artists"][0]["id"]
    opensonic.star(sids=[song_id], album_ids=[release_id], artist_ids=[artist_id])
    starred = opensonic.get_starred2()
    check([s.id for s in starred.song or []] == [song_id] and [a.id for a in starred.album or []] == [release_id] and [a.id for a in starred.artist or []] == [artist_id], "getStarred2 after star")
    raw.json("getStarred2")
    raw.json("getStarred")
    status, detail = api(base, "GET", f"/api/tracks/{song_id}", ann["token"])
    check(detail["likedByYou"] is True and detail["likeCount"] == 1, f"a star is the web app's like: {detail}")
    check(opensonic.get_song(song_id).starred, "a starred song says when")
    check(len(opensonic.get_album_list2("starred")) == 1, "getAlbumList2 starred")
    sonic.unstar(sids=[song_id])
    status, detail = api(base, "GET", f"/api/tracks/{song_id}", ann["token"])
    check(detail["likedByYou"] is False, "unstar removes the like")
    opensonic.set_rating(song_id, 4)
    opensonic.set_rating(release_id, 5)
    check(opensonic.get_song(song_id).user_rating == 4, "setRating on a song")
    check([a.id for a in opensonic.get_album_list2("highest")] == [release_id], "getAlbumList2 highest")
    opensonic.set_rating(song_id, 0)
    check(opensonic.get_song(song_id).user_rating is None, "setRating 0 removes it")
    check(raw.error_code("setRating", id=song_id, rating=6) == 0, "a rating of 6 is refused")

    # A scrobble right after "now playing" does not count: less than 30 s passed (the web app's rule).
    check(opensonic.scrobble(song_id, submission=False), "scrobble now playing")
    now_playing = opensonic.get_now_playing()
    check([e.id for e in now_playing] == [song_id] and now_playing[0].username == "Ann", f"getNowPlaying shows the listener's own: {now_playing}")
    raw.json("getNowPlaying")
    check(opensonic.scrobble(song_id, submission=True), "scrobble submission")
    status, detail = api(base, "GET", f"/api/tracks/{song_id}", ann["token"])
    check(detail["playCount"] == 0, f"a submission 0 s after now playing counts no listen: {detail['playCount']}")
    sonic.scrobble(song_id, submission=True)
    status, detail = api(base, "GET", f"/api/tracks/{song_id}", ann["token"])
    check(detail["playCount"] == 0, "a submission without now playing counts no listen")
    # Bob follows nobody: Ann's now playing is not his to see, as in the web app.
    opensonic.scrobble(song_id, submission=False)
    check(raw_bob.json("getNowPlaying").get("nowPlaying", {}).get("entry", []) == [], "getNowPlaying hides a listener from someone who does not follow them")

    # ---- playlists: the web app's, privacy and editors respected
    ids = sorted(tracks)[:3]
    check(opensonic.create_playlist(name="Road trip", song_ids=ids), "py-opensonic createPlaylist")
    created = next(p for p in opensonic.get_playlists() if p.name == "Road trip")
    created = opensonic.get_playlist(created.id)
    check(created.name == "Road trip" and [e.id for e in created.entry or []] == ids and created.public is False, f"createPlaylist: {created}")
    playlist_id = created.id
    status, web = api(base, "GET", f"/api/playlists/{playlist_id}", ann["token"])
    check(status == 200 and [e["trackId"] for e in web["entries"]] == ids, "a Subsonic playlist is the web app's playlist")
    opensonic.update_playlist(playlist_id, name="Road trip 2", comment="for the car", song_ids_to_add=[ids[0]], song_indices_to_remove=[1])
    check(raw.json("updatePlaylist", playlistId=playlist_id, public="true")["status"] == "ok", "updatePlaylist public=true")
    updated = opensonic.get_playlist(playlist_id)
    check(updated.name == "Road trip 2" and updated.comment == "for the car" and updated.public and [e.id for e in updated.entry] == [ids[0], ids[2], ids[0]], f"updatePlaylist: {updated}")
    raw.json("getPlaylist", id=playlist_id)
    raw.json("getPlaylists")
    check(playlist_id in {p.id for p in opensonic.get_playlists()}, "getPlaylists lists it")
    check(playlist_id in {p["id"] for p in sonic.getPlaylists()["playlists"]["playlist"]}, "py-sonic getPlaylists")
    replaced = sonic.createPlaylist(playlistId=playlist_id, songIds=[ids[1]])
    check([e.id for e in opensonic.get_playlist(playlist_id).entry] == [ids[1]], f"createPlaylist with playlistId replaces the tracks: {replaced}")
    private = raw_bob.json("createPlaylist", name="Bob's secret")["playlist"]["id"]
    check(raw.error_code("getPlaylist", id=private) == 70, "another listener's private playlist is not found")
    check(raw.error_code("deletePlaylist", id=private) == 70, "nor can it be deleted")
    public_status, _ = api(base, "PATCH", f"/api/playlists/{private}", bob["token"], {"visibility": "public"})
    check(public_status == 200, f"Bob makes his playlist public: {public_status}")
    check(raw.json("getPlaylist", id=private)["playlist"]["readonly"] is True, "a public playlist of another listener is readonly")
    check(raw.error_code("deletePlaylist", id=private) == 50, "deleting another listener's public playlist: error 50")
    check(raw.error_code("updatePlaylist", playlistId=private, songIdToAdd=ids[0]) == 50, "editing it: error 50")
    check(private in {p["id"] for p in raw.json("getPlaylists", username="bob@subsonic.test")["playlists"]["playlist"]}, "getPlaylists username= lists what Bob shows")
    opensonic.delete_playlist(playlist_id)
    check(raw.error_code("getPlaylist", id=playlist_id) == 70, "deletePlaylist")

    # ---- the play queue: the web app's, both ways
    opensonic.save_play_queue(ids, current=ids[1], position=61500)
    status, queue = api(base, "GET", "/api/queue", ann["token"])
    check(queue["trackIds"] == ids and queue["currentIndex"] == 1 and abs(queue["positionSeconds"] - 61.5) < 1e-9 and "Subsonic" in queue["device"], f"savePlayQueue is the web app's queue: {queue}")
    status, written = api(base, "PUT", "/api/queue", ann["token"], {"version": queue["version"], "trackIds": [ids[2], ids[0]], "currentIndex": 1, "positionSeconds": 12.25, "device": "browser"})
    check(status == 200, f"the web app writes the queue: {status}")
    fetched = opensonic.get_play_queue()
    check([e.id for e in fetched.entry] == [ids[2], ids[0]] and fetched.current == ids[0] and fetched.position == 12250 and fetched.changed_by == "browser", f"getPlayQueue reads the web app's: {fetched}")
    by_index = opensonic.get_play_queue_by_index()
    check(by_index.current_index == 1 and by_index.position == 12250, f"getPlayQueueByIndex: {by_index}")
    opensonic.save_play_queue_by_index([ids[0], ids[0], ids[1]], current_index=1, position=5000)
    status, queue = api(base, "GET", "/api/queue", ann["token"])
    check(queue["trackIds"] == [ids[0], ids[0], ids[1]] and queue["currentIndex"] == 1, f"savePlayQueueByIndex keeps duplicates apart: {queue}")
    check(raw.error_code("savePlayQueueByIndex", id=[ids[0]], currentIndex=3) == 10, "savePlayQueueByIndex out of range: error 10")
    raw.json("getPlayQueue")
    raw.json("getPlayQueueByIndex")
    sonic.savePlayQueue([ids[1]], current=ids[1], position=1000)
    check(sonic.getPlayQueue()["playQueue"]["current"] == ids[1], "py-sonic play queue")

    # ---- lyrics
    lyrical = [t for t in tracks.values() if t.get("lyrics")]
    check(any(lyrics["synced"] for t in lyrical for lyrics in t["lyrics"]), "the publication has synced lyrics to serve")
    for track in tracks.values():
        lyrics = opensonic.get_lyrics_by_song_id(track["id"])
        check(len(lyrics) == len(track.get("lyrics") or []), f"getLyricsBySongId {track['id']}")
        for found, published in zip(lyrics, track.get("lyrics") or []):
            check(found.synced == published["synced"] and [line.value for line in found.line] == [line["text"] for line in published["lines"]], f"lyrics of {track['id']}")
            if published["synced"]:
                check([line.start for line in found.line] == [line["start"] for line in published["lines"]], f"synced lyrics of {track['id']} keep their times")
        raw.json("getLyricsBySongId", id=track["id"])
    for track in lyrical[:2]:
        plain = opensonic.get_lyrics(artist=track["artists"][0]["name"], title=track["title"])
        check(plain.value.split("\n") == [line["text"] for line in track["lyrics"][0]["lines"]], f"getLyrics {track['title']}")
    raw.json("getLyrics", artist="nobody", title="nothing")

    # ---- py-sonic over the rest of the API (its answers are the JSON dicts; each must hold what it names)
    genre = next(iter(genres), None)
    sweep = [
        ("getLicense", lambda: sonic.getLicense(), lambda r: r["license"]["valid"] is True),
        ("getIndexes", lambda: sonic.getIndexes(), lambda r: {a["id"] for i in r["indexes"]["index"] for a in i["artist"]} == set(artists)),
        ("getArtists", lambda: sonic.getArtists(), lambda r: {a["id"] for i in r["artists"]["index"] for a in i["artist"]} == set(artists)),
        ("getArtist", lambda: sonic.getArtist(artist_id), lambda r: r["artist"]["id"] == artist_id),
        ("getAlbum", lambda: sonic.getAlbum(release_id), lambda r: [s["id"] for s in r["album"]["song"]] == [t["id"] for t in releases[release_id]["tracks"]]),
        ("getSong", lambda: sonic.getSong(song_id), lambda r: r["song"]["title"] == a_track["title"] and "replayGain" in r["song"]),
        ("getGenres", lambda: sonic.getGenres(), lambda r: {g["value"] for g in r["genres"]["genre"]} == set(genres)),
        ("getAlbumList2", lambda: sonic.getAlbumList2("newest", size=500), lambda r: {a["id"] for a in r["albumList2"]["album"]} == set(releases)),
        ("getRandomSongs", lambda: sonic.getRandomSongs(size=3), lambda r: len(r["randomSongs"]["song"]) == 3),
        ("getSongsByGenre", lambda: sonic.getSongsByGenre(genre or "none", count=500), lambda r: len(r["songsByGenre"].get("song", [])) == genres.get(genre, 0)),
        ("getTopSongs", lambda: sonic.getTopSongs(some_artist["name"]), lambda r: len(r["topSongs"]["song"]) == len(some_artist["tracks"])),
        ("getSimilarSongs2", lambda: sonic.getSimilarSongs2(artist_id, count=5), lambda r: "similarSongs2" in r),
        ("search2", lambda: sonic.search2(word), lambda r: a_track["id"] in {s["id"] for s in r["searchResult2"].get("song", [])}),
        ("star", lambda: sonic.star(sids=[song_id], albumIds=[release_id], artistIds=[artist_id]), lambda r: r["status"] == "ok"),
        ("getStarred", lambda: sonic.getStarred(), lambda r: [s["id"] for s in r["starred"]["song"]] == [song_id] and [a["id"] for a in r["starred"]["album"]] == [release_id]),
        ("getStarred2", lambda: sonic.getStarred2(), lambda r: [a["id"] for a in r["starred2"]["artist"]] == [artist_id]),
        ("setRating", lambda: sonic.setRating(song_id, 3), lambda r: sonic.getSong(song_id)["song"]["userRating"] == 3),
        ("scrobble", lambda: sonic.scrobble(song_id, submission=False), lambda r: sonic.getNowPlaying()["nowPlaying"]["entry"][0]["id"] == song_id),
        ("createPlaylist", lambda: sonic.createPlaylist(name="py-sonic list", songIds=ids[:2]), lambda r: r["playlist"]["songCount"] == 2),
    ]
    for name, make, holds in sweep:
        try:
            check(holds(make()), f"py-sonic {name}: unexpected answer")
        except Exception as error:  # a library error or a missing key: the answer broke what py-sonic expects
            check(False, f"py-sonic {name}: {type(error).__name__}: {error}")
    listed = next(p for p in sonic.getPlaylists()["playlists"]["playlist"] if p["name"] == "py-sonic list")
    sonic.updatePlaylist(listed["id"], name="py-sonic renamed", songIdsToAdd=[ids[2]], songIndexesToRemove=[0])
    got = sonic.getPlaylist(listed["id"])["playlist"]
    check(got["name"] == "py-sonic renamed" and [e["id"] for e in got["entry"]] == [ids[1], ids[2]], f"py-sonic updatePlaylist: {got}")
    sonic.deletePlaylist(listed["id"])
    check(raw.error_code("getPlaylist", id=listed["id"]) == 70, "py-sonic deletePlaylist")
    if lyrical:
        check(sonic.getLyrics(artist=lyrical[0]["artists"][0]["name"], title=lyrical[0]["title"])["lyrics"]["value"], "py-sonic getLyrics")
    # py-opensonic over what it was not used for above.
    check(a_track["id"] in {s.id for s in opensonic.search2(word).song or []}, "py-opensonic search2")
    check({a.id for a in opensonic.get_album_list("alphabeticalByName", size=500)} == set(releases), "py-opensonic getAlbumList")
    check([s.id for s in opensonic.get_starred().song or []] == [song_id], "py-opensonic getStarred")
    with open(os.path.join(options.publication, max((r for r in a_track["renditions"] if r["codecs"].startswith("mp4a") and r.get("url")), key=lambda r: r["bitrate"])["url"]), "rb") as handle:
        best_file = handle.read()
    check(opensonic.download(song_id) is not None and raw.call("download", id=song_id)[2] == best_file, "download sends the best file")

    # ---- formats and errors, as the spec defines them
    status, headers, body = raw.call("ping", fmt="jsonp", callback="answer")
    check(body.startswith(b"answer(") and body.endswith(b");") and json.loads(body[7:-2])["subsonic-response"]["status"] == "ok", f"jsonp: {body[:60]}")
    status, headers, body = raw.call("ping", fmt="jsonp", callback="alert(1)//")
    check(not body.startswith(b"alert"), "an unsafe JSONP callback name is not echoed")
    raw.xml("ping")
    raw.xml("getPlayQueue")
    raw.xml("getStarred2")
    raw.xml("getUser", username="ann@subsonic.test")
    check(Raw(base, {}).error_code("ping") == 10, "no credentials: error 10")
    check(Raw(base, {"apiKey": ann["key"], "u": "ann@subsonic.test"}).error_code("ping") == 43, "apiKey with u: error 43")
    check(Raw(base, {"apiKey": "msk_not-a-key"}).error_code("ping") == 44, "an unknown API key: error 44")
    check(Raw(base, {"u": "ann@subsonic.test", "p": "correct horse battery"}).error_code("ping") == 40, "the login password is not an app password: error 40")
    check(Raw(base, {"u": "ann@subsonic.test", "p": ann["password"]}).error_code("ping") is None, "p= with the app password in clear")
    check(raw.error_code("getUser", username="bob@subsonic.test") == 50, "another user's settings: error 50")
    check(raw.error_code("getAlbum", id="al-1") == 70, "an unknown album: error 70")
    check(raw.error_code("getAlbum") == 10, "getAlbum without id: error 10")
    check(Raw(base, {}).json("getOpenSubsonicExtensions")["status"] == "ok", "getOpenSubsonicExtensions answers without credentials")

    # ---- revoking
    status, _ = api(base, "DELETE", f"/api/me/subsonic/api-keys/{ann['keyId']}", ann["token"])
    check(status == 204 and raw.error_code("ping") == 44, "a revoked API key no longer signs in")
    status, _ = api(base, "DELETE", f"/api/me/subsonic/app-passwords/{ann['passwordId']}", bob["token"])
    check(status == 404, "one listener cannot revoke another's app password")
    status, _ = api(base, "DELETE", f"/api/me/subsonic/app-passwords/{ann['passwordId']}", ann["token"])
    check(status == 204 and Raw(base, {"u": "ann@subsonic.test", "p": ann["password"]}).error_code("ping") == 40, "a revoked app password no longer signs in")

    if failures:
        print(f"{len(failures)} subsonic checks failed", flush=True)
        sys.exit(1)
    print("all subsonic checks passed", flush=True)


if __name__ == "__main__":
    main()
