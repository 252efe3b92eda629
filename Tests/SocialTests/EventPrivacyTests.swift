import Foundation
import Social
import TestStores
import Testing

/// The event stream may show a viewer only what the REST endpoints show them, judged at delivery time: every event
/// kind, against every privacy setting and change of it.
@Suite("Event stream privacy")
struct EventPrivacyTests {
    let start = Date(timeIntervalSince1970: 1_900_000_000)

    func user(_ name: String, _ store: SocialStore) async throws -> Int64 {
        try await store.createAccount(email: "\(name)@example.org", passwordHash: "x", displayName: name, now: start)
    }

    struct Identified: Decodable {
        var id: Int64
    }

    /// What the stream holds for `viewer` (replay from the start, as `Last-Event-ID: 0` asks), by type: the ids of
    /// the payloads.
    func streamed(_ store: SocialStore, _ viewer: Int64, watching: [String] = []) async throws -> [String: [Int64]] {
        var result: [String: [Int64]] = [:]
        for event in try await store.events(for: viewer, watching: watching, after: 0) {
            let id = (try? JSONDecoder().decode(Identified.self, from: Data(event.data.utf8)).id) ?? 0
            result[event.type, default: []].append(id)
            // Live delivery decides with the same predicate as replay.
            #expect(try await store.admits(event, viewer: viewer))
        }
        return result
    }

    /// The activity ids the REST feed shows `viewer`.
    func feed(_ store: SocialStore, _ viewer: Int64) async throws -> [Int64] {
        try await store.feed(for: viewer, page: PageRequest(limit: 200)).items.map(\.id).sorted()
    }

    @Test("activity, comments, playlists, now playing and notifications reach a viewer by stream exactly when REST shows them", arguments: StoreBackend.all)
    func streamMatchesREST(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let owner = try await user("owner", store)
        let follower = try await user("follower", store)
        let collaborator = try await user("collaborator", store)
        let stranger = try await user("stranger", store)
        for fan in [follower, collaborator] { _ = try await store.follow(fan, owner, now: start) }

        // The owner makes a public playlist, invites a collaborator, comments on it, likes it, comments on a track,
        // and plays a track (now playing and, after 30 s, a listen).
        let playlist = try await store.createPlaylist(by: owner, name: "Mix", description: "", visibility: .public, now: start).value.id
        _ = try await store.addCollaborator(collaborator, to: playlist, by: owner, now: start)
        let onPlaylist = try await store.addComment(by: owner, on: .playlist, id: String(playlist), parentId: nil, body: "secret plans", embeds: [], now: start).value
        let reply = try await store.addComment(by: collaborator, on: .playlist, id: String(playlist), parentId: onPlaylist.id, body: "reply", embeds: [], now: start).value
        let playlistCommentIds: Set<Int64> = [onPlaylist.id, reply.id]
        _ = try await store.like(.playlist, String(playlist), by: owner, now: start)
        _ = try await store.addComment(by: owner, on: .track, id: "t1", parentId: nil, body: "great track", embeds: [], now: start)
        for second in stride(from: 0.0, through: 40, by: 10) {
            _ = try await store.reportProgress(
                of: owner, session: "s", trackId: "t1", trackDuration: 200, positionSeconds: second, state: .playing, now: start.addingTimeInterval(second))
        }

        func check(_ phase: String) async throws {
            for viewer in [follower, collaborator, stranger] {
                let stream = try await streamed(store, viewer, watching: ["playlist:\(playlist)", "track:t1"])
                #expect((stream["activity"] ?? []).sorted() == (try await feed(store, viewer)), "\(phase): activity of viewer \(viewer)")
                let seesPlaylist = try await store.canSee(playlist: playlist, viewer: viewer)
                let streamedComments = Set(stream["comment"] ?? [])
                #expect(seesPlaylist == streamedComments.isSuperset(of: playlistCommentIds), "\(phase): playlist comments for viewer \(viewer)")
                if !seesPlaylist {
                    #expect(streamedComments.isDisjoint(with: playlistCommentIds), "\(phase): playlist comments leaked to viewer \(viewer)")
                    #expect(stream["playlist"] == nil, "\(phase): playlist changes leaked to viewer \(viewer)")
                }
                // Now playing goes to the followers of the moment, and only while the setting admits them.
                let seesListening = try await store.canSeeListening(of: owner, viewer: viewer)
                let follows = try await store.profile(of: owner, viewer: viewer).followedByYou
                #expect((stream["now-playing"] != nil) == (seesListening && follows), "\(phase): now playing for viewer \(viewer)")
            }
        }

        try await check("everything public")
        #expect(try await streamed(store, follower)["activity"]?.isEmpty == false)
        #expect(try await streamed(store, follower)["now-playing"] != nil)

        _ = try await store.updatePlaylist(playlist, by: owner, name: nil, description: nil, visibility: .private, now: start)
        try await check("playlist made private")
        // The collaborator still sees it, the follower no longer does.
        #expect(try await streamed(store, collaborator, watching: ["playlist:\(playlist)"])["comment"]?.contains(onPlaylist.id) == true)
        #expect(try await streamed(store, follower, watching: ["playlist:\(playlist)"])["comment"] == nil)

        for visibility in [ListeningVisibility.nobody, .everyone, .followers] {
            _ = try await store.updateProfile(owner, displayName: nil, bio: nil, nowPlayingVisibility: visibility)
            try await check("listening visible to \(visibility)")
        }
        _ = try await store.updateProfile(owner, displayName: nil, bio: nil, nowPlayingVisibility: .nobody)
        #expect(try await streamed(store, follower)["now-playing"] == nil)
        #expect(try await streamed(store, follower)["activity"].map { Set($0) } == Set(try await feed(store, follower)))

        try await store.unfollow(follower, owner)
        try await check("follower unfollowed")
        #expect(try await streamed(store, follower)["activity"] == nil)

        try await store.removeCollaborator(collaborator, from: playlist, by: owner, now: start)
        try await check("collaborator removed")
        #expect(try await streamed(store, collaborator, watching: ["playlist:\(playlist)"])["comment"] == nil)
        // The reply notification the owner got is theirs to keep.
        #expect(try await streamed(store, owner)["notification"] != nil)
    }

    @Test("a replay is bounded in bytes and still delivers everything, in order, over several reads", arguments: StoreBackend.all)
    func boundedReplay(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let ann = try await user("ann", store)
        for index in 0..<30 {
            _ = try await store.addComment(by: ann, on: .track, id: "t", parentId: nil, body: String(repeating: "x", count: 4000) + "\(index)", embeds: [], now: start)
        }
        var after: Int64 = 0
        var reads = 0
        var received: [Int64] = []
        while true {
            let batch = try await store.events(for: ann, watching: ["track:t"], after: after, maxBytes: 20_000)
            guard let last = batch.last else { break }
            #expect(batch.count <= 6)
            received += batch.map(\.id)
            after = last.id
            reads += 1
        }
        #expect(received.count == 30 && received == received.sorted())
        #expect(reads >= 5)
    }
}
