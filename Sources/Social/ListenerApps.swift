import Foundation

/// What a listener's own app (a Subsonic client) signs in with: an API key, or an app password for clients that
/// only know the legacy `u`/`t`/`s` scheme. Neither is the account's login password.
public enum AppCredentialKind: String, Codable, Sendable, CaseIterable {
    case apiKey = "api-key"
    case appPassword = "app-password"
}

/// An app credential as its owner sees it in a list: never the secret itself, which is shown once, when made.
public struct AppCredential: Codable, Sendable, Equatable {
    public var id: Int64
    public var kind: AppCredentialKind
    public var name: String
    public var createdAt: Date
}

/// The account an app credential belongs to.
public struct AppCredentialOwner: Sendable, Equatable {
    public var userId: Int64
    public var role: Role
    public var email: String
}

/// How much and how lately one user played each track.
public struct TrackListening: Sendable, Equatable {
    public var count: Int
    public var lastListenedAt: Date
}

/// What one listener marked and played, for the per-user fields of Subsonic answers (starred, userRating,
/// playCount, played).
public struct ListenerMarks: Sendable {
    /// When each item was liked (starred), by kind and id.
    public var liked: [ItemKind: [String: Date]] = [:]
    /// Ratings, 1 to 5, by kind and id.
    public var ratings: [ItemKind: [String: Int]] = [:]
    /// Plays of each track.
    public var listening: [String: TrackListening] = [:]

    public init() {}
}

extension SocialStore {
    /// Likes, ratings and plays one listener has at most that answers carry (the newest).
    public static let maxListenerMarks = 50_000

    /// A listener's likes, ratings and plays, read in one transaction.
    public func marks(of userId: Int64) async throws -> ListenerMarks {
        try await storage.read { db in
            var marks = ListenerMarks()
            for row in try db.fetchAll("SELECT subjectKind, subjectId, createdAt FROM \"like\" WHERE userId = ? ORDER BY rowid DESC LIMIT ?", [userId, Self.maxListenerMarks]) {
                guard let kind = ItemKind(rawValue: try row["subjectKind"]) else { continue }
                marks.liked[kind, default: [:]][try row["subjectId"]] = try row["createdAt"]
            }
            for row in try db.fetchAll("SELECT subjectKind, subjectId, rating FROM rating WHERE userId = ? ORDER BY ratedAt DESC LIMIT ?", [userId, Self.maxListenerMarks]) {
                guard let kind = ItemKind(rawValue: try row["subjectKind"]) else { continue }
                marks.ratings[kind, default: [:]][try row["subjectId"]] = try row["rating"]
            }
            for row in try db.fetchAll("SELECT trackId, COUNT(*) AS n, MAX(listenedAt) AS last FROM listen WHERE userId = ? GROUP BY trackId LIMIT ?", [userId, Self.maxListenerMarks]) {
                marks.listening[try row["trackId"]] = try TrackListening(count: row["n"], lastListenedAt: row["last"])
            }
            return marks
        }
    }

    /// Credentials of one kind a user may hold at once.
    public static let maxAppCredentials = 20

    /// Stores a new credential: an API key by its SHA-256 (`lookup`), found without knowing whose it is; an app
    /// password sealed under the server key (`sealed`), because the token scheme needs it back in clear.
    public func addAppCredential(
        of userId: Int64, kind: AppCredentialKind, name: String, lookup: String?, sealed: String?, now: Date
    ) async throws -> AppCredential {
        let name = try Self.checkedText(name, field: "name", max: 64)
        return try await storage.write { db in
            let held = try db.value(as: Int.self, "SELECT COUNT(*) FROM appCredential WHERE userId = ? AND kind = ?", [userId, kind.rawValue]) ?? 0
            guard held < Self.maxAppCredentials else {
                throw SocialError.invalid(field: "kind", message: "an account holds at most \(Self.maxAppCredentials) of these; delete one you no longer use")
            }
            let id = try db.insert(
                "INSERT INTO appCredential (userId, kind, name, lookup, sealed, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
                [userId, kind.rawValue, name, lookup, sealed, now])
            return AppCredential(id: id, kind: kind, name: name, createdAt: now)
        }
    }

