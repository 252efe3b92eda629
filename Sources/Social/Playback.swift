import Foundation

/// The result of a queue write.
public enum QueueWrite: Sendable {
    case written(PlayQueue)
    /// The write named an older version; here is the current queue to merge with.
    case conflict(PlayQueue)
}

/// What the player says it is doing.
public enum PlaybackState: String, Codable, Sendable {
    case playing, paused, stopped
}

extension SocialStore {
    /// Seconds of playback after which a listen counts (the usual royalty threshold). A track shorter than that
    /// counts when played to its end.
    public static let listenThreshold: Double = 30
    /// Seconds a position may run ahead of the wall clock between two reports (network delay).
    static let reportSlack: Double = 1
    /// Tracks a play queue holds.
    public static let maxQueueLength = 1000
    /// A "now playing" older than this is no longer shown.
    public static let nowPlayingLifetime: TimeInterval = 120

    // MARK: Queue

    public func queue(of userId: Int64) async throws -> PlayQueue {
        try await storage.read { db in try Self.queue(db, userId) }
    }

    /// Replaces the queue if `expectedVersion` is the current one, and pushes it to the user's devices.
    public func writeQueue(
        of userId: Int64, expectedVersion: Int64, trackIds: [String], currentIndex: Int, positionSeconds: Double, device: String, now: Date
    ) async throws -> Outcome<QueueWrite> {
        guard trackIds.count <= Self.maxQueueLength else {
            throw SocialError.invalid(field: "trackIds", message: "a queue holds at most \(Self.maxQueueLength) tracks")
        }
        guard trackIds.isEmpty ? currentIndex == 0 : trackIds.indices.contains(currentIndex) else {
            throw SocialError.invalid(field: "currentIndex", message: "currentIndex must point into trackIds")
        }
        guard positionSeconds.isFinite, positionSeconds >= 0 else {
            throw SocialError.invalid(field: "positionSeconds", message: "positionSeconds must be a number of seconds, 0 or more")
        }
        let device = try Self.checkedText(device, field: "device", max: 64)
        return try await commit { db in
            let current = try Self.queue(db, userId)
            guard current.version == expectedVersion else { return Outcome(value: QueueWrite.conflict(current), events: []) }
            let queue = PlayQueue(
                version: current.version + 1, trackIds: trackIds, currentIndex: currentIndex, positionSeconds: positionSeconds, device: device,
                updatedAt: now)
            try Self.upsert(db, into: "queue", key: ["userId"], [
                ("userId", userId), ("version", queue.version), ("items", String(decoding: try Self.jsonEncoder.encode(trackIds), as: UTF8.self)),
                ("currentIndex", currentIndex), ("positionSeconds", positionSeconds), ("device", device), ("updatedAt", now),
            ])
            let event = try Self.storeEvent(db, userId: userId, type: "queue", payload: queue, now: now)
            return Outcome(value: .written(queue), events: [event])
        }
    }

    private static func queue(_ db: any SocialSession, _ userId: Int64) throws -> PlayQueue {
        guard let row = try db.fetchOne("SELECT * FROM queue WHERE userId = ?", [userId]) else {
            return PlayQueue(version: 0, trackIds: [], currentIndex: 0, positionSeconds: 0, device: "", updatedAt: nil)
        }
        return try PlayQueue(
            version: row["version"], trackIds: try JSONDecoder().decode([String].self, from: Data((row["items"] as String).utf8)),
            currentIndex: row["currentIndex"], positionSeconds: row["positionSeconds"], device: row["device"], updatedAt: row["updatedAt"])
    }

    // MARK: Listens

