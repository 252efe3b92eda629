import Foundation
import Hummingbird
import Social

/// Notifications and the feed.
struct ActivityController: Sendable {
    let services: Services

    struct MarkRead: Decodable {
        /// The notifications to mark read; all when absent.
        var ids: [Int64]?
    }

    struct UnreadCount: Encodable, Sendable {
        var unread: Int
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("notifications") { request, context in
            let user = context.user
            let page = try await services.store.notifications(
                for: user.id, unreadOnly: request.uri.queryParameters["unread"] == "true", page: try request.pageRequest())
            return JSON(await services.titled(page, viewer: user.id))
        }
        group.get("notifications/unread-count") { _, context in
            JSON(UnreadCount(unread: try await services.store.unreadCount(for: context.user.id)))
        }
        group.post("notifications/read") { request, context in
            let input = try await request.decode(as: MarkRead.self, context: context)
            guard (input.ids?.count ?? 0) <= 500 else { throw APIError.badRequest("mark at most 500 notifications at once") }
            let outcome = try await services.store.markRead(for: context.user.id, ids: input.ids, now: services.now)
            return JSON(UnreadCount(unread: outcome.value))
        }
        group.get("feed") { request, context in
            let user = context.user
            return JSON(await services.titledFeed(try await services.store.feed(for: user.id, page: try request.pageRequest()), viewer: user.id))
        }
    }
}
