import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MusikkServer
import Testing
import TestStores
import TestSupport

@Suite("The Subsonic API", .serialized)
struct SubsonicTests {
    @Test("py-opensonic and py-sonic drive every method as two listeners; JSON meets the OpenSubsonic schemas, XML its namespace", .serialized, arguments: StoreBackend.all)
    func clientLibraries(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let port = try #require(api.port)
            let result = try await Command.runInBackground("/usr/bin/python3", [
                Repository.root.appendingPathComponent("Tests/Subsonic/clients.py").path, "--base", "http://127.0.0.1:\(port)",
                "--publication", try PublishedFixtures.get().path,
            ])
            #expect(result.status == 0, "\(result.text)\n\(result.standardError.suffix(3000))")
            #expect(result.text.contains("all subsonic checks passed"))
        }
    }

    @Test("supysonic, a peer server, names the same songs and albums on the same masters (what it reads differently aside), and its search hits are among ours")
    func peerServer() async throws {
        let server = try ServerUnderTest(.sqlite) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let result = try await Command.runInBackground("/usr/bin/python3", [
                Repository.root.appendingPathComponent("Tests/Subsonic/peer.py").path, "--musikk", "http://127.0.0.1:\(try #require(api.port))",
                "--masters", Repository.goodMasters.path,
            ])
            #expect(result.status == 0, "\(result.text)\n\(result.standardError.suffix(3000))")
            #expect(result.text.contains("all peer checks passed"))
        }
    }

    @Test("a scrobble counts a listen under the web app's rule: 30 s (or the track) of wall clock since now playing, once per play, never twice for the same time; now playing honours privacy", arguments: StoreBackend.all)
    func listenRule(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            let key = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: ann, expect: .created)["apiKey"] as? String)
            let track = try PublishedFixtures.longestTrack()
            let duration = try #require(try PublishedFixtures.trackDocument(track)["duration"] as? Double)
            // 30 s, or the whole of a shorter track (the fixtures are short): half a second of slack at the end.
            let threshold = min(30, duration - 0.5)
            func scrobble(_ submission: Bool, client: String = "phone") async throws -> String {
                let response = try await api.call(.get, "/rest/scrobble.view?apiKey=\(key)&f=json&c=\(client)&id=\(track)&submission=\(submission)")
                return String(buffer: response.body)
            }
            func plays() async throws -> Int { try await api.object(.get, "/api/tracks/\(track)", as: ann)["playCount"] as? Int ?? -1 }

            #expect(try await scrobble(false).contains(#""status":"ok""#))
            server.clock.advance(threshold - 1)
            _ = try await scrobble(true)
            #expect(try await plays() == 0, "\(threshold - 1) s is short of the threshold")
            _ = try await scrobble(false)
            server.clock.advance(threshold + 1)
            _ = try await scrobble(true)
            #expect(try await plays() == 1)
            _ = try await scrobble(true)
            #expect(try await plays() == 1, "the same play is counted once")
            // Two apps claiming the same seconds: the account's listening never exceeds the wall clock.
            _ = try await scrobble(false, client: "phone")
            _ = try await scrobble(false, client: "desktop")
            server.clock.advance(threshold + 1)
            _ = try await scrobble(true, client: "phone")
            _ = try await scrobble(true, client: "desktop")
            #expect(try await plays() == 2)
            // Bob's now playing, private to nobody, stays out of Ann's getNowPlaying even once she follows him.
            let bob = try await api.signUp("Bob")
            let bobKey = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: bob, expect: .created)["apiKey"] as? String)
            _ = try await api.object(.patch, "/api/me", as: bob, json: ["nowPlayingVisibility": "nobody"])
            _ = try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            _ = try await api.call(.get, "/rest/scrobble?apiKey=\(bobKey)&f=json&id=\(track)&submission=false")
            var seen = String(buffer: try await api.call(.get, "/rest/getNowPlaying?apiKey=\(key)&f=json").body)
            #expect(!seen.contains(#""username":"Bob""#), "\(seen)")
            _ = try await api.object(.patch, "/api/me", as: bob, json: ["nowPlayingVisibility": "followers"])
            seen = String(buffer: try await api.call(.get, "/rest/getNowPlaying?apiKey=\(key)&f=json").body)
            #expect(seen.contains(#""username":"Bob""#), "\(seen)")
        }
    }

    @Test("a play queue saved by an app reaches the listener's open web app at once", arguments: StoreBackend.all)
    func queuePushedLive(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let base = "http://127.0.0.1:\(try #require(api.port))"
            let ann = try await api.signUp("Ann")
            let key = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: ann, expect: .created)["apiKey"] as? String)
            let live = try CurlEventStream(url: "\(base)/api/events", headers: ["Authorization: Bearer \(ann.accessToken)"])
            defer { live.stop() }
            #expect(await live.waitUntilConnected())
            let ids = try PublishedFixtures.trackIds().prefix(2)
            let saved = try await api.call(.post, "/rest/savePlayQueue", headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(
                string: "apiKey=\(key)&f=json&c=Sym+phonium&id=\(ids.joined(separator: "&id="))&current=\(ids.last ?? "")&position=4000"))
            #expect(String(buffer: saved.body).contains(#""status":"ok""#))
            let pushed = await live.waitFor { $0.type == "queue" }
            #expect(pushed?.data.contains(#""device":"Sym phonium (Subsonic)""#) == true, "\(live.text)")
            #expect(pushed?.data.contains(#""currentIndex":1"#) == true && pushed?.data.contains(#""positionSeconds":4"#) == true)
        }
    }

    @Test("API keys only: token and password sign-ins get errors 41 and 42; lock-outs answer 429 with Retry-After, and end", arguments: [StoreBackend.sqlite])
    func authenticationPolicy(_ backend: StoreBackend) async throws {
        let keysOnly = try ServerUnderTest(backend) { $0.subsonicLegacyAuthentication = false }
        try await keysOnly.withRouter { api in
            let ann = try await api.signUp("Ann")
            let key = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: ann, expect: .created)["apiKey"] as? String)
            let password = try #require(try await api.object(.post, "/api/me/subsonic/app-passwords", as: ann, expect: .created)["password"] as? String)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&t=0123&s=abc") == 41)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&p=\(password)") == 42)
            #expect(try await Self.code(api, "/rest/ping?f=json&apiKey=\(key)") == nil)
        }
        let strict = try ServerUnderTest(backend) { $0.loginFailuresPerAccount = 2; $0.loginAttemptsPerAddress = 50 }
        try await strict.withRouter { api in
            let ann = try await api.signUp("Ann")
            let password = try #require(try await api.object(.post, "/api/me/subsonic/app-passwords", as: ann, expect: .created)["password"] as? String)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&p=\(password)") == nil)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&p=enc:%C3%A9") == 40)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&p=wrong") == 40)
            let locked = try await api.call(.get, "/rest/ping?f=json&u=ANN@example.org&p=\(password)")
            #expect(locked.status == .tooManyRequests && locked.headers[.retryAfter] != nil && String(buffer: locked.body).contains(#""code":40"#))
            strict.clock.advance(strict.configuration.loginWindow + 1)
            #expect(try await Self.code(api, "/rest/ping?f=json&u=ann@example.org&p=\(password)") == nil, "the lock-out ends with its window")
        }
    }

    @Test("answers carry any text: XML that xmllint reads back, JSON that JSONSerialization reads back, form bodies decoded")
    func rendering() throws {
        let nasty = "Tom & \"Jerry\" <b>'s</b>\t\u{1}\u{2028} — ünïcödé 🎵 </script>"
        var song = SubsonicNode("song")
        song.set("title", nasty)
        song.set("gain", 0.0)
        song.set("nan", Double.nan)
        song.addList("genres", [])
        var line = SubsonicNode("line")
        line.text = nasty
        song.addList("line", [line])
        var payload = SubsonicNode("")
        payload.add(song)
        for format in [SubsonicFormat.xml, .json] {
            let data = Data(SubsonicEnvelope.text(payload, format: format, serverVersion: "test").body.utf8)
            let expected = nasty.replacingOccurrences(of: "\u{1}", with: format == .xml ? "" : "\u{1}")
            if format == .xml {
                let file = try Repository.temporaryDirectory("subsonic-xml").appendingPathComponent("answer.xml")
                try data.write(to: file)
                // xmllint ends what it prints with a newline of its own.
                func xpath(_ expression: String) throws -> String {
                    let text = String(decoding: try Command.run("/usr/bin/xmllint", ["--xpath", expression, file.path]).standardOutput, as: UTF8.self)
                    return text.hasSuffix("\n") ? String(text.dropLast()) : text
                }
                #expect(try xpath("namespace-uri(/*)") == "http://subsonic.org/restapi")
                #expect(try xpath("string(//*[local-name()='song']/@title)") == expected)
                #expect(try xpath("string(//*[local-name()='song']/@gain)") == "0.0" && (try xpath("count(//*[local-name()='song']/@nan)")) == "0")
                #expect(try xpath("string(//*[local-name()='line'])") == expected)
            } else {
                let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                let answer = try #require(root["subsonic-response"] as? [String: Any])
                let song = try #require(answer["song"] as? [String: Any])
                #expect(song["title"] as? String == expected && song["gain"] as? Double == 0.0 && song["nan"] == nil)
                #expect((song["genres"] as? [Any])?.isEmpty == true)
                #expect(((song["line"] as? [[String: Any]])?.first?["value"] as? String) == expected)
                #expect(!String(decoding: data, as: UTF8.self).contains("</script>"))
            }
        }
        let parameters = try SubsonicParameters(query: "id=a&id=b", form: "query=rock+%26+roll%2B&c=My%20App&flag")
        #expect(parameters.all("id") == ["a", "b"] && parameters.first("query") == "rock & roll+" && parameters.first("c") == "My App")
        #expect(parameters.first("flag") == "" && parameters.first("missing") == nil)
        #expect(SubsonicFormat(try SubsonicParameters(query: "f=jsonp&callback=x.y$_1", form: nil)) == .jsonp(callback: "x.y$_1"))
        #expect(SubsonicFormat(try SubsonicParameters(query: "f=jsonp&callback=alert(1)", form: nil)) == .json)
        // p=enc: is hex of UTF-8, read byte by byte: a multi-byte character there is refused, not read past its end.
        #expect(SubsonicAuthenticator.hexDecoded("68C3a9") == "hé" && SubsonicAuthenticator.hexDecoded("é") == nil)
        #expect(SubsonicAuthenticator.hexDecoded("6") == nil && SubsonicAuthenticator.hexDecoded("zz") == nil && SubsonicAuthenticator.hexDecoded("c3") == nil)
    }

    /// The Subsonic error code of an answer, nil when it succeeded.
    static func code(_ api: API, _ path: String) async throws -> Int? {
        let body = try await api.call(.get, path).body
        let answer = (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["subsonic-response"] as? [String: Any]
        return (answer?["error"] as? [String: Any])?["code"] as? Int
    }
}
