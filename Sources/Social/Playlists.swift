import Foundation

extension SocialStore {
    public func createPlaylist(
        by ownerId: Int64, name: String, description: String, visibility: PlaylistVisibility, now: Date
    ) async throws -> Outcome<Playlist> {
        let name = try Self.checkedText(name, field: "name", max: 100)
        let description = try Self.checkedText(description, field: "description", min: 0, max: 1000, multiline: true)
        return try await commit { db in
            let id = try db.insert("INSERT INTO playlist (ownerId, name, description, visibility, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?)", [ownerId, name, description, visibility.rawValue, now, now])
            let events = visibility == .public
                ? try Self.recordActivity(db, actorId: ownerId, kind: .playlist, subjectKind: "playlist", subjectId: String(id), summary: "created \(name)", now: now)
                : []
            return Outcome(value: try Self.playlist(db, id, viewer: ownerId), events: events)
        }
    }

    /// A playlist, if the viewer may see it (private ones only to their owner and collaborators; to anyone else
    /// they do not exist).
    public func playlist(_ id: Int64, viewer: Int64) async throws -> Playlist {
        try await storage.read { db in try Self.playlist(db, id, viewer: viewer) }
    }

    /// Changes name, description or visibility (owner only).
    public func updatePlaylist(
        _ id: Int64, by userId: Int64, name: String?, description: String?, visibility: PlaylistVisibility?, now: Date
    ) async throws -> Outcome<Playlist> {
        let name = try name.map { try Self.checkedText($0, field: "name", max: 100) }
        let description = try description.map { try Self.checkedText($0, field: "description", min: 0, max: 1000, multiline: true) }
        return try await commit { db in
            try Self.requireOwner(db, id, userId)
            if let name { try db.execute("UPDATE playlist SET name = ? WHERE id = ?", [name, id]) }
            if let description { try db.execute("UPDATE playlist SET description = ? WHERE id = ?", [description, id]) }
            if let visibility { try db.execute("UPDATE playlist SET visibility = ? WHERE id = ?", [visibility.rawValue, id]) }
            return try Self.playlistChanged(db, id, by: userId, summary: "edited", now: now)
        }
    }

    public func deletePlaylist(_ id: Int64, by userId: Int64) async throws {
        try await storage.write { db in
            try Self.requireOwner(db, id, userId)
            try db.execute("DELETE FROM playlist WHERE id = ?", [id])
            try db.execute("DELETE FROM \"like\" WHERE subjectKind = 'playlist' AND subjectId = ?", [String(id)])
        }
    }

    /// Adds a track (the caller checked it is in the catalog) at `position` (default: the end). Owner or collaborator.
    public func addTrack(_ trackId: String, to id: Int64, at position: Int?, by userId: Int64, now: Date) async throws -> Outcome<Playlist> {
        try await commit { db in
            try Self.requireEditor(db, id, userId)
            let ids = try Self.entryIds(db, id)
            guard ids.count < 10_000 else { throw SocialError.invalid(field: "trackId", message: "a playlist holds at most 10000 tracks") }
            let index = min(max(position ?? ids.count, 0), ids.count)
            let entryId = try db.insert("INSERT INTO playlistEntry (playlistId, trackId, position, addedBy, addedAt) VALUES (?, ?, ?, ?, ?)", [id, trackId, 0, userId, now])
            var order = ids
            order.insert(entryId, at: index)
            try Self.writeOrder(db, order)
            return try Self.playlistChanged(db, id, by: userId, summary: "added a track", itemId: trackId, now: now)
        }
    }

    /// Removes one entry. Owner or collaborator.
    public func removeEntry(_ entryId: Int64, from id: Int64, by userId: Int64, now: Date) async throws -> Outcome<Playlist> {
        try await commit { db in
            try Self.requireEditor(db, id, userId)
            let trackId = try db.value(as: String.self, "SELECT trackId FROM playlistEntry WHERE id = ? AND playlistId = ?", [entryId, id])
            guard let trackId else { throw SocialError.notFound("entry \(entryId) of playlist \(id)") }
            try db.execute("DELETE FROM playlistEntry WHERE id = ? AND playlistId = ?", [entryId, id])
            try Self.writeOrder(db, Self.entryIds(db, id))
            return try Self.playlistChanged(db, id, by: userId, summary: "removed a track", itemId: trackId, now: now)
        }
    }

