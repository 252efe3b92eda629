import Foundation
import Testing
import TestSupport

/// The published fixtures served by a real nginx with the generated snippet, judged by ffmpeg, GStreamer, curl and
/// headless Chromium.
@Suite("Served by nginx")
struct ServingTests {
    /// A publication of the fixtures and an nginx serving it on a loopback port; `stop()` when done.
    struct Served {
        let out: URL
        let tree: PublishedTree
        let server: NginxServer
        let tracks: [String]

        init(extraServerBody: String = "") throws {
            let work = try IngestedFixtures.get()
            out = try Repository.temporaryDirectory("served").appendingPathComponent("out")
            let result = try publish(work, out)
            guard result.status == 0 else { throw SetupError(description: "musikk-publish: \(result.standardError)") }
            tree = PublishedTree(root: out)
            server = try NginxServer(serverBody: """
                root \(out.path);
                include \(out.path)/nginx/musikk.conf;
                \(extraServerBody)
                """)
            tracks = try tree.trackIDs()
        }

        func url(_ path: String) -> String { "\(server.baseURL)/\(path)" }

        func duration(of id: String) throws -> Double {
            try #require(try tree.json("api/tracks/\(id).json")["duration"] as? Double)
        }
    }

    /// A track's manifests: both HLS masters (AAC, Opus) and the MPD.
    static func manifests(of id: String) -> [String] {
        ["hls/\(id)/master.m3u8", "hls/\(id)/master-opus.m3u8", "dash/\(id).mpd"]
    }

    @Test("ffmpeg plays every track's HLS masters and DASH MPD through nginx to the end")
    func ffmpegPlaysEveryTrack() throws {
        let served = try Served()
        defer { served.server.stop() }
        #expect(served.tracks.count == 11)
        for id in served.tracks {
            let duration = try served.duration(of: id)
            for manifest in Self.manifests(of: id) {
                let (decoded, errors) = try DecodedAudio.ffmpeg(served.url(manifest))
                #expect(errors.isEmpty, "\(manifest): \(errors)")
                // Within one Opus frame (20 ms) or AAC frame (at most 23.2 ms) either way.
                #expect(abs(decoded.seconds - duration) <= 0.024, "\(manifest): \(decoded.seconds) s of \(duration) s")
            }
        }
    }

    @Test("GStreamer plays every track's HLS masters and DASH MPD through nginx to the end")
    func gstreamerPlaysEveryTrack() throws {
        let served = try Served()
        defer { served.server.stop() }
        for id in served.tracks {
            let duration = try served.duration(of: id)
            for manifest in Self.manifests(of: id) {
                var (decoded, result) = try DecodedAudio.gstreamer(uri: served.url(manifest))
                // GStreamer 1.22's DASH demuxers sometimes stall at the very start of the two-subsegment MPD over
                // HTTP when the machine is loaded (0 s played, killed by the timeout: 124, 137, or 9 for the
                // signal); on an idle machine they never have. Up to two more tries, same checks.
                for _ in 0..<2 where [9, 124, 137].contains(result.status) {
                    (decoded, result) = try DecodedAudio.gstreamer(uri: served.url(manifest))
                }
                #expect(result.status == 0, "\(manifest): \(result.standardError)")
                #expect(abs(decoded.seconds - duration) <= 0.05, "\(manifest): played \(decoded.seconds) s of \(duration) s")
            }
        }
    }

