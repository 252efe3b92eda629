import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestStores
import TestSupport

/// The whole path on a live server: fixtures ingested and published by the real tools, two users, live events
/// read by curl, playback decoded by ffmpeg.
@Suite("End to end on a live server", .serialized)
struct EndToEndTests {
    @Test("sign up two users, follow, comment and reply with the notification arriving over SSE, sync a queue between two devices, play a manifest and a media range", .serialized, arguments: StoreBackend.all)
    func endToEnd(_ backend: StoreBackend) async throws {
        let track = try PublishedFixtures.longestTrack()
        let document = try PublishedFixtures.trackDocument(track)
        let progressivePath = try #require((document["streams"] as? [String: Any])?["progressive"] as? String)
        let duration = try #require(document["duration"] as? Double)
        let media = try Data(contentsOf: try PublishedFixtures.get().appendingPathComponent(progressivePath))
        let server = try ServerUnderTest(backend) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let base = "http://127.0.0.1:\(try #require(api.port))"
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")

            // Ann's two devices listen for live events; the phone also watches the track's comments.
            let phone = try CurlEventStream(url: "\(base)/api/events?watch=track:\(track)", headers: ["Authorization: Bearer \(ann.accessToken)"])
            let laptop = try CurlEventStream(url: "\(base)/api/events?access_token=\(ann.accessToken)")
            defer {
                phone.stop()
                laptop.stop()
            }
            #expect(await phone.waitUntilConnected())
            #expect(await laptop.waitUntilConnected())

            try await api.call(.put, "/api/users/\(ann.userId)/follow", as: bob)
            let follow = await phone.waitFor { $0.type == "notification" && $0.data.contains(#""kind":"follow""#) }
            #expect(follow != nil, "no follow notification in \(phone.text)")

            let comment = try await api.object(.post, "/api/tracks/\(track)/comments", as: ann, json: ["body": "Listen to the end"], expect: .created)
            let reply = try await api.object(
                .post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "Lovely", "parentId": comment["id"] as? Int ?? 0], expect: .created)
            let replyId = try #require(reply["id"] as? Int)
            let notified = await phone.waitFor { $0.type == "notification" && $0.data.contains(#""kind":"reply""#) }
            #expect(notified?.data.contains(#""commentId":\#(replyId)"#) == true, "no reply notification in \(phone.text)")
            #expect(await phone.waitFor { $0.type == "comment" && $0.data.contains("Lovely") } != nil)
            #expect(await laptop.waitFor { $0.type == "notification" && $0.data.contains(#""kind":"reply""#) } != nil)
            #expect(laptop.events.allSatisfy { $0.type != "comment" }, "the laptop watches no track")

            // The laptop changes the queue; the phone gets it pushed.
            let written = try await api.object(.put, "/api/queue", as: ann, json: [
                "version": 0, "trackIds": [track], "currentIndex": 0, "positionSeconds": 12.5, "device": "laptop",
            ])
            #expect(written["version"] as? Int == 1)
            let pushed = await phone.waitFor { $0.type == "queue" }
            let queue = try pushed.map { try JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any] } ?? nil
            #expect(queue?["version"] as? Int == 1)
            #expect(queue?["device"] as? String == "laptop")
            #expect(queue?["trackIds"] as? [String] == [track])
            // The phone, still on version 0, is told to merge.
            let stale = try await api.call(.put, "/api/queue", as: ann, json: [
                "version": 0, "trackIds": [], "currentIndex": 0, "positionSeconds": 0, "device": "phone",
            ])
            #expect(stale.status == .conflict)

            // Playback: ffmpeg plays the HLS master through the server; curl fetches the last bytes of the file.
            let playback = try await api.object(.get, "/api/tracks/\(track)/playback", as: ann)
            let hls = try #require(playback["hls"] as? String)
            let (decoded, log) = try DecodedAudio.ffmpeg(base + hls)
            #expect(abs(decoded.seconds - duration) < 0.05, "ffmpeg decoded \(decoded.seconds) s of a \(duration) s track: \(log)")
            let progressive = try #require(playback["progressive"] as? String)
            let tail = try Repository.temporaryDirectory("tail").appendingPathComponent("tail.bin")
            let curl = try Command.run("/usr/bin/curl", ["-s", "-o", tail.path, "-w", "%{http_code}", "-H", "Range: bytes=-1000", base + progressive])
            #expect(String(decoding: curl.standardOutput, as: UTF8.self) == "206")
            #expect(try Data(contentsOf: tail) == media.suffix(1000))
        }
    }

    @Test("a client reconnecting with Last-Event-ID gets what it missed, then live events", .serialized, arguments: StoreBackend.all)
    func replayOnReconnect(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let server = try ServerUnderTest(backend) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let base = "http://127.0.0.1:\(try #require(api.port))"
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let url = "\(base)/api/events?watch=track:\(track)"
            let first = try CurlEventStream(url: url, headers: ["Authorization: Bearer \(ann.accessToken)"])
            #expect(await first.waitUntilConnected())
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "one"], expect: .created)
            let seen = try #require(await first.waitFor { $0.data.contains(#""body":"one""#) })
            first.stop()