    /// A user's credentials of one kind, newest first.
    public func appCredentials(of userId: Int64, kind: AppCredentialKind) async throws -> [AppCredential] {
        try await storage.read { db in
            try db.fetchAll("SELECT id, name, createdAt FROM appCredential WHERE userId = ? AND kind = ? ORDER BY id DESC", [userId, kind.rawValue]).map {
                try AppCredential(id: $0["id"], kind: kind, name: $0["name"], createdAt: $0["createdAt"])
            }
        }
    }

    /// Revokes one of the user's credentials; another user's is not found.
    public func deleteAppCredential(_ id: Int64, of userId: Int64, kind: AppCredentialKind) async throws {
        try await storage.write { db in
            guard try db.execute("DELETE FROM appCredential WHERE id = ? AND userId = ? AND kind = ?", [id, userId, kind.rawValue]) > 0 else {
                throw SocialError.notFound("\(kind.rawValue) \(id)")
            }
        }
    }

    /// The account of the API key whose SHA-256 is `lookup`.
    public func apiKeyOwner(lookup: String) async throws -> AppCredentialOwner? {
        try await storage.read { db in
            try db.fetchOne("""
                SELECT u.id, u.role, u.email FROM appCredential c JOIN "user" u ON u.id = c.userId WHERE c.lookup = ? AND c.kind = 'api-key'
                """, [lookup]).map { try AppCredentialOwner(userId: $0["id"], role: Role(rawValue: $0["role"]) ?? .listener, email: $0["email"]) }
        }
    }

    /// The account with this email and its sealed app passwords (none when it has no app password).
    public func appPasswords(email: String) async throws -> (owner: AppCredentialOwner, sealed: [String])? {
        try await storage.read { db in
            guard let row = try db.fetchOne("SELECT id, role, email FROM \"user\" WHERE lower(email) = lower(?)", [email]) else { return nil }
            let owner = try AppCredentialOwner(userId: row["id"], role: Role(rawValue: row["role"]) ?? .listener, email: row["email"])
            let sealed = try db.values(as: String.self, "SELECT sealed FROM appCredential WHERE userId = ? AND kind = 'app-password' ORDER BY id", [owner.userId])
            return (owner, sealed)
        }
    }

    /// Seals every app password again (`reseal` opens one sealed under the old key and seals it under the new, or
    /// gives nil when it cannot be opened: that one is deleted, and its app must get a new password). For a store
    /// that moves to other keys: returns how many were kept and how many deleted.
    public func resealAppPasswords(_ reseal: @escaping @Sendable (String) -> String?) async throws -> (kept: Int, deleted: Int) {
        try await storage.write { db in
            var (kept, deleted) = (0, 0)
            for row in try db.fetchAll("SELECT id, sealed FROM appCredential WHERE kind = 'app-password'", []) {
                let id: Int64 = try row["id"]
                if let sealed = reseal(try row["sealed"]) {
                    try db.execute("UPDATE appCredential SET sealed = ? WHERE id = ?", [sealed, id])
                    kept += 1
                } else {
                    try db.execute("DELETE FROM appCredential WHERE id = ?", [id])
                    deleted += 1
                }
            }
            return (kept, deleted)
        }
    }

    // MARK: Ratings

    /// Rates an item from 1 to 5 stars, or removes the rating with 0.
    public func setRating(_ rating: Int, of kind: ItemKind, _ id: String, by userId: Int64, now: Date) async throws {
        guard (0...5).contains(rating) else { throw SocialError.invalid(field: "rating", message: "a rating is 0 (none) to 5 stars") }
        try await storage.write { db in
            if rating == 0 {
                try db.execute("DELETE FROM rating WHERE userId = ? AND subjectKind = ? AND subjectId = ?", [userId, kind.rawValue, id])
            } else {
                try Self.upsert(db, into: "rating", key: ["userId", "subjectKind", "subjectId"], [
                    ("userId", userId), ("subjectKind", kind.rawValue), ("subjectId", id), ("rating", rating), ("ratedAt", now),
                ])
            }
        }
    }

