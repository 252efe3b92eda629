import Foundation

extension SocialStore {
    // MARK: Rate limits

    /// Seconds to wait if `key` already had `limit` hits in the `window` seconds before `now`, else nil; with
    /// `counting`, an allowed call is also counted, in the same transaction. Hits live in the database, so every
    /// instance sees them and a restart forgets none. A key keeps at most `limit` hits in its window: nothing is
    /// counted once it is full, and older hits are deleted as it is touched.
    public func rateLimit(_ key: String, limit: Int, window: TimeInterval, now: Date, counting: Bool) async throws -> TimeInterval? {
        try await storage.write { db in
            try db.execute("DELETE FROM rateLimitHit WHERE key = ? AND at <= ?", [key, now.addingTimeInterval(-window)])
            let recent = try db.fetchOne("SELECT COUNT(*) AS hits, MIN(at) AS oldest FROM rateLimitHit WHERE key = ?", [key])
            let hits: Int = try recent?["hits"] ?? 0
            if hits >= limit, let oldest: Date = try recent?["oldest"] {
                return max(1, window - now.timeIntervalSince(oldest))
            }
            if counting { try db.execute("INSERT INTO rateLimitHit (key, at) VALUES (?, ?)", [key, now]) }
            return nil
        }
    }

    /// Counts one hit on `key` (a failed log-in, say), whatever the limit.
    public func recordHit(_ key: String, now: Date) async throws {
        try await storage.write { db in try db.execute("INSERT INTO rateLimitHit (key, at) VALUES (?, ?)", [key, now]) }
    }

    /// Forgets the hits on `key` (a successful log-in clears its failures).
    public func resetHits(_ key: String) async throws {
        try await storage.write { db in try db.execute("DELETE FROM rateLimitHit WHERE key = ?", [key]) }
    }

    /// Forgets hits older than `date` on keys nobody touched since (the watcher calls this now and then).
    public func pruneRateLimits(before date: Date) async throws {
        try await storage.write { db in try db.execute("DELETE FROM rateLimitHit WHERE at < ?", [date]) }
    }

    /// How many hits are stored (tests and health).
    public func rateLimitHitCount() async throws -> Int {
        try await storage.read { db in try db.value(as: Int.self, "SELECT COUNT(*) FROM rateLimitHit") ?? 0 }
    }

    // MARK: Live events for other instances

    /// Every stored event after `afterId`, oldest first, at most `limit`: what an instance relays to its own
    /// streams when PostgreSQL announces a commit (each stream then applies ``admits(_:viewer:)``).
    public func events(after afterId: Int64, limit: Int = 500) async throws -> [LiveEvent] {
        try await storage.read { db in
            try db.fetchAll("SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?", [afterId, limit]).map(Self.liveEvent(from:))
        }
    }
}