    /// Takes a progress report of one playback session. Played time grows only by position advances that fit in the
    /// wall-clock time since the last report (seeks and replays of old reports add nothing); once it reaches the
    /// threshold the listen is counted, once per session. Returns whether this report counted it.
    ///
    /// A player that cannot tell its position (a Subsonic scrobble) passes nil: the position is then where playing
    /// on since the last report would have reached. `startsOver` begins a new session even on the same track (a
    /// replay).
    public func reportProgress(
        of userId: Int64, session sessionId: String, trackId: String, trackDuration: Double, positionSeconds reported: Double?, state: PlaybackState,
        startsOver: Bool = false, now: Date
    ) async throws -> Outcome<Bool> {
        let sessionId = try Self.checkedText(sessionId, field: "sessionId", max: 64)
        if let reported {
            guard reported.isFinite, reported >= 0, reported <= trackDuration + 1 else {
                throw SocialError.invalid(
                    field: "positionSeconds", message: "positionSeconds must lie within the track (0 to \(trackDuration.rounded(.up).formatted(.number.grouping(.never))) s)")
            }
        }
        return try await commit { db in
            var events: [LiveEvent] = []
            let row = try db.fetchOne("SELECT * FROM listenSession WHERE userId = ? AND sessionId = ?", [userId, sessionId])
            var played = 0.0
            var counted = false
            let isNewSession = try startsOver || row == nil || (row?["trackId"] as String?) != trackId
            var positionSeconds = reported ?? 0
            if reported == nil, let row, !isNewSession {
                let elapsed = try max(0, now.timeIntervalSince(row["lastReportAt"] as Date))
                positionSeconds = try min(trackDuration, (row["lastPosition"] as Double) + elapsed)
            }
            if let row, !isNewSession {
                played = try row["playedSeconds"]
                counted = try row["counted"]
                let advance = try positionSeconds - (row["lastPosition"] as Double)
                let elapsed = try now.timeIntervalSince(row["lastReportAt"] as Date)
                if advance > 0, advance <= elapsed + Self.reportSlack { played += try Self.creditListening(db, userId, advance, now: now) }
            }
            let startedAt: Date = try row.flatMap { isNewSession ? nil : try $0["startedAt"] as Date } ?? now
            try Self.upsert(db, into: "listenSession", key: ["userId", "sessionId"], [
                ("userId", userId), ("sessionId", sessionId), ("trackId", trackId), ("startedAt", startedAt), ("lastReportAt", now),
                ("lastPosition", positionSeconds), ("playedSeconds", played), ("counted", counted),
            ])

            let visibility = try db.value(as: String.self, "SELECT nowPlayingVisibility FROM \"user\" WHERE id = ?", [userId]) ?? "followers"
            var countedNow = false
            if !counted, played >= min(Self.listenThreshold, trackDuration - 0.5) {
                countedNow = true
                try db.execute("UPDATE listenSession SET counted = 1 WHERE userId = ? AND sessionId = ?", [userId, sessionId])
                try db.execute("INSERT INTO listen (userId, trackId, listenedAt) VALUES (?, ?, ?)", [userId, trackId, now])
                if visibility != ListeningVisibility.nobody.rawValue {
                    events += try Self.recordActivity(db, actorId: userId, kind: .listen, subjectKind: "track", subjectId: trackId, summary: "listened", now: now)
                }
            }

            let wasPlaying = try db.value(as: String.self, "SELECT trackId FROM nowPlaying WHERE userId = ?", [userId])
            if state == .playing {
                try Self.upsert(
                    db, into: "nowPlaying", key: ["userId"], [("userId", userId), ("trackId", trackId), ("positionSeconds", positionSeconds), ("updatedAt", now)])
            } else {
                try db.execute("DELETE FROM nowPlaying WHERE userId = ?", [userId])
            }
            // Followers hear about a change of track or a stop, not every progress report.
            let isPlaying: String? = state == .playing ? trackId : nil
            if isPlaying != wasPlaying, visibility != ListeningVisibility.nobody.rawValue {
                struct Change: Encodable { var user: UserSummary; var trackId: String?; var positionSeconds: Double }
                let change = Change(user: try Self.summary(db, userId), trackId: isPlaying, positionSeconds: positionSeconds)
                for follower in try Self.followerIds(db, of: userId) {
                    events.append(try Self.storeEvent(
                        db, userId: follower, type: "now-playing", payload: change, audience: EventAudience(listener: userId), now: now))
                }
            }
            return Outcome(value: countedNow, events: events)
        }
    }