    /// Counted listens of every track anyone played.
    public func playCounts() async throws -> [String: Int] {
        try await storage.read { db in
            var counts: [String: Int] = [:]
            for row in try db.fetchAll("SELECT trackId, COUNT(*) AS n FROM listen GROUP BY trackId", []) { counts[try row["trackId"]] = try row["n"] }
            return counts
        }
    }

    /// Tracks outside `trackIds` that the listeners of `trackIds` also played, the most shared first (at most
    /// `limit`): "people who play this artist also play".
    public func coListened(with trackIds: [String], limit: Int) async throws -> [String] {
        guard !trackIds.isEmpty, limit > 0 else { return [] }
        let ids = Array(trackIds.prefix(1000))
        return try await storage.read { db in
            let marks = placeholders(ids.count)
            return try db.values(as: String.self, """
                SELECT other.trackId FROM listen other
                WHERE other.userId IN (SELECT DISTINCT userId FROM listen WHERE trackId IN (\(marks))) AND other.trackId NOT IN (\(marks))
                GROUP BY other.trackId ORDER BY COUNT(DISTINCT other.userId) DESC, other.trackId LIMIT ?
                """, SQLArguments(ids.map(\.sqlValue) + ids.map(\.sqlValue) + [.integer(Int64(limit))]))
        }
    }

    // MARK: Playlists as listener apps edit them

    /// The playlists a user owns or was invited to edit, most recently changed first (at most `limit`).
    public func editablePlaylists(of userId: Int64, limit: Int) async throws -> [PlaylistSummary] {
        try await storage.read { db in
            let rows = try db.fetchAll("""
                SELECT p.*, (SELECT COUNT(*) FROM playlistEntry e WHERE e.playlistId = p.id) AS trackCount FROM playlist p
                WHERE p.ownerId = ? OR EXISTS (SELECT 1 FROM playlistCollaborator c WHERE c.playlistId = p.id AND c.userId = ?)
                ORDER BY p.updatedAt DESC, p.id DESC LIMIT ?
                """, [userId, userId, limit])
            let owners = try Self.summaries(db, rows.map { try $0["ownerId"] as Int64 })
            return try rows.compactMap { row in
                try owners[row["ownerId"]].map { owner in
                    try PlaylistSummary(
                        id: row["id"], owner: owner, name: row["name"], visibility: PlaylistVisibility(rawValue: row["visibility"]) ?? .private,
                        trackCount: row["trackCount"], updatedAt: row["updatedAt"])
                }
            }
        }
    }

    /// Removes the entries at `removing` (positions in the current order) and appends `adding` (track ids the caller
    /// checked), in one transaction. Owner or collaborator. With `replacing`, every entry goes first.
    public func editEntries(
        of id: Int64, by userId: Int64, removing: [Int] = [], replacing: Bool = false, adding: [String], now: Date
    ) async throws -> Outcome<Playlist> {
        try await commit { db in
            try Self.requireEditor(db, id, userId)
            var order = try Self.entryIds(db, id)
            let doomed = replacing ? Set(order.indices) : Set(removing)
            guard doomed.allSatisfy(order.indices.contains) else {
                throw SocialError.invalid(field: "songIndexToRemove", message: "playlist \(id) has \(order.count) entries, numbered from 0")
            }
            guard order.count - doomed.count + adding.count <= 10_000 else {
                throw SocialError.invalid(field: "songIdToAdd", message: "a playlist holds at most 10000 tracks")
            }
            for index in doomed { try db.execute("DELETE FROM playlistEntry WHERE id = ?", [order[index]]) }
            order = order.indices.filter { !doomed.contains($0) }.map { order[$0] }
            for trackId in adding {
                order.append(try db.insert("INSERT INTO playlistEntry (playlistId, trackId, position, addedBy, addedAt) VALUES (?, ?, ?, ?, ?)", [id, trackId, 0, userId, now]))
            }
            try Self.writeOrder(db, order)
            return try Self.playlistChanged(db, id, by: userId, summary: "edited", now: now)
        }
    }
}