    /// Puts the entries in the given order, which must name each entry exactly once. Owner or collaborator.
    public func reorder(_ id: Int64, entryIds: [Int64], by userId: Int64, now: Date) async throws -> Outcome<Playlist> {
        try await commit { db in
            try Self.requireEditor(db, id, userId)
            guard Set(entryIds) == Set(try Self.entryIds(db, id)), Set(entryIds).count == entryIds.count else {
                throw SocialError.invalid(field: "entryIds", message: "name every entry of the playlist exactly once (it may have changed: reload it)")
            }
            try Self.writeOrder(db, entryIds)
            return try Self.playlistChanged(db, id, by: userId, summary: "reordered", now: now)
        }
    }

    /// Invites a collaborator (owner only).
    public func addCollaborator(_ collaboratorId: Int64, to id: Int64, by userId: Int64, now: Date) async throws -> Outcome<Playlist> {
        try await commit { db in
            try Self.requireOwner(db, id, userId)
            guard try Self.userExists(db, collaboratorId) else { throw SocialError.notFound("user \(collaboratorId)") }
            guard collaboratorId != userId else { throw SocialError.invalid(field: "userId", message: "the owner already edits this playlist") }
            try db.execute("INSERT INTO playlistCollaborator (playlistId, userId) VALUES (?, ?) ON CONFLICT DO NOTHING", [id, collaboratorId])
            return try Self.playlistChanged(db, id, by: userId, summary: "invited a collaborator", now: now)
        }
    }

    public func removeCollaborator(_ collaboratorId: Int64, from id: Int64, by userId: Int64, now: Date) async throws -> Outcome<Playlist> {
        try await commit { db in
            // A collaborator may leave; only the owner may remove others.
            if collaboratorId != userId { try Self.requireOwner(db, id, userId) }
            guard try db.execute("DELETE FROM playlistCollaborator WHERE playlistId = ? AND userId = ?", [id, collaboratorId]) > 0 else { throw SocialError.notFound("collaborator \(collaboratorId) of playlist \(id)") }
            return try Self.playlistChanged(db, id, by: userId, summary: "changed collaborators", now: now)
        }
    }

    /// A user's playlists that the viewer may see, most recently changed first.
    public func playlists(of ownerId: Int64, viewer: Int64, page: PageRequest) async throws -> Page<PlaylistSummary> {
        try await storage.read { db in
            guard try Self.userExists(db, ownerId) else { throw SocialError.notFound("user \(ownerId)") }
            let rows = try db.fetchAll("""
                    SELECT p.*, (SELECT COUNT(*) FROM playlistEntry e WHERE e.playlistId = p.id) AS trackCount FROM playlist p
                    WHERE p.ownerId = ? AND p.id < ? AND \(Self.visibleToViewer("p"))
                    ORDER BY p.id DESC LIMIT ?
                    """, [ownerId, page.cursor ?? Int64.max, viewer, viewer, page.limit + 1])
            let owner = try Self.summary(db, ownerId)
            return try page.page(rows, id: { try $0["id"] }) { row in
                try PlaylistSummary(
                    id: row["id"], owner: owner, name: row["name"], visibility: PlaylistVisibility(rawValue: row["visibility"]) ?? .private,
                    trackCount: row["trackCount"], updatedAt: row["updatedAt"])
            }
        }
    }

    /// Whether the viewer may see the playlist.
    public func canSee(playlist id: Int64, viewer: Int64) async throws -> Bool {
        try await storage.read { db in try Self.canSee(db, id, viewer) }
    }

