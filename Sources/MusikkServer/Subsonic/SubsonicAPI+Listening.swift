import Foundation
import PublicationFormat
import Social

/// Listening (scrobbles, now playing, stars, ratings), playlists, the play queue and lyrics: the same data the
/// web app reads and writes.
extension SubsonicAPI {
    // MARK: Listening

    /// `submission=false` says a track started: it begins a playback session and sets now playing.
    /// `submission=true` reports it played: the session advances by the wall-clock time since it began, and the
    /// listen counts under the web app's rule (30 s, or the whole of a shorter track, never more than the time
    /// that passed, and once per session). An app that scrobbles without saying the track started gets no listen.
    func scrobble(_ call: SubsonicCall) async throws -> SubsonicNode? {
        let ids = call.parameters.all("id")
        guard !ids.isEmpty else { throw SubsonicError.missing("id", call.method.rawValue) }
        let submission = call.flag("submission") ?? true
        for id in ids.prefix(Self.maxListSize) {
            guard let track = call.catalog.snapshot.tracks[id] else { throw SubsonicError.notFound("song \(id)") }
            _ = try await store.reportProgress(
                of: call.user.id, session: "subsonic:\(call.client):\(id)", trackId: id, trackDuration: track.duration,
                positionSeconds: submission ? nil : 0, state: submission ? .stopped : .playing, startsOver: !submission, now: configuration.clock())
        }
        return nil
    }

    /// What the people the listener follows play now (as their privacy settings allow), and the listener's own.
    func nowPlaying(_ call: SubsonicCall) async throws -> SubsonicNode {
        let now = configuration.clock()
        var playing = try await store.friendsNowPlaying(viewer: call.user.id, now: now)
        if let own = try await store.nowPlaying(of: call.user.id, viewer: call.user.id, now: now) { playing.insert(own, at: 0) }
        let marks = try await marks(call)
        return Self.list("nowPlaying", "entry", playing.compactMap { item in
            guard let track = call.catalog.snapshot.tracks[item.trackId] else { return nil }
            var entry = call.catalog.song(track, marks: marks, name: "entry")
            entry.set("username", item.user.displayName)
            entry.set("minutesAgo", max(0, Int(now.timeIntervalSince(item.updatedAt) / 60)))
            entry.set("playerId", 0)
            return entry
        })
    }

    /// star and unstar: likes, the same as the web app's hearts. `id` may name a track, a release or an artist.
    func star(_ call: SubsonicCall) async throws -> SubsonicNode? {
        let catalog = call.catalog
        var items: [(ItemKind, String)] = []
        for id in call.parameters.all("id") + call.parameters.all("albumId") + call.parameters.all("artistId") {
            switch catalog.item(id) {
            case .track(let track): items.append((.track, track.id))
            case .release(let release): items.append((.release, String(release.id)))
            case .artist(let artist): items.append((.artist, String(artist.id)))
            case nil: throw SubsonicError.notFound("item \(id)")
            }
        }
        guard !items.isEmpty else { throw SubsonicError.missing("id", call.method.rawValue) }
        for (kind, id) in items.prefix(Self.maxListSize) {
            if call.method == .star {
                _ = try await store.like(kind, id, by: call.user.id, now: configuration.clock())
            } else {
                try await store.unlike(kind, id, by: call.user.id)
            }
        }
        return nil
    }

