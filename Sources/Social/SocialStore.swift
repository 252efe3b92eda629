import Foundation

/// Where the live events of committed changes go: the server's hub, which pushes them to open streams.
public protocol LiveEventSink: Sendable {
    func publish(_ events: [LiveEvent])
}

/// A sink for a store nobody listens to live (admin commands, tests that read the stored events).
public struct NoLiveEvents: LiveEventSink {
    public init() {}
    public func publish(_ events: [LiveEvent]) {}
}

/// Every read and write of the social data. Methods take the time from the caller (so tests control the clock).
/// A change stores its live events in the same transaction and, once committed, hands them to the sink: callers
/// never push events themselves, so none can forget to.
public struct SocialStore: Sendable {
    let storage: any SocialStorage
    let sink: any LiveEventSink

    public init(_ storage: any SocialStorage, events sink: any LiveEventSink = NoLiveEvents()) {
        self.storage = storage
        self.sink = sink
    }

    /// A write's result and the live events it stored (already handed to the sink).
    public struct Outcome<Value: Sendable>: Sendable {
        public var value: Value
        public var events: [LiveEvent]
    }

    /// Runs `change` in one transaction, then publishes its events: after the commit, so a stream never shows a
    /// change that was rolled back.
    func commit<Value: Sendable>(_ change: @escaping @Sendable (any SocialSession) throws -> Outcome<Value>) async throws -> Outcome<Value> {
        let outcome = try await storage.write(change)
        sink.publish(outcome.events)
        return outcome
    }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

// MARK: Helpers shared by the feature files

extension SocialStore {
    /// UTF-8 bytes a text may take per character of its limit. A character (grapheme cluster) can hold any number
    /// of combining marks, so a limit in characters alone bounds nothing; four bytes per character fits every
    /// script and most emoji.
    static let bytesPerCharacter = 4

    /// Checks a text field: trimmed length within bounds in characters and in UTF-8 bytes (`max` ×
    /// ``bytesPerCharacter``), and no control characters (newlines and tabs are allowed only where `multiline`).
    static func checkedText(_ value: String, field: String, min: Int = 1, max: Int, multiline: Bool = false) throws -> String {
        // Bytes first: counting characters of a huge text would cost as much as the text.
        guard value.utf8.count <= max * bytesPerCharacter + 1024 else {
            throw SocialError.invalid(field: field, message: "\(field) is longer than \(max) characters (\(max * bytesPerCharacter) bytes)")
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= min else {
            throw SocialError.invalid(field: field, message: min == 1 ? "\(field) must not be empty" : "\(field) needs at least \(min) characters")
        }
        guard trimmed.count <= max, trimmed.utf8.count <= max * bytesPerCharacter else {
            throw SocialError.invalid(field: field, message: "\(field) is longer than \(max) characters (\(max * bytesPerCharacter) bytes)")
        }
        let allowed: Set<Unicode.Scalar> = multiline ? ["\n", "\t", "\r"] : []
        if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !allowed.contains($0) }) {
            throw SocialError.invalid(field: field, message: "\(field) contains control characters")
        }
        return trimmed
    }

    static func avatarURL(userId: Int64, version: Int64, type: String?) -> String? {
        type == nil ? nil : "/api/users/\(userId)/avatar?v=\(version)"
    }

