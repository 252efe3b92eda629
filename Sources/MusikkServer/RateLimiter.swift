import Foundation

/// Counts events per key in a sliding window (login attempts per address, failures per account).
actor RateLimiter {
    private var events: [String: [Date]] = [:]

    /// Seconds to wait if `key` already had `limit` events in the last `window` seconds, else nil.
    func retryAfter(_ key: String, limit: Int, window: TimeInterval, now: Date) -> TimeInterval? {
        let recent = (events[key] ?? []).filter { now.timeIntervalSince($0) < window }
        events[key] = recent.isEmpty ? nil : recent
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return max(1, window - now.timeIntervalSince(oldest))
    }

    func record(_ key: String, now: Date) {
        events[key, default: []].append(now)
    }

    func reset(_ key: String) {
        events[key] = nil
    }
}
