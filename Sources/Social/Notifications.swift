import Foundation

extension SocialStore {
    // MARK: Notifications

    /// A user's notifications, newest first.
    public func notifications(for userId: Int64, unreadOnly: Bool, page: PageRequest) async throws -> Page<Notification> {
        try await storage.read { db in
            let rows = try db.fetchAll("SELECT * FROM notification WHERE userId = ? AND id < ? \(unreadOnly ? "AND readAt IS NULL" : "") ORDER BY id DESC LIMIT ?",
                [userId, page.cursor ?? Int64.max, page.limit + 1])
            let actors = try Self.summaries(db, rows.compactMap { try $0["actorId"] as Int64? })
            return try page.page(rows, id: { try $0["id"] }) { row in
                try Notification(
                    id: row["id"], kind: Notification.Kind(rawValue: row["kind"]) ?? .follow,
                    actor: (row["actorId"] as Int64?).flatMap { actors[$0] }, subjectKind: row["subjectKind"], subjectId: row["subjectId"],
                    commentId: row["commentId"], createdAt: row["createdAt"], read: row["readAt"] as Date? != nil)
            }
        }
    }

    public func unreadCount(for userId: Int64) async throws -> Int {
        try await storage.read { db in
            try db.value(as: Int.self, "SELECT COUNT(*) FROM notification WHERE userId = ? AND readAt IS NULL", [userId]) ?? 0
        }
    }

    /// Marks the given notifications (all when nil) read; pushes the new unread count to the user's devices.
    public func markRead(for userId: Int64, ids: [Int64]?, now: Date) async throws -> Outcome<Int> {
        try await commit { db in
            if let ids {
                guard !ids.isEmpty else { return Outcome(value: try Self.unread(db, userId), events: []) }
                try db.execute("UPDATE notification SET readAt = ? WHERE userId = ? AND readAt IS NULL AND id IN (\(placeholders(ids.count)))", [now, userId] + SQLArguments(ids.map(\.sqlValue)))
            } else {
                try db.execute("UPDATE notification SET readAt = ? WHERE userId = ? AND readAt IS NULL", [now, userId])
            }
            let unread = try Self.unread(db, userId)
            struct Count: Encodable { var unread: Int }
            let event = try Self.storeEvent(db, userId: userId, type: "unread", payload: Count(unread: unread), now: now)
            return Outcome(value: unread, events: [event])
        }
    }

    private static func unread(_ db: any SocialSession, _ userId: Int64) throws -> Int {
        try db.value(as: Int.self, "SELECT COUNT(*) FROM notification WHERE userId = ? AND readAt IS NULL", [userId]) ?? 0
    }

    // MARK: Feed

    /// What the people `userId` follows did, newest first. Listens of people who hide their listening are left out,
    /// as are likes of private playlists.
    public func feed(for userId: Int64, page: PageRequest) async throws -> Page<Activity> {
        try await storage.read { db in
            let rows = try db.fetchAll("""
                    SELECT a.* FROM activity a
                    WHERE a.actorId IN (SELECT followeeId FROM follow WHERE followerId = :viewer) AND a.id < :cursor
                    AND (a.kind != 'listen' OR \(Self.listeningVisible("a.actorId", viewer: ":viewer")))
                    AND (a.subjectKind != 'playlist' OR EXISTS (SELECT 1 FROM playlist p WHERE p.id = CASE WHEN a.subjectKind = 'playlist' THEN CAST(a.subjectId AS BIGINT) END AND \(Self.visibleToViewer("p", viewer: ":viewer"))))
                    ORDER BY a.id DESC LIMIT :limit
                    """, ["viewer": userId, "cursor": page.cursor ?? Int64.max, "limit": page.limit + 1])
            let actors = try Self.summaries(db, rows.map { try $0["actorId"] as Int64 })
            return try page.page(rows, id: { try $0["id"] }) { row in
                guard let actor = try actors[row["actorId"]] else { throw SocialError.notFound("user") }
                return try Activity(
                    id: row["id"], actor: actor, kind: Activity.Kind(rawValue: row["kind"]) ?? .comment, subjectKind: row["subjectKind"],
                    subjectId: row["subjectId"], summary: row["summary"], createdAt: row["createdAt"], itemId: row["itemId"])
            }
        }
    }

    // MARK: Live events

    /// The id of the newest stored event (0 when none).
    public func latestEventId() async throws -> Int64 {
        try await storage.read { db in try db.value(as: Int64.self, "SELECT MAX(id) FROM event") ?? 0 }
    }

    /// Forgets events older than `date`; a client away longer than that reloads instead of replaying.
    public func pruneEvents(before date: Date) async throws {
        try await storage.write { db in try db.execute("DELETE FROM event WHERE createdAt < ?", [date]) }
    }

    // MARK: Catalog releases

    /// Notes releases seen in the catalog; the followers of the content owner of each new release's artist are
    /// notified. The first call (an empty record) only takes note.
    public func recordReleases(_ artistOfRelease: [Int64: Int64], now: Date) async throws -> Outcome<Void> {
        try await commit { db in
            let known = Set(try db.values(as: Int64.self, "SELECT releaseId FROM knownRelease"))
            let firstLook = known.isEmpty
            var events: [LiveEvent] = []
            for (releaseId, artistId) in artistOfRelease.sorted(by: { $0.key < $1.key }) where !known.contains(releaseId) {
                try db.execute("INSERT INTO knownRelease (releaseId) VALUES (?)", [releaseId])
                guard !firstLook, let owner = try db.value(as: Int64.self, "SELECT userId FROM artistOwner WHERE artistId = ?", [artistId])
                else { continue }
                for follower in try Self.followerIds(db, of: owner) {
                    events.append(try Self.notify(
                        db, userId: follower, kind: .release, actorId: owner, subjectKind: "release", subjectId: String(releaseId), now: now))
                }
            }
            return Outcome(value: (), events: events)
        }
    }
}