    /// getStarred and getStarred2: the listener's likes, newest first.
    func starred(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, marks) = (call.catalog, try await marks(call))
        let snapshot = catalog.snapshot
        func newest(_ kind: ItemKind) -> [String] {
            (marks.liked[kind] ?? [:]).sorted { ($0.value, $0.key) > ($1.value, $1.key) }.map(\.key)
        }
        let folderStyle = call.method == .getStarred
        var result = SubsonicNode(folderStyle ? "starred" : "starred2")
        result.addList("artist", newest(.artist).compactMap { canonicalID($0).flatMap { snapshot.artists[$0] } }.map { catalog.artist($0, marks: marks) })
        result.addList("album", newest(.release).compactMap { canonicalID($0).flatMap { snapshot.releases[$0] } }.map {
            catalog.album($0, marks: marks, directory: folderStyle)
        })
        result.addList("song", newest(.track).compactMap { snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
        return .payload(result)
    }

    /// setRating: 1 to 5 stars for a track, release or artist; 0 removes the rating.
    func rate(_ call: SubsonicCall) async throws -> SubsonicNode? {
        let id = try call.required("id")
        guard let rating = try call.integer("rating", nil, in: 0...5) else { throw SubsonicError.missing("rating", call.method.rawValue) }
        let (kind, itemId): (ItemKind, String) = switch call.catalog.item(id) {
        case .track(let track): (.track, track.id)
        case .release(let release): (.release, String(release.id))
        case .artist(let artist): (.artist, String(artist.id))
        case nil: throw SubsonicError.notFound("item \(id)")
        }
        try await store.setRating(rating, of: kind, itemId, by: call.user.id, now: configuration.clock())
        return nil
    }

    // MARK: Playlists

    /// Playlists a Subsonic answer lists at most.
    static let maxPlaylists = 200

    /// The listener's playlists (owned or shared with them to edit), or with `username` another user's that the
    /// listener may see.
    func playlists(_ call: SubsonicCall) async throws -> SubsonicNode {
        let me = try await store.ownAccount(call.user.id).email
        var summaries: [PlaylistSummary]
        if let username = call.parameters.first("username"), username.lowercased() != me.lowercased() {
            guard let owner = try await store.credentials(email: username) else { throw SubsonicError.notFound("user \(username)") }
            summaries = try await store.playlists(of: owner.userId, viewer: call.user.id, page: PageRequest(limit: Self.maxPlaylists)).items
        } else {
            summaries = try await store.editablePlaylists(of: call.user.id, limit: Self.maxPlaylists)
        }
        var nodes: [SubsonicNode] = []
        for summary in summaries {
            guard let playlist = try? await store.playlist(summary.id, viewer: call.user.id) else { continue }
            nodes.append(playlistNode(playlist, call: call, me: me, withEntries: nil))
        }
        return Self.list("playlists", "playlist", nodes)
    }

    func playlist(_ call: SubsonicCall) async throws -> SubsonicNode {
        let playlist = try await store.playlist(try playlistID(call, "id"), viewer: call.user.id)
        return try await single(playlist, call)
    }

    /// With `playlistId`, replaces that playlist's tracks; else makes a new private playlist named `name`.
    func createPlaylist(_ call: SubsonicCall) async throws -> SubsonicNode {
        let songs = try checkedSongs(call, "songId")
        let now = configuration.clock()
        let id: Int64
        if call.parameters.first("playlistId") != nil {
            id = try playlistID(call, "playlistId")
            _ = try await store.editEntries(of: id, by: call.user.id, replacing: true, adding: songs, now: now)
        } else {
            id = try await store.createPlaylist(by: call.user.id, name: try call.required("name"), description: "", visibility: .private, now: now).value.id
            if !songs.isEmpty { _ = try await store.editEntries(of: id, by: call.user.id, adding: songs, now: now) }
        }
        return try await single(try await store.playlist(id, viewer: call.user.id), call)
    }

    /// Renames, describes, publishes (owner only), adds and removes tracks (owner or collaborator).
    func updatePlaylist(_ call: SubsonicCall) async throws -> SubsonicNode? {
        let id = try playlistID(call, "playlistId")
        let now = configuration.clock()
        let name = call.parameters.first("name"), comment = call.parameters.first("comment"), isPublic = call.flag("public")
        if name != nil || comment != nil || isPublic != nil {
            _ = try await store.updatePlaylist(
                id, by: call.user.id, name: name, description: comment, visibility: isPublic.map { $0 ? .public : .private }, now: now)
        }
        let adding = try checkedSongs(call, "songIdToAdd")
        let removing = try call.parameters.all("songIndexToRemove").map { text in
            guard let index = Int(text), index >= 0 else { throw SubsonicError.invalid("songIndexToRemove", call.method.rawValue, "an entry's index, from 0") }
            return index
        }
        if !adding.isEmpty || !removing.isEmpty {
            _ = try await store.editEntries(of: id, by: call.user.id, removing: removing, adding: adding, now: now)
        }
        return nil
    }

    func deletePlaylist(_ call: SubsonicCall) async throws -> SubsonicNode? {
        try await store.deletePlaylist(try playlistID(call, "id"), by: call.user.id)
        return nil
    }

    private func playlistID(_ call: SubsonicCall, _ name: String) throws -> Int64 {
        let text = try call.required(name)
        guard let id = canonicalID(text) else { throw SubsonicError.notFound("playlist \(text)") }
        return id
    }

    /// The repeated track ids of a parameter, each in the catalog.
    private func checkedSongs(_ call: SubsonicCall, _ name: String) throws -> [String] {
        let ids = call.parameters.all(name)
        guard ids.count <= 10_000 else { throw SubsonicError.invalid(name, call.method.rawValue, "at most 10000 tracks") }
        for id in ids where call.catalog.snapshot.tracks[id] == nil { throw SubsonicError.notFound("song \(id)") }
        return ids
    }

    private func single(_ playlist: Playlist, _ call: SubsonicCall) async throws -> SubsonicNode {
        let me = try await store.ownAccount(call.user.id).email
        return .payload(playlistNode(playlist, call: call, me: me, withEntries: try await marks(call)))
    }

    /// A playlist; its owner is named by email for the listener's own (their Subsonic user name), by display name
    /// otherwise (other users' emails stay private). `readonly` when the listener may not edit it.
    private func playlistNode(_ playlist: Playlist, call: SubsonicCall, me: String, withEntries marks: ListenerMarks?) -> SubsonicNode {
        let snapshot = call.catalog.snapshot
        let tracks = playlist.entries.compactMap { snapshot.tracks[$0.trackId] }
        var node = SubsonicNode("playlist")
        node.set("id", String(playlist.id))
        node.set("name", playlist.name)
        node.set("comment", playlist.description.isEmpty ? nil : playlist.description)
        let mine = playlist.owner.id == call.user.id
        node.set("owner", mine ? me : playlist.owner.displayName)
        node.set("public", playlist.visibility == .public)
        node.set("songCount", tracks.count)
        node.set("duration", Int(tracks.reduce(0) { $0 + $1.duration }.rounded()))
        node.set("created", playlist.createdAt.formatted(.iso8601))
        node.set("changed", playlist.updatedAt.formatted(.iso8601))
        node.set("coverArt", tracks.lazy.compactMap { call.catalog.coverArtID(of: $0) }.first)
        node.set("readonly", !(mine || playlist.collaborators.contains { $0.id == call.user.id }))
        node.addScalars("allowedUser", playlist.collaborators.map(\.displayName))
        if let marks { node.addList("entry", tracks.map { call.catalog.song($0, marks: marks, name: "entry") }) }
        return node
    }

    // MARK: Play queue

    /// getPlayQueue and getPlayQueueByIndex: the queue the web app syncs, tracks no longer published left out.
    func playQueue(_ call: SubsonicCall) async throws -> SubsonicNode {
        let queue = try await store.queue(of: call.user.id)
        let snapshot = call.catalog.snapshot
        let kept = queue.trackIds.enumerated().filter { snapshot.tracks[$0.element] != nil }
        let current = kept.firstIndex { $0.offset >= queue.currentIndex }
        let marks = try await marks(call)
        let byIndex = call.method == .getPlayQueueByIndex
        var element = SubsonicNode(byIndex ? "playQueueByIndex" : "playQueue")
        if let current, !kept.isEmpty {
            if byIndex { element.set("currentIndex", current) } else { element.set("current", kept[current].element) }
            element.set("position", Int64((queue.positionSeconds * 1000).rounded()))
        }
        element.set("username", try await store.ownAccount(call.user.id).email)
        element.set("changed", (queue.updatedAt ?? Date(timeIntervalSince1970: 0)).formatted(.iso8601))
        element.set("changedBy", queue.device.isEmpty ? "musikk" : queue.device)
        element.addList("entry", kept.compactMap { snapshot.tracks[$0.element] }.map { call.catalog.song($0, marks: marks, name: "entry") })
        return .payload(element)
    }

    /// savePlayQueue (`current` names a track id) and savePlayQueueByIndex (`currentIndex`): the last save wins,
    /// as Subsonic apps expect, and is pushed to the listener's open web app at once, as the web app's own saves
    /// are. No `id` clears the queue.
    func savePlayQueue(_ call: SubsonicCall) async throws -> SubsonicNode? {
        let ids = call.parameters.all("id")
        guard ids.count <= SocialStore.maxQueueLength else {
            throw SubsonicError.invalid("id", call.method.rawValue, "at most \(SocialStore.maxQueueLength) tracks")
        }
        for id in ids where call.catalog.snapshot.tracks[id] == nil { throw SubsonicError.notFound("song \(id)") }
        var index = 0
        if call.method == .savePlayQueueByIndex {
            if !ids.isEmpty {
                guard let given = try? call.integer("currentIndex", nil, in: 0...max(0, ids.count - 1)) else {
                    throw SubsonicError(code: .missingParameter, message: "savePlayQueueByIndex: currentIndex must be from 0 to \(ids.count - 1)")
                }
                index = given
            } else if call.parameters.first("currentIndex") != nil {
                throw SubsonicError(code: .missingParameter, message: "savePlayQueueByIndex: an empty queue takes no currentIndex")
            }
        } else if let current = call.parameters.first("current"), !ids.isEmpty {
            guard let found = ids.firstIndex(of: current) else { throw SubsonicError.invalid("current", call.method.rawValue, "one of the ids in the queue") }
            index = found
        }
        let position = Double(try call.integer("position", 0, in: 0...Int(Int32.max)) ?? 0) / 1000
        let device = "\(call.client) (Subsonic)"
        // Last writer wins: write over whatever version is current, retrying if another device writes in between.
        for _ in 0..<5 {
            let current = try await store.queue(of: call.user.id)
            let outcome = try await store.writeQueue(
                of: call.user.id, expectedVersion: current.version, trackIds: ids, currentIndex: index, positionSeconds: position, device: device,
                now: configuration.clock())
            if case .written = outcome.value { return nil }
        }
        throw SubsonicError(code: .generic, message: "the queue kept changing on other devices; save again")
    }

    // MARK: Lyrics

    /// getLyrics: the plain lyrics of the first track matching `title` (and `artist`, when given).
    func lyrics(_ call: SubsonicCall) async throws -> SubsonicNode {
        let snapshot = call.catalog.snapshot
        let title = call.parameters.first("title").map(SearchDocument.fold), artist = call.parameters.first("artist").map(SearchDocument.fold)
        var element = SubsonicNode("lyrics")
        element.text = ""
        if let title, !title.isEmpty {
            let match = snapshot.trackOrder.lazy.compactMap { snapshot.tracks[$0] }.first { track in
                SearchDocument.fold(track.title) == title && (artist.map { name in track.artists.contains { SearchDocument.fold($0.name) == name } } ?? true)
                    && track.lyrics?.isEmpty == false
            }
            if let match, let lyrics = match.lyrics?.first {
                element.set("artist", match.artists.map(\.name).joined(separator: ", "))
                element.set("title", match.title)
                element.text = lyrics.lines.map(\.text).joined(separator: "\n")
            }
        }
        return .payload(element)
    }

    /// getLyricsBySongId (songLyrics extension): every set of lyrics of the track, synced lines with their start.
    func lyricsBySong(_ call: SubsonicCall) async throws -> SubsonicNode {
        let id = try call.required("id")
        guard let track = call.catalog.snapshot.tracks[id] else { throw SubsonicError.notFound("song \(id)") }
        var list = SubsonicNode("lyricsList")
        list.addList("structuredLyrics", (track.lyrics ?? []).map { lyrics in
            var node = SubsonicNode("structuredLyrics")
            node.set("displayArtist", track.artists.map(\.name).joined(separator: ", "))
            node.set("displayTitle", track.title)
            node.set("lang", lyrics.language)
            node.set("offset", 0)
            node.set("synced", lyrics.synced)
            node.addList("line", lyrics.lines.map { line in
                var element = SubsonicNode("line")
                element.set("start", lyrics.synced ? line.start : nil)
                element.text = line.text
                return element
            })
            return node
        })
        return .payload(list)
    }
}