    @Test("every MPD validates against the DASH schema")
    func mpdsValidate() throws {
        let served = try Served()
        served.server.stop()
        let mpds = served.tree.files().filter { $0.hasSuffix(".mpd") }.map { served.out.appendingPathComponent($0).path }
        #expect(mpds.count == served.tracks.count)
        let result = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path] + mpds.sorted())
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test("a Range request on a media file returns 206 and exactly those bytes")
    func byteRanges() throws {
        let served = try Served()
        defer { served.server.stop() }
        let media = try #require(served.tree.files().filter { $0.hasPrefix("media/audio/") }.sorted().first)
        let bytes = try Data(contentsOf: served.out.appendingPathComponent(media))
        let body = try Repository.temporaryDirectory("range").appendingPathComponent("body")
        let result = try Command.run("curl", ["-sS", "-o", body.path, "-D", "-", "-r", "100-1099", served.url(media)])
        #expect(result.status == 0, "\(result.standardError)")
        let headers = Headers(result.text)
        #expect(headers.status == 206)
        #expect(headers["content-range"] == "bytes 100-1099/\(bytes.count)")
        #expect(try Data(contentsOf: body) == bytes.subdata(in: 100..<1100))
    }

    @Test("cache, type and CORS headers follow the rules; private files are not served")
    func headers() throws {
        let served = try Served()
        defer { served.server.stop() }
        let files = served.tree.files()
        let id = try #require(served.tracks.first)
        let cases: [(path: String, type: String, cache: String)] = [
            (try #require(files.first { $0.hasPrefix("media/audio/") && $0.hasSuffix(".mp4") }), "audio/mp4",
             "public, max-age=31536000, immutable"),
            (try #require(files.first { $0.hasPrefix("media/images/") && $0.hasSuffix(".png") }), "image/png",
             "public, max-age=31536000, immutable"),
            (try #require(files.first { $0.hasSuffix("waveform.json") }), "application/json",
             "public, max-age=31536000, immutable"),
            (try #require(files.first { $0.hasSuffix("waveform.dat") }), "application/octet-stream",
             "public, max-age=31536000, immutable"),
            ("hls/\(id)/master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=60"),
            ("hls/\(id)/aac-128k.m3u8", "application/vnd.apple.mpegurl", "public, max-age=60"),
            ("dash/\(id).mpd", "application/dash+xml", "public, max-age=60"),
            ("api/index.json", "application/json", "public, max-age=60"),
            ("api/tracks/\(id).json", "application/json", "public, max-age=60"),
            ("publish.json", "application/json", "no-cache"),
        ]
        for (path, type, cache) in cases {
            let result = try Command.run("curl", ["-sS", "-o", "/dev/null", "-D", "-", "-H", "Origin: https://player.example",
                                                  served.url(path)])
            let headers = Headers(result.text)
            #expect(headers.status == 200, "\(path)")
            #expect(headers["content-type"] == type, "\(path): \(headers["content-type"] ?? "none")")
            #expect(headers["cache-control"] == cache, "\(path): \(headers["cache-control"] ?? "none")")
            if path != "publish.json" {
                #expect(headers["access-control-allow-origin"] == "*", "\(path)")
            }
        }
        // A CORS preflight for a ranged fetch from another origin.
        let media = cases[0].path
        let preflight = Headers(try Command.run("curl", [
            "-sS", "-o", "/dev/null", "-D", "-", "-X", "OPTIONS", "-H", "Origin: https://player.example",
            "-H", "Access-Control-Request-Method: GET", "-H", "Access-Control-Request-Headers: range", served.url(media),
        ]).text)
        #expect(preflight.status == 204)
        #expect(preflight["access-control-allow-headers"]?.lowercased().contains("range") == true)
        #expect(preflight["access-control-allow-origin"] == "*")
        for hidden in ["_headers", "nginx/musikk.conf"] {
            #expect(files.contains(hidden), "\(hidden) should be in the publication")
            let status = Headers(try Command.run("curl", ["-sS", "-o", "/dev/null", "-D", "-", served.url(hidden)]).text).status
            #expect(status == 404, "\(hidden) is served (\(status))")
        }
    }

    @Test("headless Chromium plays a track's HLS master natively and its AAC file progressively")
    func chromiumPlays() throws {
        let page = try Repository.temporaryDirectory("player-page")
        try Self.playerPage.write(to: page.appendingPathComponent("play.html"), atomically: true, encoding: .utf8)
        let served = try Served(extraServerBody: """
            location /player-test/ { alias \(page.path)/; }
            location = /report { return 204; }
            """)
        defer { served.server.stop() }
        // A stereo AAC track of a few seconds: Tabla.
        let id = try #require(served.tracks.first { id in
            ((try? served.tree.json("api/tracks/\(id).json"))?["title"] as? String)?.contains("Tabla") == true
        })
        let track = try served.tree.json("api/tracks/\(id).json")
        let streams = try #require(track["streams"] as? [String: String])
        let sources = [try #require(streams["hls"]), try #require(streams["progressive"])]
        #expect(sources[1].hasSuffix(".mp4") && sources[1].contains("aac-128k"))
        for source in sources {
            // As encodeURIComponent writes it.
            let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.!~*'()"))
            let mine = "src=" + (("/" + source).addingPercentEncoding(withAllowedCharacters: unreserved) ?? source)
            let reports = try Chromium.open(
                served.url("player-test/play.html?src=/\(source)"), server: served.server,
                until: { $0.contains { $0.contains(mine) && ($0.contains("report?advanced") || $0.contains("report?error")) } }
            ).filter { $0.contains(mine) }
            #expect(reports.contains { $0.contains("report?advanced") }, "\(source): \(reports)")
            #expect(!reports.contains { $0.contains("report?error") }, "\(source): \(reports)")
            // Through the publication's own URLs: Chromium fetched the media from nginx.
            let fetched = served.server.requests().filter { $0.contains("/media/audio/") }
            #expect(!fetched.isEmpty)
        }
    }

    /// Plays `?src=` in an `<audio>` element and reports to `/report` (nginx logs it) once playback has passed
    /// 1.5 s of media time, or on an error.
    static let playerPage = """
        <!doctype html>
        <html><body><audio id="player"></audio><script>
        const player = document.getElementById('player');
        const source = new URLSearchParams(location.search).get('src');
        let reported = false;
        function report(what) {
          fetch('/report?' + what + '&t=' + player.currentTime.toFixed(3) + '&src=' + encodeURIComponent(source));
        }
        player.addEventListener('error', () => report('error=' + (player.error && player.error.code)));
        player.addEventListener('timeupdate', () => {
          if (!reported && player.currentTime > 1.5) { reported = true; report('advanced'); player.pause(); }
        });
        player.src = source;
        player.play().catch(error => report('error=' + encodeURIComponent(String(error))));
        </script></body></html>
        """
}

/// An HTTP response head as curl -D prints it.
struct Headers {
    var status = 0
    private var fields: [String: String] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\r\n").map(String.init) {
            if line.hasPrefix("HTTP/") {
                status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                fields = [:]
            } else if let colon = line.firstIndex(of: ":") {
                fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
    }

    subscript(name: String) -> String? { fields[name] }
}
