import Foundation
import Hummingbird
import Social

/// Notifications and the feed.
struct ActivityController: Sendable {
    let store: SocialStore
    let subjects: Subjects
    let clock: @Sendable () -> Date

    struct MarkRead: Decodable {
        /// The notifications to mark read; all when absent.
        var ids: [Int64]?
    }

    struct UnreadCount: Encodable, Sendable {
        var unread: Int
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("notifications", use: notifications)
        group.get("notifications/unread-count", use: unreadCount)
        group.post("notifications/read", use: markRead)
        group.get("feed", use: feed)
    }

    @Sendable func notifications(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<Social.Notification>> {
        let page = try await store.notifications(
            for: context.user.id, unreadOnly: request.uri.queryParameters["unread"] == "true", page: try request.pageRequest())
        return JSON(await subjects.titled(page, viewer: context.user.id))
    }

    @Sendable func unreadCount(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<UnreadCount> {
        JSON(UnreadCount(unread: try await store.unreadCount(for: context.user.id)))
    }

    @Sendable func markRead(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<UnreadCount> {
        let input = try await request.decode(as: MarkRead.self, context: context)
        guard (input.ids?.count ?? 0) <= 500 else { throw APIError.badRequest("mark at most 500 notifications at once") }
        let outcome = try await store.markRead(for: context.user.id, ids: input.ids, now: clock())
        return JSON(UnreadCount(unread: outcome.value))
    }

    @Sendable func feed(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<Activity>> {
        let page = try await store.feed(for: context.user.id, page: try request.pageRequest())
        return JSON(await subjects.titledFeed(page, viewer: context.user.id))
    }
}