    /// Credits up to `seconds` of listening that ended `now` to the account, but only the part after what it was
    /// already credited for: however many sessions report at once, an account's counted listening never exceeds
    /// the wall-clock time. Returns the seconds credited.
    private static func creditListening(_ db: any SocialSession, _ userId: Int64, _ seconds: Double, now: Date) throws -> Double {
        let creditedUntil = try db.value(as: Date.self, "SELECT creditedUntil FROM listenClock WHERE userId = ?", [userId])
        let credit = creditedUntil.map { min(seconds, max(0, now.timeIntervalSince($0))) } ?? seconds
        guard credit > 0 else { return 0 }
        try upsert(db, into: "listenClock", key: ["userId"], [("userId", userId), ("creditedUntil", now)])
        return credit
    }

    /// How many counted listens a track has.
    public func playCount(of trackId: String) async throws -> Int {
        try await storage.read { db in try db.value(as: Int.self, "SELECT COUNT(*) FROM listen WHERE trackId = ?", [trackId]) ?? 0 }
    }

    /// Whether `viewer` may see what `userId` listens to.
    public func canSeeListening(of userId: Int64, viewer: Int64) async throws -> Bool {
        try await storage.read { db in try Self.canSeeListening(db, userId, viewer) }
    }

    static func canSeeListening(_ db: any SocialSession, _ userId: Int64, _ viewer: Int64) throws -> Bool {
        guard try userExists(db, userId) else { throw SocialError.notFound("user \(userId)") }
        return try db.value(as: Bool.self, "SELECT \(listeningVisible(":user", viewer: ":viewer"))", ["user": userId, "viewer": viewer]) ?? false
    }

    /// A user's counted listens, newest first, if their privacy setting lets the viewer see them (else nil).
    public func listens(of userId: Int64, viewer: Int64, page: PageRequest) async throws -> Page<Listen>? {
        try await storage.read { db in
            guard try Self.canSeeListening(db, userId, viewer) else { return nil }
            let rows = try db.fetchAll("SELECT * FROM listen WHERE userId = ? AND id < ? ORDER BY id DESC LIMIT ?", [userId, page.cursor ?? Int64.max, page.limit + 1])
            return try page.page(rows, id: { try $0["id"] }) { try Listen(id: $0["id"], trackId: $0["trackId"], listenedAt: $0["listenedAt"]) }
        }
    }

    /// What a user plays now, if anything and if the viewer may see it.
    public func nowPlaying(of userId: Int64, viewer: Int64, now: Date) async throws -> NowPlaying? {
        try await storage.read { db in
            guard try Self.canSeeListening(db, userId, viewer) else { return nil }
            return try Self.nowPlaying(db, userIds: [userId], now: now).first
        }
    }

    /// What the people the viewer follows play now, where their settings allow it.
    public func friendsNowPlaying(viewer: Int64, now: Date) async throws -> [NowPlaying] {
        try await storage.read { db in
            let ids = try db.values(as: Int64.self, """
                    SELECT f.followeeId FROM follow f JOIN "user" u ON u.id = f.followeeId
                    WHERE f.followerId = ? AND u.nowPlayingVisibility != 'nobody'
                    """, [viewer])
            return try Self.nowPlaying(db, userIds: ids, now: now)
        }
    }

    private static func nowPlaying(_ db: any SocialSession, userIds: [Int64], now: Date) throws -> [NowPlaying] {
        guard !userIds.isEmpty else { return [] }
        let rows = try db.fetchAll("SELECT * FROM nowPlaying WHERE updatedAt >= ? AND userId IN (\(placeholders(userIds.count))) ORDER BY updatedAt DESC", SQLArguments([now.addingTimeInterval(-nowPlayingLifetime).sqlValue] + userIds.map(\.sqlValue)))
        let users = try summaries(db, rows.map { try $0["userId"] as Int64 })
        return try rows.compactMap { row in
            try users[row["userId"]].map { try NowPlaying(user: $0, trackId: row["trackId"], positionSeconds: row["positionSeconds"], updatedAt: row["updatedAt"]) }
        }
    }
}
