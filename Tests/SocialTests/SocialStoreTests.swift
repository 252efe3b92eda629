import Foundation
import Social
import TestStores
import Synchronization
import Testing

/// Store rules that the published fixtures (all shorter than 30 s, one catalog) cannot reach through the API.
@Suite("Social store")
struct SocialStoreTests {
    let start = Date(timeIntervalSince1970: 1_900_000_000)

    func user(_ name: String, _ store: SocialStore) async throws -> Int64 {
        try await store.createAccount(email: "\(name)@example.org", passwordHash: "x", displayName: name, now: start)
    }

    @Test("a listen counts after 30 s of playback of a long track, once per session; seeks and too-fast reports add nothing", arguments: StoreBackend.all)
    func listenThreshold(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let ann = try await user("ann", store)
        func report(_ session: String, _ position: Double, at seconds: Double) async throws -> Bool {
            try await store.reportProgress(
                of: ann, session: session, trackId: "t", trackDuration: 200, positionSeconds: position, state: .playing,
                now: start.addingTimeInterval(seconds)).value
        }
        #expect(try await report("a", 0, at: 0) == false)
        #expect(try await report("a", 15, at: 15) == false)
        #expect(try await report("a", 29, at: 29) == false)
        #expect(try await report("a", 31, at: 31) == true)
        #expect(try await report("a", 60, at: 60) == false)  // already counted
        #expect(try await store.playCount(of: "t") == 1)

        // A client claiming 40 s of progress after 5 s of wall time, or seeking ahead, gets no credit.
        #expect(try await report("b", 0, at: 100) == false)
        #expect(try await report("b", 40, at: 105) == false)
        #expect(try await report("b", 150, at: 110) == false)
        #expect(try await store.playCount(of: "t") == 1)

        // A track shorter than 30 s counts when played to its end.
        _ = try await store.reportProgress(
            of: ann, session: "c", trackId: "short", trackDuration: 10, positionSeconds: 0, state: .playing, now: start.addingTimeInterval(200))
        let end = try await store.reportProgress(
            of: ann, session: "c", trackId: "short", trackDuration: 10, positionSeconds: 9.8, state: .stopped, now: start.addingTimeInterval(210))
        #expect(end.value)
    }

    @Test("followers of a content owner hear about a new release of their artist; the first catalog look only takes note", arguments: StoreBackend.all)
    func releaseNotifications(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let owner = try await user("label", store)
        let fan = try await user("fan", store)
        try await store.grant(role: .owner, email: "label@example.org", artistIds: [7])
        _ = try await store.follow(fan, owner, now: start)
        #expect(try await store.recordReleases([1: 7, 2: 8], now: start).events.isEmpty)
        let events = try await store.recordReleases([1: 7, 2: 8, 3: 7, 4: 8], now: start).events
        #expect(events.map(\.type) == ["notification"])
        let notifications = try await store.notifications(for: fan, unreadOnly: true, page: PageRequest())
        #expect(notifications.items.map(\.kind) == [.release, ])
        #expect(notifications.items.first?.subjectId == "3")
        #expect(try await store.notifications(for: owner, unreadOnly: true, page: PageRequest()).items.map(\.kind) == [.follow])
    }

    /// Collects what the store publishes, in order.
    final class CollectedEvents: LiveEventSink {
        let events = Mutex<[LiveEvent]>([])
        func publish(_ events: [LiveEvent]) { self.events.withLock { $0 += events } }
    }

    @Test("a change's events reach the sink once it is committed, already stored; a refused change publishes nothing", arguments: StoreBackend.all)
    func eventsAfterCommit(_ backend: StoreBackend) async throws {
        let collected = CollectedEvents()
        let store = try await backend.store(events: collected)
        let ann = try await store.createAccount(email: "ann@example.org", passwordHash: "x", displayName: "Ann", now: start)
        let bob = try await store.createAccount(email: "bob@example.org", passwordHash: "x", displayName: "Bob", now: start)
        let before = try await store.latestEventId()
        _ = try await store.follow(bob, ann, now: start)
        let published = collected.events.withLock { $0 }
        #expect(published.map(\.type) == ["notification"])
        #expect(try await store.events(for: ann, watching: [], after: before).map(\.id) == published.map(\.id))
        let forum = try await store.createForum(name: "Loops", description: "", by: ann, now: start)
        await #expect(throws: SocialError.self) {
            try await store.createThread(in: forum.id, title: "Eleven", body: "x", embeds: (0..<11).map { Embed(kind: .track, id: "t\($0)") }, by: ann, now: start)
        }
        await #expect(throws: SocialError.self) { try await store.follow(ann, ann, now: start) }
        #expect(collected.events.withLock { $0 }.count == 1)
    }

    @Test("a thread and its first post are stored together: a refused post leaves no thread behind (issue 18)", arguments: StoreBackend.all)
    func threadWithFirstPost(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let ann = try await user("ann", store)
        let forum = try await store.createForum(name: "Loops", description: "", by: ann, now: start)
        let tooMany = (0..<11).map { Embed(kind: .track, id: "t\($0)") }
        await #expect(throws: SocialError.self) {
            try await store.createThread(in: forum.id, title: "Eleven", body: "all of these", embeds: tooMany, by: ann, now: start)
        }
        #expect(try await store.threads(in: forum.id, page: PageRequest()).items.isEmpty)
        let thread = try await store.createThread(in: forum.id, title: "One", body: "this", embeds: [], by: ann, now: start)
        #expect(thread.value.postCount == 1)
        #expect(try await store.comments(on: .thread, id: String(thread.value.id), page: PageRequest()).items.map(\.body) == ["this"])
    }

    @Test("stored events replay after an id, for the user and the subjects watched", arguments: StoreBackend.all)
    func eventReplay(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let ann = try await user("ann", store)
        let bob = try await user("bob", store)
        let before = try await store.latestEventId()
        _ = try await store.follow(bob, ann, now: start)
        _ = try await store.addComment(by: bob, on: .track, id: "t", parentId: nil, body: "hi", embeds: [], now: start)
        let forAnn = try await store.events(for: ann, watching: [], after: before)
        #expect(forAnn.map(\.type) == ["notification"])
        let watching = try await store.events(for: ann, watching: ["track:t"], after: before)
        #expect(watching.map(\.type) == ["notification", "comment"])
        #expect(try await store.events(for: ann, watching: ["track:t"], after: watching[0].id).map(\.type) == ["comment"])
    }

    @Test("a listener who hides their listening sends no now-playing or listen activity to followers", arguments: StoreBackend.all)
    func listeningPrivacyEvents(_ backend: StoreBackend) async throws {
        let store = try await backend.store()
        let ann = try await user("ann", store)
        let bob = try await user("bob", store)
        _ = try await store.follow(bob, ann, now: start)
        _ = try await store.updateProfile(ann, displayName: nil, bio: nil, nowPlayingVisibility: .nobody)
        var events: [LiveEvent] = []
        events += try await store.reportProgress(of: ann, session: "s", trackId: "t", trackDuration: 10, positionSeconds: 0, state: .playing, now: start).events
        events += try await store.reportProgress(
            of: ann, session: "s", trackId: "t", trackDuration: 10, positionSeconds: 9.9, state: .playing, now: start.addingTimeInterval(10)).events
        #expect(events.isEmpty)
        #expect(try await store.feed(for: bob, page: PageRequest()).items.isEmpty)
        #expect(try await store.friendsNowPlaying(viewer: bob, now: start.addingTimeInterval(10)).isEmpty)
    }
}
