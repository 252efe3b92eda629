import Foundation
import Hummingbird

/// Counts events per key in a sliding window (log-ins per address, failures per account, writes per user). Memory
/// is bounded whoever calls: a key keeps at most its limit's timestamps, and past `maximumKeys` keys the ones with
/// nothing recent are forgotten first, then the longest idle.
actor RateLimiter {
    private var events: [String: [Date]] = [:]
    let maximumKeys: Int

    init(maximumKeys: Int = 100_000) {
        self.maximumKeys = maximumKeys
    }

    /// Seconds to wait if `key` already had `limit` events in the last `window` seconds, else nil.
    func retryAfter(_ key: String, limit: Int, window: TimeInterval, now: Date) -> TimeInterval? {
        let recent = (events[key] ?? []).filter { now.timeIntervalSince($0) < window }.suffix(limit)
        events[key] = recent.isEmpty ? nil : Array(recent)
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return max(1, window - now.timeIntervalSince(oldest))
    }

    /// Refuses (with the seconds to wait) or counts one event: `retryAfter` and `record` in one step.
    func take(_ key: String, limit: Int, window: TimeInterval, now: Date) -> TimeInterval? {
        if let wait = retryAfter(key, limit: limit, window: window, now: now) { return wait }
        record(key, now: now)
        return nil
    }

    func record(_ key: String, now: Date) {
        if events[key] == nil, events.count >= maximumKeys { evict(now: now) }
        events[key, default: []].append(now)
    }

    func reset(_ key: String) {
        events[key] = nil
    }

    /// How many keys are remembered.
    var keyCount: Int { events.count }

    /// Makes room for a key: drops keys idle for an hour or more; if none is, the tenth idle longest.
    private func evict(now: Date) {
        events = events.filter { now.timeIntervalSince($0.value.last ?? .distantPast) < 3600 }
        guard events.count >= maximumKeys else { return }
        let idlest = events.sorted { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) }.prefix(max(1, maximumKeys / 10))
        for (key, _) in idlest { events[key] = nil }
    }
}

/// Bounds how fast one user changes things: every request but GET and HEAD counts against `perMinute`.
struct WriteLimitMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let limiter: RateLimiter
    let perMinute: Int
    let clock: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method != .get, request.method != .head, let user = context.user,
           let wait = await limiter.take("writes:\(user.id)", limit: perMinute, window: 60, now: clock())
        {
            throw APIError(
                .tooManyRequests, "rate_limited", "you are making changes faster than \(perMinute) a minute; wait a little",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
        return try await next(request, context)
    }
}
