import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestStores
import TestSupport

@Suite("Profiles, follows, comments, forums, playlists, likes, notifications, feed, search")
struct SocialFeatureTests {
    @Test("profiles: edit my own name, bio and avatar; others see them; an avatar must be a real image", .serialized, arguments: StoreBackend.all)
    func profiles(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            _ = try await api.object(.patch, "/api/me", as: ann, json: ["displayName": "Ann Lee", "bio": "Plays tabla.\nLikes loops."])
            let seen = try await api.object(.get, "/api/users/\(ann.userId)", as: bob)
            #expect(seen["displayName"] as? String == "Ann Lee")
            #expect(seen["bio"] as? String == "Plays tabla.\nLikes loops.")
            #expect(seen["email"] == nil)

            let tooLong = try await api.call(.patch, "/api/me", as: ann, json: ["bio": String(repeating: "x", count: 1001)])
            #expect(tooLong.status == .unprocessableContent)

            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32)
            let put = try await api.call(.put, "/api/me/avatar", as: ann, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: png))
            #expect(put.status == .ok)
            let avatarURL = try #require((try await api.object(.get, "/api/users/\(ann.userId)", as: bob))["avatarUrl"] as? String)
            let avatar = try await api.call(.get, avatarURL, as: bob)
            #expect(avatar.headers[.contentType] == "image/png")
            #expect(Array(avatar.body.readableBytesView) == png)

            let html = try await api.call(.put, "/api/me/avatar", as: ann, headers: [.contentType: "text/html"], body: ByteBuffer(string: "<script>"))
            #expect(html.status == .unsupportedMediaType)
            let fake = try await api.call(.put, "/api/me/avatar", as: ann, headers: [.contentType: "image/png"], body: ByteBuffer(string: "<svg onload=x>"))
            #expect(fake.status == .unprocessableContent)
            // No route edits someone else's profile.
            #expect(try await api.call(.patch, "/api/users/\(bob.userId)", as: ann, json: ["displayName": "x"]).status.code >= 400)
        }
    }

    @Test("follow and unfollow; followers and following lists, paginated", .serialized, arguments: StoreBackend.all)
    func follows(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let cat = try await api.signUp("Cat")
            #expect(try await api.call(.put, "/api/users/\(ann.userId)/follow", as: bob).status == .noContent)
            #expect(try await api.call(.put, "/api/users/\(ann.userId)/follow", as: cat).status == .noContent)
            #expect(try await api.call(.put, "/api/users/\(ann.userId)/follow", as: cat).status == .noContent)  // again: no change

            let first = try await api.object(.get, "/api/users/\(ann.userId)/followers?limit=1", as: ann)
            #expect((first["items"] as? [[String: Any]])?.map { $0["displayName"] as? String } == ["Cat"])
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await api.object(.get, "/api/users/\(ann.userId)/followers?limit=1&cursor=\(cursor)", as: ann)
            #expect((second["items"] as? [[String: Any]])?.map { $0["displayName"] as? String } == ["Bob"])
            #expect(second["nextCursor"] == nil)

            #expect(try await api.items("/api/users/\(bob.userId)/following", as: ann).map { $0["id"] as? Int } == [Int(ann.userId)])
            #expect((try await api.object(.get, "/api/users/\(ann.userId)", as: bob))["followedByYou"] as? Bool == true)
            #expect(try await api.call(.delete, "/api/users/\(ann.userId)/follow", as: bob).status == .noContent)
            #expect(try await api.items("/api/users/\(ann.userId)/followers", as: ann).count == 1)

            #expect(try await api.call(.put, "/api/users/\(ann.userId)/follow", as: ann).status == .unprocessableContent)
            #expect(try await api.call(.put, "/api/users/999/follow", as: ann).status == .notFound)
            #expect(try await api.call(.get, "/api/users/abc", as: ann).status == .notFound)
            #expect(try await api.call(.get, "/api/users/\(ann.userId)/followers?limit=0", as: ann).status == .badRequest)
        }
    }

    @Test("comments with nested replies on a track; edit and delete one's own only; text comes back as data", .serialized, arguments: StoreBackend.all)
    func comments(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let path = "/api/tracks/\(track)/comments"
            let top = try await api.object(.post, path, as: ann, json: ["body": "<script>alert(1)</script> great loop"], expect: .created)
            let topId = try #require(top["id"] as? Int)
            let reply = try await api.object(.post, path, as: bob, json: ["body": "agreed", "parentId": topId], expect: .created)
            let replyId = try #require(reply["id"] as? Int)
            _ = try await api.object(.post, path, as: ann, json: ["body": "thanks", "parentId": replyId], expect: .created)

            let raw = try await api.call(.get, path, as: bob)
            #expect(raw.headers[.contentType] == "application/json; charset=utf-8")
            #expect(raw.headers[.xContentTypeOptions] == "nosniff")
            let list = try await api.items(path, as: bob)
            #expect(list.count == 1)
            #expect(list.first?["body"] as? String == "<script>alert(1)</script> great loop")
            let replies = list.first?["replies"] as? [[String: Any]] ?? []
            #expect(replies.map { $0["body"] as? String } == ["agreed"])
            #expect((replies.first?["replies"] as? [[String: Any]])?.map { $0["body"] as? String } == ["thanks"])

            #expect(try await api.call(.patch, "/api/comments/\(topId)", as: bob, json: ["body": "hijacked"]).status == .forbidden)
            #expect(try await api.call(.delete, "/api/comments/\(topId)", as: bob).status == .forbidden)
            let edited = try await api.object(.patch, "/api/comments/\(topId)", as: ann, json: ["body": "great loop"])
            #expect(edited["editedAt"] != nil)
            #expect(try await api.call(.delete, "/api/comments/\(replyId)", as: bob).status == .noContent)
            let after = try await api.items(path, as: ann)
            let deleted = (after.first?["replies"] as? [[String: Any]])?.first
            #expect(deleted?["deleted"] as? Bool == true)
            #expect(deleted?["body"] as? String == "")
            #expect((deleted?["replies"] as? [[String: Any]])?.count == 1)  // the reply to it stays

            #expect(try await api.call(.post, "/api/tracks/nope/comments", as: ann, json: ["body": "x"]).status == .notFound)
            #expect(try await api.call(.post, path, as: ann, json: ["body": ""]).status == .unprocessableContent)
            #expect(try await api.call(.post, path, as: ann, json: ["body": "x", "parentId": 99999]).status == .unprocessableContent)
        }
    }

    @Test("the comment list filtered to people I follow", .serialized, arguments: StoreBackend.all)
    func commentsFromFollowing(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let cat = try await api.signUp("Cat")
            try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            let path = "/api/tracks/\(track)/comments"
            let bobs = try await api.object(.post, path, as: bob, json: ["body": "from Bob"], expect: .created)
            _ = try await api.object(.post, path, as: cat, json: ["body": "from Cat"], expect: .created)
            _ = try await api.object(.post, path, as: bob, json: ["body": "Bob replies", "parentId": bobs["id"] as? Int ?? 0], expect: .created)
            let mine = try await api.items("\(path)?from=following", as: ann)
            #expect(mine.map { $0["body"] as? String } == ["Bob replies", "from Bob"])
            #expect(try await api.items(path, as: ann).count == 2)
        }
    }

    @Test("forums and threads; a post embeds a track, returned with what a client needs to play it; unknown embeds refused", .serialized, arguments: StoreBackend.all)
    func forums(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let title = try #require((try PublishedFixtures.trackDocument(track))["title"] as? String)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let forum = try await api.object(.post, "/api/forums", as: ann, json: ["name": "Loops", "description": "Share loops"], expect: .created)
            let forumId = try #require(forum["id"] as? Int)
            #expect(try await api.call(.post, "/api/forums", as: bob, json: ["name": "loops"]).status == .conflict)

            let thread = try await api.object(
                .post, "/api/forums/\(forumId)/threads", as: ann,
                json: ["title": "Best loop", "body": "Listen to this", "embeds": [["kind": "track", "id": track]]], expect: .created)
            let threadId = try #require(thread["id"] as? Int)
            #expect(thread["postCount"] as? Int == 1)
            _ = try await api.object(.post, "/api/threads/\(threadId)/comments", as: bob, json: ["body": "Nice"], expect: .created)

            let posts = try await api.items("/api/threads/\(threadId)/comments", as: bob)
            // A thread reads from its first post with `order=oldest`, page after page (the web app's thread view).
            for _ in 0..<3 { _ = try await api.object(.post, "/api/threads/\(threadId)/comments", as: bob, json: ["body": "more"], expect: .created) }
            var oldestFirst: [Int] = []
            var cursor: String? = ""
            while let next = cursor {
                let page = try await api.object(.get, "/api/threads/\(threadId)/comments?order=oldest&limit=2\(next.isEmpty ? "" : "&cursor=\(next)")", as: bob)
                oldestFirst += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                cursor = page["nextCursor"] as? String
            }
            let newestFirst = try await api.items("/api/threads/\(threadId)/comments?limit=50", as: bob).compactMap { $0["id"] as? Int }
            #expect(oldestFirst.count == 5 && oldestFirst == newestFirst.reversed(), "\(oldestFirst) vs \(newestFirst)")
            #expect(try await api.call(.get, "/api/threads/\(threadId)/comments?order=sideways", as: bob).status == .badRequest)
            let first = try #require(posts.last)
            let embed = try #require((first["embeds"] as? [[String: Any]])?.first)
            let item = try #require(embed["item"] as? [String: Any])
            #expect(item["title"] as? String == title)
            #expect(item["trackIds"] as? [String] == [track])
            let playback = try #require(item["playback"] as? String)
            #expect((try await api.object(.get, playback, as: bob))["hls"] is String)

            let bad = try await api.call(
                .post, "/api/forums/\(forumId)/threads", as: ann, json: ["title": "x", "body": "y", "embeds": [["kind": "track", "id": "nope"]]])
            #expect(bad.status == .unprocessableContent)
            #expect(api.errorCode(bad) == "invalid_embeds")
            #expect(try await api.items("/api/forums/\(forumId)/threads", as: bob).count == 1)
            #expect((try await api.object(.get, "/api/threads/\(threadId)", as: bob))["forum"] is [String: Any])
            #expect(try await api.items("/api/forums", as: bob).count == 1)
        }
    }

    @Test("playlists: private ones stay private, only the owner edits details, collaborators edit tracks, reorder checks its input", .serialized, arguments: StoreBackend.all)
    func playlists(_ backend: StoreBackend) async throws {
        let tracks = try PublishedFixtures.trackIds()
        try #require(tracks.count >= 3)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let secret = try await api.object(.post, "/api/playlists", as: ann, json: ["name": "Secret"], expect: .created)
            let secretId = try #require(secret["id"] as? Int)
            #expect(secret["visibility"] as? String == "private")
            #expect(try await api.call(.get, "/api/playlists/\(secretId)", as: bob).status == .notFound)
            #expect(try await api.call(.post, "/api/playlists/\(secretId)/tracks", as: bob, json: ["trackId": tracks[0]]).status == .notFound)
            #expect(try await api.call(.get, "/api/playlists/\(secretId)/comments", as: bob).status == .notFound)
            #expect(try await api.call(.put, "/api/likes/playlist/\(secretId)", as: bob).status == .notFound)
            #expect(try await api.items("/api/users/\(ann.userId)/playlists", as: bob).isEmpty)
            #expect(try await api.items("/api/users/\(ann.userId)/playlists", as: ann).count == 1)

            let shared = try await api.object(.post, "/api/playlists", as: ann, json: ["name": "Shared", "visibility": "public"], expect: .created)
            let id = try #require(shared["id"] as? Int)
            for track in tracks.prefix(3) {
                _ = try await api.object(.post, "/api/playlists/\(id)/tracks", as: ann, json: ["trackId": track])
            }
            #expect(try await api.call(.post, "/api/playlists/\(id)/tracks", as: bob, json: ["trackId": tracks[0]]).status == .forbidden)
            #expect(try await api.call(.patch, "/api/playlists/\(id)", as: bob, json: ["name": "Mine"]).status == .forbidden)
            #expect(try await api.call(.post, "/api/playlists/\(id)/tracks", as: ann, json: ["trackId": "nope"]).status == .notFound)

            _ = try await api.object(.put, "/api/playlists/\(id)/collaborators/\(bob.userId)", as: ann)
            let added = try await api.object(.post, "/api/playlists/\(id)/tracks", as: bob, json: ["trackId": tracks[1], "position": 0])
            let entries = try #require(added["entries"] as? [[String: Any]])
            #expect(entries.map { $0["trackId"] as? String } == [tracks[1], tracks[0], tracks[1], tracks[2]])
            #expect(try await api.call(.patch, "/api/playlists/\(id)", as: bob, json: ["name": "Mine"]).status == .forbidden)

            let ids = entries.compactMap { $0["id"] as? Int }
            let reordered = try await api.object(.put, "/api/playlists/\(id)/order", as: bob, json: ["entryIds": Array(ids.reversed())])
            #expect((reordered["entries"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == Array(ids.reversed()))
            #expect(try await api.call(.put, "/api/playlists/\(id)/order", as: ann, json: ["entryIds": Array(ids.dropLast())]).status == .unprocessableContent)
            #expect(try await api.call(.put, "/api/playlists/\(id)/order", as: ann, json: ["entryIds": ids + [ids[0]]]).status == .unprocessableContent)

            let removed = try await api.object(.delete, "/api/playlists/\(id)/tracks/\(ids[0])", as: bob)
            #expect((removed["entries"] as? [[String: Any]])?.count == 3)
            let renamed = try await api.object(.patch, "/api/playlists/\(id)", as: ann, json: ["name": "Shared loops", "description": "for the band"])
            #expect(renamed["name"] as? String == "Shared loops")

            // Making it private hides it from Bob's likes-free view but not from him as a collaborator.
            _ = try await api.object(.patch, "/api/playlists/\(id)", as: ann, json: ["visibility": "private"])
            #expect(try await api.call(.get, "/api/playlists/\(id)", as: bob).status == .ok)
            _ = try await api.object(.delete, "/api/playlists/\(id)/collaborators/\(bob.userId)", as: ann)
            #expect(try await api.call(.get, "/api/playlists/\(id)", as: bob).status == .notFound)
            #expect(try await api.call(.delete, "/api/playlists/\(id)", as: bob).status == .notFound)
            #expect(try await api.call(.delete, "/api/playlists/\(id)", as: ann).status == .noContent)
        }
    }

    @Test("likes on tracks, releases and playlists make up a user's library", .serialized, arguments: StoreBackend.all)
    func likes(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let release = try #require(((try PublishedFixtures.trackDocument(track))["release"] as? [String: Any])?["id"] as? Int)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            #expect(try await api.call(.put, "/api/likes/track/\(track)", as: ann).status == .noContent)
            #expect(try await api.call(.put, "/api/likes/release/\(release)", as: ann).status == .noContent)
            #expect(try await api.call(.put, "/api/likes/track/\(track)", as: bob).status == .noContent)
            #expect(try await api.call(.put, "/api/likes/track/nope", as: ann).status == .notFound)
            #expect(try await api.call(.put, "/api/likes/artist/1", as: ann).status == .notFound)
            let detail = try await api.object(.get, "/api/tracks/\(track)", as: ann)
            #expect(detail["likeCount"] as? Int == 2)
            #expect(detail["likedByYou"] as? Bool == true)
            let library = try await api.items("/api/users/\(ann.userId)/likes", as: bob)
            #expect(library.map { $0["kind"] as? String } == ["release", "track"])
            #expect(try await api.items("/api/users/\(ann.userId)/likes?kind=track", as: bob).count == 1)
            #expect(try await api.call(.delete, "/api/likes/track/\(track)", as: ann).status == .noContent)
            #expect((try await api.object(.get, "/api/tracks/\(track)", as: ann))["likeCount"] as? Int == 1)
        }
    }

    @Test("notifications: a reply, a new follower, a comment on my playlist; unread count; mark read", .serialized, arguments: StoreBackend.all)
    func notifications(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            try await api.call(.put, "/api/users/\(ann.userId)/follow", as: bob)
            let comment = try await api.object(.post, "/api/tracks/\(track)/comments", as: ann, json: ["body": "hello"], expect: .created)
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "hi", "parentId": comment["id"] as? Int ?? 0], expect: .created)
            // Replying to oneself notifies nobody.
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: ann, json: ["body": "me", "parentId": comment["id"] as? Int ?? 0], expect: .created)
            let playlist = try await api.object(.post, "/api/playlists", as: ann, json: ["name": "Mine", "visibility": "public"], expect: .created)
            _ = try await api.object(.post, "/api/playlists/\(playlist["id"] as? Int ?? 0)/comments", as: bob, json: ["body": "nice list"], expect: .created)

            let list = try await api.items("/api/notifications", as: ann)
            #expect(list.map { $0["kind"] as? String } == ["playlist-comment", "reply", "follow"])
            // Each names what it is about, as the reader sees it: the playlist's name, the track's title.
            let trackTitle = try #require((try PublishedFixtures.trackDocument(track))["title"] as? String)
            #expect(list.map { $0["subjectTitle"] as? String } == ["Mine", trackTitle, nil])
            #expect(list.allSatisfy { ($0["actor"] as? [String: Any])?["id"] as? Int == Int(bob.userId) })
            #expect((try await api.object(.get, "/api/notifications/unread-count", as: ann))["unread"] as? Int == 3)
            #expect(try await api.items("/api/notifications", as: bob).isEmpty)

            let firstId = try #require(list.first?["id"] as? Int)
            #expect((try await api.object(.post, "/api/notifications/read", as: ann, json: ["ids": [firstId]]))["unread"] as? Int == 2)
            // Bob cannot mark Ann's notifications.
            _ = try await api.object(.post, "/api/notifications/read", as: bob, json: [:])
            #expect(try await api.items("/api/notifications?unread=true", as: ann).count == 2)
            #expect((try await api.object(.post, "/api/notifications/read", as: ann, json: [:]))["unread"] as? Int == 0)
        }
    }

    @Test("the feed shows what the people I follow did, newest first, paginated", .serialized, arguments: StoreBackend.all)
    func feed(_ backend: StoreBackend) async throws {
        let tracks = try PublishedFixtures.trackIds()
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            let cat = try await api.signUp("Cat")
            try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            _ = try await api.object(.post, "/api/tracks/\(tracks[0])/comments", as: bob, json: ["body": "first"], expect: .created)
            try await api.call(.put, "/api/likes/track/\(tracks[1])", as: bob)
            let playlist = try await api.object(.post, "/api/playlists", as: bob, json: ["name": "Bob's", "visibility": "public"], expect: .created)
            _ = try await api.object(.post, "/api/playlists/\(playlist["id"] as? Int ?? 0)/tracks", as: bob, json: ["trackId": tracks[0]])
            _ = try await api.object(.post, "/api/playlists", as: bob, json: ["name": "Bob's secret"], expect: .created)
            _ = try await api.object(.post, "/api/tracks/\(tracks[0])/comments", as: cat, json: ["body": "not followed"], expect: .created)

            let page = try await api.object(.get, "/api/feed?limit=3", as: ann)
            let items = page["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["kind"] as? String } == ["playlist", "playlist", "like"])
            // The entry for the added track names it and the playlist; the like names the liked track.
            let titles = try tracks.prefix(2).map { try #require((try PublishedFixtures.trackDocument($0))["title"] as? String) }
            #expect(items.first?["itemId"] as? String == tracks[0] && items.first?["itemTitle"] as? String == titles[0])
            #expect(items.first?["subjectTitle"] as? String == "Bob's")
            #expect(items.last?["subjectTitle"] as? String == titles[1])
            let rest = try await api.items("/api/feed?cursor=\(page["nextCursor"] as? String ?? "")", as: ann)
            #expect(rest.map { $0["kind"] as? String } == ["comment"])
            #expect(rest.first?["summary"] as? String == "first")
            #expect(try await api.items("/api/feed", as: cat).isEmpty)
        }
    }

    @Test("search: prefix matching over tracks, releases, artists and users; filter to items liked by people I follow; any input is safe", .serialized, arguments: StoreBackend.all)
    func search(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let title = try #require((try PublishedFixtures.trackDocument(track))["title"] as? String)
        let prefix = String(title.prefix(3)).lowercased()
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Annabel")
            let bob = try await api.signUp("Bob")
            let hits = try await api.array(.get, "/api/search?q=\(prefix)&kinds=track", as: ann)
            #expect(hits.contains { $0["id"] as? String == track && $0["name"] as? String == title })
            let users = try await api.array(.get, "/api/search?q=anna&kinds=user", as: bob)
            #expect(users.map { $0["id"] as? String } == [String(ann.userId)])

            #expect(try await api.array(.get, "/api/search?q=\(prefix)&likedByFollowing=true", as: ann).isEmpty)
            try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            try await api.call(.put, "/api/likes/track/\(track)", as: bob)
            #expect(try await api.array(.get, "/api/search?q=\(prefix)&likedByFollowing=true", as: ann).map { $0["id"] as? String } == [track])

            for hostile in ["%22", "NEAR(a%20b)", "*", "a%22%20OR%20%22b", "%E2%80%8B", "-x", "title:a"] {
                #expect(try await api.call(.get, "/api/search?q=\(hostile)", as: ann).status == .ok, "\(hostile)")
            }
            #expect(try await api.call(.get, "/api/search", as: ann).status == .badRequest)
            #expect(try await api.call(.get, "/api/search?q=a&kinds=planet", as: ann).status == .badRequest)
        }
    }

    @Test("catalog lists are paginated and details carry signed links", .serialized, arguments: StoreBackend.all)
    func catalog(_ backend: StoreBackend) async throws {
        let ids = try PublishedFixtures.trackIds()
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            var seen: [String] = []
            var cursor: String? = ""
            while let next = cursor {
                let page = try await api.object(.get, "/api/tracks?limit=4\(next.isEmpty ? "" : "&cursor=\(next)")", as: ann)
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            }
            #expect(seen == ids)
            let release = try #require(try await api.items("/api/releases", as: ann).first)
            let detail = try await api.object(.get, "/api/releases/\(release["id"] as? Int ?? 0)", as: ann)
            #expect((detail["tracks"] as? [[String: Any]])?.isEmpty == false)
            let artist = try #require(try await api.items("/api/artists", as: ann).first)
            #expect((try await api.object(.get, "/api/artists/\(artist["id"] as? Int ?? 0)", as: ann))["name"] as? String == artist["name"] as? String)
            #expect(try await api.call(.get, "/api/releases/999", as: ann).status == .notFound)
            // Covers come with signed thumbnails (96, 300, 600 px) that are served as JPEG, in lists, details and search.
            let withCover = try #require(try await api.items("/api/releases?limit=100", as: ann).first { $0["cover"] is String })
            let thumbnails = try #require(withCover["coverThumbnails"] as? [[String: Any]])
            #expect(thumbnails.map { $0["side"] as? Int } == [96, 300, 600])
            for thumbnail in thumbnails {
                let answer = try await api.call(.get, try #require(thumbnail["url"] as? String))
                #expect(answer.status == .ok && answer.headers[.contentType] == "image/jpeg", "\(thumbnail)")
            }
            let coverDetail = try await api.object(.get, "/api/releases/\(withCover["id"] as? Int ?? 0)", as: ann)
            #expect((coverDetail["coverThumbnails"] as? [[String: Any]])?.count == 3)
            #expect((coverDetail["tracks"] as? [[String: Any]])?.allSatisfy { ($0["coverThumbnails"] as? [[String: Any]])?.count == 3 } == true)
            let title = try #require(withCover["title"] as? String)
            let hit = try #require(try await api.array(.get, "/api/search?q=\(title.prefix(4).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&kinds=release", as: ann).first)
            #expect((hit["cover"] as? String)?.contains("/cover-") == true, "\(hit)")
            // Recently added: catalog ids grow as releases are ingested, so the newest has the highest.
            let newest = try await api.items("/api/releases?sort=newest&limit=100", as: ann).compactMap { $0["id"] as? Int }
            let listed = try await api.items("/api/releases?limit=100", as: ann).compactMap { $0["id"] as? Int }
            #expect(newest == listed.sorted(by: >) && newest.count > 1)
            #expect(try await api.call(.get, "/api/releases?sort=oldest", as: ann).status == .badRequest)
            #expect(try await api.call(.get, "/api/tracks/nope", as: ann).status == .notFound)
        }
    }
}