    static func summaries(_ db: any SocialSession, _ ids: some Sequence<Int64>) throws -> [Int64: UserSummary] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        let rows = try db.fetchAll("SELECT id, displayName, avatarType, avatarVersion FROM \"user\" WHERE id IN (\(placeholders(unique.count)))", SQLArguments(unique.map(\.sqlValue)))
        var result: [Int64: UserSummary] = [:]
        for row in rows {
            let id: Int64 = try row["id"]
            result[id] = try UserSummary(id: id, displayName: row["displayName"], avatarUrl: avatarURL(userId: id, version: row["avatarVersion"], type: row["avatarType"]))
        }
        return result
    }

    static func summary(_ db: any SocialSession, _ id: Int64) throws -> UserSummary {
        guard let summary = try summaries(db, [id])[id] else { throw SocialError.notFound("user \(id)") }
        return summary
    }

    static func userExists(_ db: any SocialSession, _ id: Int64) throws -> Bool {
        try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM \"user\" WHERE id = ?)", [id]) ?? false
    }

    static func follows(_ db: any SocialSession, follower: Int64, followee: Int64) throws -> Bool {
        try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM follow WHERE followerId = ? AND followeeId = ?)", [follower, followee]) ?? false
    }

    static func followerIds(_ db: any SocialSession, of userId: Int64) throws -> [Int64] {
        try db.values(as: Int64.self, "SELECT followerId FROM follow WHERE followeeId = ?", [userId])
    }

    /// Stores a live event for one user or for the watchers of a subject, with who may still receive it.
    static func storeEvent(
        _ db: any SocialSession, userId: Int64? = nil, subject: String? = nil, type: String, payload: some Encodable, audience: EventAudience = .everyone,
        now: Date
    ) throws -> LiveEvent {
        let data = String(decoding: try jsonEncoder.encode(payload), as: UTF8.self)
        try db.willStoreEvents()
        let id = try db.insert("""
                INSERT INTO event (userId, subject, type, data, createdAt, audiencePlaylist, audienceListener, audienceFollowee)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [userId, subject, type, data, now, audience.playlist, audience.listener, audience.followee])
        return LiveEvent(id: id, userId: userId, subject: subject, type: type, data: data, restricted: audience.isRestricted)
    }

    /// Stores a notification and the live event that carries it to its recipient.
    static func notify(
        _ db: any SocialSession, userId: Int64, kind: Notification.Kind, actorId: Int64?, subjectKind: String, subjectId: String,
        commentId: Int64? = nil, now: Date
    ) throws -> LiveEvent {
        let id = try db.insert("INSERT INTO notification (userId, kind, actorId, subjectKind, subjectId, commentId, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)", [userId, kind.rawValue, actorId, subjectKind, subjectId, commentId, now])
        let notification = Notification(
            id: id, kind: kind, actor: try actorId.map { try summary(db, $0) }, subjectKind: subjectKind,
            subjectId: subjectId, commentId: commentId, createdAt: now, read: false)
        return try storeEvent(db, userId: userId, type: "notification", payload: notification, audience: .about(subjectKind, subjectId), now: now)
    }

    /// Records an activity for the feed and pushes it to the actor's followers.
    static func recordActivity(
        _ db: any SocialSession, actorId: Int64, kind: Activity.Kind, subjectKind: String, subjectId: String, summary text: String,
        itemId: String? = nil, now: Date
    ) throws -> [LiveEvent] {
        let id = try db.insert("INSERT INTO activity (actorId, kind, subjectKind, subjectId, summary, itemId, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)", [actorId, kind.rawValue, subjectKind, subjectId, text, itemId, now])
        let activity = Activity(
            id: id, actor: try summary(db, actorId), kind: kind, subjectKind: subjectKind, subjectId: subjectId,
            summary: text, createdAt: now, itemId: itemId)
        var audience = EventAudience.about(subjectKind, subjectId)
        audience.followee = actorId
        if kind == .listen { audience.listener = actorId }
        return try followerIds(db, of: actorId).map { try storeEvent(db, userId: $0, type: "activity", payload: activity, audience: audience, now: now) }
    }

    /// Inserts a row, or updates the row with the same `key` columns to these values.
    static func upsert(_ db: any SocialSession, into table: String, key: [String], _ columns: [(String, any SQLBindable)]) throws {
        let names = columns.map(\.0)
        let updates = names.filter { !key.contains($0) }.map { "\($0) = excluded.\($0)" }
        try db.execute(
            "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(placeholders(names.count))) "
                + "ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(updates.joined(separator: ", "))",
            SQLArguments(columns.map(\.1.sqlValue)))
    }

    static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(79)) + "…"
    }
}