    static func canSee(_ db: any SocialSession, _ id: Int64, _ viewer: Int64) throws -> Bool {
        try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM playlist p WHERE p.id = ? AND \(visibleToViewer("p")))", [id, viewer, viewer]) ?? false
    }

    /// SQL that holds when the playlist aliased `alias` is public or the viewer owns or edits it; with the default
    /// `viewer` it takes the viewer's id twice as arguments.
    static func visibleToViewer(_ alias: String, viewer: String = "?") -> String {
        """
        (\(alias).visibility = 'public' OR \(alias).ownerId = \(viewer)
            OR EXISTS (SELECT 1 FROM playlistCollaborator c WHERE c.playlistId = \(alias).id AND c.userId = \(viewer)))
        """
    }

    static func playlist(_ db: any SocialSession, _ id: Int64, viewer: Int64) throws -> Playlist {
        guard try canSee(db, id, viewer), let row = try db.fetchOne("SELECT * FROM playlist WHERE id = ?", [id]) else {
            throw SocialError.notFound("playlist \(id)")
        }
        let entries = try db.fetchAll("SELECT * FROM playlistEntry WHERE playlistId = ? ORDER BY position", [id])
        let collaboratorIds = try db.values(as: Int64.self, "SELECT userId FROM playlistCollaborator WHERE playlistId = ? ORDER BY userId", [id])
        let users = try summaries(db, entries.map { try $0["addedBy"] as Int64 } + collaboratorIds + [try row["ownerId"] as Int64])
        return try Playlist(
            id: id, owner: try summary(db, row["ownerId"]), name: row["name"], description: row["description"],
            visibility: PlaylistVisibility(rawValue: row["visibility"]) ?? .private,
            collaborators: collaboratorIds.compactMap { users[$0] },
            entries: entries.compactMap { entry in
                try users[entry["addedBy"]].map { try PlaylistEntry(id: entry["id"], trackId: entry["trackId"], addedBy: $0, addedAt: entry["addedAt"]) }
            },
            likeCount: try db.value(as: Int.self, "SELECT COUNT(*) FROM \"like\" WHERE subjectKind = 'playlist' AND subjectId = ?", [String(id)]) ?? 0,
            likedByYou: try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM \"like\" WHERE subjectKind = 'playlist' AND subjectId = ? AND userId = ?)", [String(id), viewer]) ?? false,
            createdAt: row["createdAt"], updatedAt: row["updatedAt"])
    }

    static func requireOwner(_ db: any SocialSession, _ id: Int64, _ userId: Int64) throws {
        guard try canSee(db, id, userId), let owner = try db.value(as: Int64.self, "SELECT ownerId FROM playlist WHERE id = ?", [id]) else {
            throw SocialError.notFound("playlist \(id)")
        }
        guard owner == userId else { throw SocialError.forbidden("only the owner of playlist \(id) can do this") }
    }

    static func requireEditor(_ db: any SocialSession, _ id: Int64, _ userId: Int64) throws {
        guard try canSee(db, id, userId), let owner = try db.value(as: Int64.self, "SELECT ownerId FROM playlist WHERE id = ?", [id]) else {
            throw SocialError.notFound("playlist \(id)")
        }
        let collaborates = try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM playlistCollaborator WHERE playlistId = ? AND userId = ?)", [id, userId]) ?? false
        guard owner == userId || collaborates else {
            throw SocialError.forbidden("only the owner and invited collaborators can change playlist \(id)")
        }
    }

    static func entryIds(_ db: any SocialSession, _ id: Int64) throws -> [Int64] {
        try db.values(as: Int64.self, "SELECT id FROM playlistEntry WHERE playlistId = ? ORDER BY position, id", [id])
    }

    static func writeOrder(_ db: any SocialSession, _ entryIds: [Int64]) throws {
        for (position, entryId) in entryIds.enumerated() {
            try db.execute("UPDATE playlistEntry SET position = ? WHERE id = ?", [position, entryId])
        }
    }

    /// Stamps the change, tells viewers of the playlist, and (for public playlists) the owner's followers.
    static func playlistChanged(
        _ db: any SocialSession, _ id: Int64, by userId: Int64, summary text: String, itemId: String? = nil, now: Date
    ) throws -> Outcome<Playlist> {
        try db.execute("UPDATE playlist SET updatedAt = ? WHERE id = ?", [now, id])
        let playlist = try playlist(db, id, viewer: userId)
        var events: [LiveEvent] = []
        if playlist.visibility == .public {
            events.append(try storeEvent(db, subject: "playlist:\(id)", type: "playlist", payload: playlist, audience: .about("playlist", String(id)), now: now))
            events += try recordActivity(db, actorId: userId, kind: .playlist, subjectKind: "playlist", subjectId: String(id), summary: "\(text): \(playlist.name)", itemId: itemId, now: now)
        } else {
            for member in [playlist.owner.id] + playlist.collaborators.map(\.id) {
                events.append(try storeEvent(db, userId: member, type: "playlist", payload: playlist, audience: .about("playlist", String(id)), now: now))
            }
        }
        return Outcome(value: playlist, events: events)
    }
}

