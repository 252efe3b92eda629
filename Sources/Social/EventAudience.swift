import Foundation

/// Who may still receive a stored live event. An event is addressed when it is stored (a user, or the watchers
/// of a subject), but whether its recipient may see it is decided when it is delivered or replayed, with the same
/// rules the REST endpoints apply: a playlist turned private, a listener who hid their listening, or an unfollow
/// all stop events that were addressed before.
struct EventAudience: Sendable {
    /// The event is about this playlist: only those who can see it now receive it.
    var playlist: Int64?
    /// The event tells what this user listens to: only those their listening setting admits receive it.
    var listener: Int64?
    /// The event is activity of this user: only their current followers (and they themselves) receive it.
    var followee: Int64?

    static let everyone = EventAudience()

    /// The audience of an event about `subjectKind`/`subjectId` (restricted when the subject is a playlist).
    static func about(_ subjectKind: String, _ subjectId: String) -> EventAudience {
        EventAudience(playlist: subjectKind == CommentSubject.playlist.rawValue ? Int64(subjectId) ?? -1 : nil)
    }

    var isRestricted: Bool { playlist != nil || listener != nil || followee != nil }
}

extension SocialStore {
    /// SQL that holds when `viewer` may see what the user `user` listens to (both are SQL expressions): their own,
    /// or the user's setting is `everyone`, or `followers` and the viewer follows them.
    static func listeningVisible(_ user: String, viewer: String) -> String {
        """
        (\(user) = \(viewer) OR EXISTS (SELECT 1 FROM "user" lu WHERE lu.id = \(user) AND (lu.nowPlayingVisibility = 'everyone'
            OR (lu.nowPlayingVisibility = 'followers' AND EXISTS (SELECT 1 FROM follow lf WHERE lf.followerId = \(viewer) AND lf.followeeId = \(user))))))
        """
    }

    /// SQL that holds when the stored event aliased `event` may reach `viewer` (an SQL expression) now.
    static func audienceAdmits(_ event: String, viewer: String) -> String {
        """
        (\(event).audiencePlaylist IS NULL OR EXISTS (SELECT 1 FROM playlist ap WHERE ap.id = \(event).audiencePlaylist
            AND \(visibleToViewer("ap", viewer: viewer))))
        AND (\(event).audienceListener IS NULL OR \(listeningVisible("\(event).audienceListener", viewer: viewer)))
        AND (\(event).audienceFollowee IS NULL OR \(event).audienceFollowee = \(viewer)
            OR EXISTS (SELECT 1 FROM follow af WHERE af.followerId = \(viewer) AND af.followeeId = \(event).audienceFollowee))
        """
    }

    /// Whether a live event may reach `viewer` now (events without restrictions always may).
    public func admits(_ event: LiveEvent, viewer: Int64) async throws -> Bool {
        guard event.restricted else { return true }
        return try await storage.read { db in
            try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM event e WHERE e.id = :id AND \(Self.audienceAdmits("e", viewer: ":viewer")))", ["id": event.id, "viewer": viewer]) ?? false
        }
    }

    /// The stored events after `afterId` for a user and the subjects they watch that may reach them now, oldest
    /// first: at most `limit` events, and no more than `maxBytes` of event data past the first.
    public func events(for userId: Int64, watching subjects: [String], after afterId: Int64, limit: Int = 500, maxBytes: Int = 1 << 20) async throws -> [LiveEvent] {
        var arguments: SQLArguments = ["after": afterId, "viewer": userId, "limit": limit, "maxBytes": maxBytes]
        for (index, subject) in subjects.enumerated() { arguments.named["subject\(index)"] = .text(subject) }
        let subjectList = subjects.isEmpty ? "NULL" : subjects.indices.map { ":subject\($0)" }.joined(separator: ", ")
        let query = arguments
        return try await storage.read { db in
            try db.fetchAll("""
                    SELECT * FROM (
                        SELECT e.*, SUM(length(e.data)) OVER (ORDER BY e.id) - length(e.data) AS bytesBefore FROM event e
                        WHERE e.id > :after AND (e.userId = :viewer OR e.subject IN (\(subjectList)))
                        AND \(Self.audienceAdmits("e", viewer: ":viewer"))
                        ORDER BY e.id LIMIT :limit
                    ) AS page WHERE bytesBefore = 0 OR bytesBefore < :maxBytes ORDER BY id
                    """, query
            ).map(Self.liveEvent(from:))
        }
    }

    static func liveEvent(from row: SQLRow) throws -> LiveEvent {
        let restricted = try row["audiencePlaylist"] as Int64? != nil || row["audienceListener"] as Int64? != nil
            || row["audienceFollowee"] as Int64? != nil
        return try LiveEvent(id: row["id"], userId: row["userId"], subject: row["subject"], type: row["type"], data: row["data"], restricted: restricted)
    }
}
