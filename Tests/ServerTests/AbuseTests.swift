import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MusikkServer
import NIOCore
import Testing
import TestStores
import TestSupport

/// What a pentester tried on a live instance (issue 16), each as a class of requests rather than the one request
/// that showed it.
@Suite("Under attack: no request kills the server, nothing private leaks, abuse is bounded")
struct AbuseTests {
    /// Every list endpoint that takes `cursor` and `limit`, for a signed-in user `id`.
    static func listPaths(user id: Int64, track: String, release: Int) -> [String] {
        [
            "/api/tracks", "/api/releases", "/api/artists", "/api/forums", "/api/feed", "/api/notifications",
            "/api/users/\(id)/followers", "/api/users/\(id)/following", "/api/users/\(id)/playlists", "/api/users/\(id)/likes",
            "/api/users/\(id)/listens", "/api/tracks/\(track)/comments", "/api/releases/\(release)/comments",
        ]
    }

    @Test("no cursor or limit value makes a list fail with a server error or stop the server", .serialized, arguments: StoreBackend.all)
    func extremeCursors(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let release = try #require(try await api.items("/api/releases", as: ann).first?["id"] as? Int)
            let cursors = ["9223372036854775807", "9223372036854775806", "-9223372036854775808", "-1", "0", "1", "+1", "01", " 1",
                           "9223372036854775808", "99999999999999999999999", "1e3", "0x10", "", "abc"]
            let limits = ["1", "200", "0", "-1", "201", "9223372036854775807", "-9223372036854775808", "x"]
            for path in Self.listPaths(user: ann.userId, track: track, release: release) {
                for cursor in cursors {
                    for limit in limits {
                        let query = "cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&limit=\(limit)"
                        let response = try await api.call(.get, "\(path)?\(query)", as: ann)
                        #expect([.ok, .badRequest].contains(response.status), "\(path)?\(query): \(response.status)")
                    }
                }
            }
            #expect(try await api.call(.get, "/health").status == .ok)
        }
    }

    @Test("ids are accepted only as written canonically: +1, 01 and 1.0 name nothing, so no shadow thread appears", .serialized, arguments: StoreBackend.all)
    func canonicalIds(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let release = try #require(try await api.items("/api/releases", as: ann).first?["id"] as? Int)
            for id in ["+\(release)", "0\(release)", "\(release).0", "%20\(release)", "\(release)%00"] {
                let post = try await api.call(.post, "/api/releases/\(id)/comments", as: ann, json: ["body": "shadow"])
                #expect(post.status == .notFound, "releases/\(id)")
                #expect(try await api.call(.get, "/api/users/\(id)", as: ann).status == .notFound, "users/\(id)")
            }
            _ = try await api.object(.post, "/api/releases/\(release)/comments", as: ann, json: ["body": "real"], expect: .created)
            let comments = try await api.items("/api/releases/\(release)/comments", as: ann)
            #expect(comments.count == 1)
        }
    }

    @Test("stored texts are bounded in bytes as well as characters, and a page of comments is bounded however big they are", .serialized, arguments: StoreBackend.all)
    func boundedResponses(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let server = try ServerUnderTest(backend) { $0.postsPerMinute = 1000; $0.writesPerMinute = 1000 }
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            let heavy = String(repeating: "a" + String(repeating: "\u{0301}", count: 40), count: 60)
            let rename = try await api.call(.patch, "/api/me", as: ann, json: ["displayName": heavy])
            #expect(rename.status == .unprocessableContent)
            let bio = try await api.call(.patch, "/api/me", as: ann, json: ["bio": String(repeating: "e\u{0301}\u{0302}", count: 900)])
            #expect(bio.status == .unprocessableContent)

            // 80 comments of 5,000 three-byte characters (15 kB each, 1.2 MB in all) and a page asking for 200.
            let body = String(repeating: "€", count: 5000)
            for _ in 0..<80 { _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: ann, json: ["body": body], expect: .created) }
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let response = try await api.call(.get, "/api/tracks/\(track)/comments?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), as: ann)
                #expect(response.body.readableBytes <= CommentsController.pageBudget + 20_000)
                let page = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 80 && Set(seen).count == 80 && seen == seen.sorted(by: >))
        }
    }

    @Test("comments on a private playlist never reach a follower's event stream: not live, not on replay, not by watching it", .serialized, arguments: StoreBackend.all)
    func privatePlaylistEvents(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend) { $0.clock = { Date() } }.withLiveServer { api in
            let base = "http://127.0.0.1:\(try #require(api.port))"
            let owner = try await api.signUp("Owner")
            let fan = try await api.signUp("Fan")
            try await api.call(.put, "/api/users/\(owner.userId)/follow", as: fan)
            let open = try await api.object(.post, "/api/playlists", as: owner, json: ["name": "Open", "visibility": "public"], expect: .created)
            let openId = try #require(open["id"] as? Int)
            let hidden = try await api.object(.post, "/api/playlists", as: owner, json: ["name": "Hidden", "visibility": "private"], expect: .created)
            let hiddenId = try #require(hidden["id"] as? Int)

            let live = try CurlEventStream(url: "\(base)/api/events?watch=playlist:\(openId)", headers: ["Authorization: Bearer \(fan.accessToken)"])
            defer { live.stop() }
            #expect(await live.waitUntilConnected())
            _ = try await api.object(.post, "/api/playlists/\(hiddenId)/comments", as: owner, json: ["body": "private words"], expect: .created)
            _ = try await api.object(.post, "/api/playlists/\(openId)/comments", as: owner, json: ["body": "public words"], expect: .created)
            #expect(await live.waitFor { $0.data.contains("public words") } != nil)
            // The watched playlist turns private: its comments stop.
            _ = try await api.object(.patch, "/api/playlists/\(openId)", as: owner, json: ["visibility": "private"])
            _ = try await api.object(.post, "/api/playlists/\(openId)/comments", as: owner, json: ["body": "now private words"], expect: .created)
            _ = try await api.object(.post, "/api/tracks/\(try #require(try PublishedFixtures.trackIds().first))/comments", as: owner, json: ["body": "marker"], expect: .created)
            #expect(await live.waitFor { $0.data.contains("marker") } != nil)
            #expect(!live.text.contains("private words"), "leaked live: \(live.text)")

            let replay = try CurlEventStream(url: "\(base)/api/events", headers: ["Authorization: Bearer \(fan.accessToken)", "Last-Event-ID: 0"])
            defer { replay.stop() }
            #expect(await replay.waitFor { $0.data.contains("marker") } != nil)
            #expect(!replay.text.contains("private words") && !replay.text.contains("public words"), "leaked on replay: \(replay.text)")
            // The REST feed agrees.
            let feed = try await api.items("/api/feed", as: fan)
            #expect(!feed.contains { ($0["summary"] as? String)?.contains("private") == true })
        }
    }

    @Test("a log-in takes as long for an unknown email as for a known one (the decoy hash has the configured cost)", .serialized, arguments: StoreBackend.all)
    func loginTiming(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend) { $0.bcryptCost = 10; $0.loginAttemptsPerAddress = 100; $0.loginFailuresPerAccount = 100 }
        try await server.withRouter { api in
            _ = try await api.signUp("Ann")
            func seconds(_ email: String) async throws -> Double {
                let start = ContinuousClock.now
                let response = try await api.call(.post, "/api/auth/login", json: ["email": email, "password": "wrong password"])
                #expect(response.status == .unauthorized)
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
            }
            // Pairs measured back to back, so that whatever else loads the machine weighs on both of a pair alike;
            // the median of the pairs' ratios. With a cheaper decoy (cost 4 against 10) it is about 1/64.
            var ratios: [Double] = []
            for _ in 0..<9 {
                let known = try await seconds("ann@example.org")
                let unknown = try await seconds("nobody@example.org")
                ratios.append(unknown / known)
            }
            let median = ratios.sorted()[4]
            #expect(median > 0.33 && median < 3, "unknown / known per pair: \(ratios)")
        }
    }

    @Test("two tabs refreshing with one token at once both stay signed in; reuse after the grace signs the whole family out", .serialized, arguments: StoreBackend.all)
    func refreshRace(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            let successors = try await withThrowingTaskGroup(of: Session.self) { group in
                for _ in 0..<8 {
                    group.addTask { try API.session(try await api.object(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken])) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(successors.count == 8)
            for session in successors { #expect(try await api.call(.get, "/api/me", as: session).status == .ok) }
            // A successor keeps working...
            let next = try API.session(try await api.object(.post, "/api/auth/refresh", json: ["refreshToken": successors[0].refreshToken]))
            // ...until the original is replayed after the grace: then every token of the family is dead.
            server.clock.advance(server.configuration.refreshTokenReuseGrace + 1)
            #expect(api.errorCode(try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken])) == "refresh_token_reused")
            for token in successors.dropFirst().map(\.refreshToken) + [next.refreshToken] {
                #expect(api.errorCode(try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": token])) == "invalid_refresh_token")
            }
        }
    }

    @Test("parallel listening sessions of one account never count more listening than wall-clock time", .serialized, arguments: StoreBackend.all)
    func listenInflation(_ backend: StoreBackend) async throws {
        let track = try PublishedFixtures.longestTrack()
        let duration = try #require(try PublishedFixtures.trackDocument(track)["duration"] as? Double)
        let server = try ServerUnderTest(backend) { $0.writesPerMinute = 100_000 }
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            func report(_ session: Int, _ position: Double) async throws -> Bool {
                let answer = try await api.object(.post, "/api/listens", as: ann, json: [
                    "sessionId": "s\(session)", "trackId": track, "positionSeconds": position, "state": "playing"])
                return answer["counted"] as? Bool ?? false
            }
            // 50 sessions, each claiming to play the track from the start, reporting every second of wall time.
            var counted = 0
            var elapsed = 0.0
            while elapsed <= duration + 2 {
                for session in 0..<50 { if try await report(session, min(elapsed, duration)) { counted += 1 } }
                server.clock.advance(1)
                elapsed += 1
            }
            // A track shorter than 30 s counts when played to its end: at most one per track length of wall time.
            let allowed = Int((elapsed / max(1, min(30, duration - 0.5))).rounded(.down))
            #expect(try await api.object(.get, "/api/tracks/\(track)", as: ann)["playCount"] as? Int == counted)
            #expect(counted >= 1 && counted <= allowed, "\(counted) listens in \(elapsed) s of a \(duration) s track")
        }
    }
}