            // While Ann is away:
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "two"], expect: .created)
            try await api.call(.put, "/api/users/\(ann.userId)/follow", as: bob)

            let second = try CurlEventStream(url: url, headers: ["Authorization: Bearer \(ann.accessToken)", "Last-Event-ID: \(seen.id)"])
            defer { second.stop() }
            #expect(await second.waitFor { $0.data.contains(#""body":"two""#) } != nil, "missed comment not replayed: \(second.text)")
            #expect(await second.waitFor { $0.type == "notification" } != nil)
            #expect(!second.text.contains(#""body":"one""#))
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "three"], expect: .created)
            #expect(await second.waitFor { $0.data.contains(#""body":"three""#) } != nil)
            let ids = second.events.compactMap { Int($0.id) }
            #expect(ids == ids.sorted() && Set(ids).count == ids.count, "events out of order or repeated: \(ids)")

            // Without a token, or watching what does not exist, there is no stream.
            #expect(try await api.call(.get, "/api/events").status == .unauthorized)
            #expect(try await api.call(.get, "/api/events?watch=track:nope", as: ann).status == .notFound)
        }
    }

    @Test("friends' activity and now playing reach followers over SSE, and not when the listener hides it", .serialized, arguments: StoreBackend.all)
    func friendActivity(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        try await ServerUnderTest(backend).withLiveServer { api in
            let base = "http://127.0.0.1:\(try #require(api.port))"
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            let stream = try CurlEventStream(url: "\(base)/api/events?access_token=\(ann.accessToken)")
            defer { stream.stop() }
            #expect(await stream.waitUntilConnected())

            #expect(try await api.call(.put, "/api/likes/track/\(track)", as: bob).status == .noContent)
            let liked = await stream.waitFor { $0.type == "activity" && $0.data.contains(#""kind":"like""#) }
            #expect(liked?.data.contains(track) == true, "no like activity: \(stream.text)")
            _ = try await api.object(.post, "/api/listens", as: bob, json: ["sessionId": "s", "trackId": track, "positionSeconds": 1, "state": "playing"])
            #expect(await stream.waitFor { $0.type == "now-playing" && $0.data.contains(track) } != nil, "no now-playing: \(stream.text)")

            _ = try await api.object(.patch, "/api/me", as: bob, json: ["nowPlayingVisibility": "nobody"])
            _ = try await api.object(.post, "/api/listens", as: bob, json: ["sessionId": "t", "trackId": track, "positionSeconds": 2, "state": "playing"])
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "marker"], expect: .created)
            #expect(await stream.waitFor { $0.type == "activity" && $0.data.contains("marker") } != nil)
            #expect(stream.events.filter { $0.type == "now-playing" }.count == 1, "a hidden listen was pushed: \(stream.text)")
        }
    }
}
