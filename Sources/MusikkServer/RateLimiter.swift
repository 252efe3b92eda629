import Foundation
import Hummingbird
import Social

/// Counts events per key in a sliding window (log-ins per address, failures per account, writes per user). The
/// counts live in the social store, so every instance enforces the same limits and a restart forgets none.
struct RateLimiter: Sendable {
    let store: SocialStore

    /// Seconds to wait if `key` already had `limit` events in the last `window` seconds, else nil.
    func retryAfter(_ key: String, limit: Int, window: TimeInterval, now: Date) async throws -> TimeInterval? {
        try await store.rateLimit(key, limit: limit, window: window, now: now, counting: false)
    }

    /// Refuses (with the seconds to wait) or counts one event, in one transaction.
    func take(_ key: String, limit: Int, window: TimeInterval, now: Date) async throws -> TimeInterval? {
        try await store.rateLimit(key, limit: limit, window: window, now: now, counting: true)
    }

    func record(_ key: String, now: Date) async throws {
        try await store.recordHit(key, now: now)
    }

    func reset(_ key: String) async throws {
        try await store.resetHits(key)
    }
}

/// Bounds how fast one user posts: comments, forum posts, threads and forums.
struct PostingLimit: Sendable {
    let limiter: RateLimiter
    let perMinute: Int
    let clock: @Sendable () -> Date

    /// Counts a new post of the user, refusing it with 429 past the limit.
    func take(_ user: AuthenticatedUser) async throws {
        if let wait = try await limiter.take("posts:\(user.id)", limit: perMinute, window: 60, now: clock()) {
            throw APIError(
                .tooManyRequests, "rate_limited", "you are posting faster than \(perMinute) a minute; wait a little",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
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
           let wait = try await limiter.take("writes:\(user.id)", limit: perMinute, window: 60, now: clock())
        {
            throw APIError(
                .tooManyRequests, "rate_limited", "you are making changes faster than \(perMinute) a minute; wait a little",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
        return try await next(request, context)
    }
}