extension SocialStore {
    // MARK: Likes

    /// Likes an item (the caller checked it exists and is visible); liking twice is fine.
    public func like(_ kind: ItemKind, _ id: String, by userId: Int64, now: Date) async throws -> Outcome<Void> {
        try await commit { db in
            if kind == .playlist, let playlistId = Int64(id), try !Self.canSee(db, playlistId, userId) {
                throw SocialError.notFound("playlist \(id)")
            }
            let added = try db.execute(
                "INSERT INTO \"like\" (userId, subjectKind, subjectId, createdAt) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [userId, kind.rawValue, id, now])
            guard added > 0 else { return Outcome(value: (), events: []) }
            let events = try Self.recordActivity(db, actorId: userId, kind: .like, subjectKind: kind.rawValue, subjectId: id, summary: "liked", now: now)
            return Outcome(value: (), events: events)
        }
    }

    public func unlike(_ kind: ItemKind, _ id: String, by userId: Int64) async throws {
        try await storage.write { db in
            try db.execute("DELETE FROM \"like\" WHERE userId = ? AND subjectKind = ? AND subjectId = ?", [userId, kind.rawValue, id])
        }
    }

    /// A user's library: what they liked, most recent first (private playlists the viewer cannot see are left out).
    public func likes(of userId: Int64, kind: ItemKind?, viewer: Int64, page: PageRequest) async throws -> Page<Like> {
        try await storage.read { db in
            guard try Self.userExists(db, userId) else { throw SocialError.notFound("user \(userId)") }
            let kindArguments: [SQLValue] = kind.map { [.text($0.rawValue)] } ?? []
            let arguments: [SQLValue] = [.integer(userId)] + kindArguments
                + [.integer(page.cursor ?? Int64.max), .integer(viewer), .integer(viewer), .integer(Int64(page.limit + 1))]
            let rows = try db.fetchAll("""
                    SELECT l.rowid, l.* FROM "like" l WHERE l.userId = ? \(kind == nil ? "" : "AND l.subjectKind = ?") AND l.rowid < ?
                    AND (l.subjectKind != 'playlist' OR EXISTS (SELECT 1 FROM playlist p WHERE p.id = CASE WHEN l.subjectKind = 'playlist' THEN CAST(l.subjectId AS BIGINT) END AND \(Self.visibleToViewer("p"))))
                    ORDER BY l.rowid DESC LIMIT ?
                    """, SQLArguments(arguments))
            return try page.page(rows, id: { try $0["rowid"] }) { row in
                try Like(kind: ItemKind(rawValue: row["subjectKind"]) ?? .track, id: row["subjectId"], likedAt: row["createdAt"])
            }
        }
    }

    /// How many people like an item, and whether the viewer does.
    public func likeStatus(_ kind: ItemKind, _ id: String, viewer: Int64) async throws -> (count: Int, likedByYou: Bool) {
        try await storage.read { db in
            let count = try db.value(as: Int.self, "SELECT COUNT(*) FROM \"like\" WHERE subjectKind = ? AND subjectId = ?", [kind.rawValue, id]) ?? 0
            let mine = try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM \"like\" WHERE subjectKind = ? AND subjectId = ? AND userId = ?)", [kind.rawValue, id, viewer]) ?? false
            return (count, mine)
        }
    }
}
