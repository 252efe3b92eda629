import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Social

/// `GET /api/events`: the user's Server-Sent Events stream. Each event has an `id:`; a client that reconnects
/// with `Last-Event-ID` (or `?lastEventId=`) first gets what it missed from the stored log. `watch=track:ID`
/// (repeatable, up to 20) adds the comments on the subjects a page shows. Every event, live or replayed, is sent
/// only if the store still admits it for this user (``SocialStore/admits(_:viewer:)``).
struct EventsController: Sendable {
    let store: SocialStore
    let subjects: Subjects
    let hub: EventHub
    static let maxWatched = 20

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("events", use: stream)
    }

    @Sendable func stream(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let user = context.user
        let watched = request.uri.queryParameters.getAll("watch").map { String($0) }
        guard watched.count <= Self.maxWatched else { throw APIError.badRequest("watch at most \(Self.maxWatched) subjects") }
        for subject in watched {
            let parts = subject.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = CommentSubject(rawValue: parts[0]) else {
                throw APIError.badRequest("watch takes kind:id, with kind one of track, release, playlist, thread")
            }
            try await subjects.checkSubject(kind, parts[1], viewer: user.id)
        }
        let lastEventText = request.headers[values: .lastEventID].first ?? request.uri.queryParameters["lastEventId"].map(String.init)
        let resumeAfter: Int64
        if let lastEventText {
            guard let value = Int64(lastEventText), value >= 0 else { throw APIError.badRequest("Last-Event-ID must be the id of an event") }
            resumeAfter = value
        } else {
            resumeAfter = try await store.latestEventId()
        }

        // Subscribe before replaying, so nothing falls between the replay and the live events.
        let subscription: (id: UUID, events: AsyncStream<LiveEvent>)
        do {
            subscription = try hub.subscribe(userId: user.id, subjects: Set(watched))
        } catch .userAtLimit {
            throw APIError(
                .tooManyRequests, "too_many_streams", "you have \(hub.maximumPerUser) event streams open already; close a tab or device first",
                headers: [.retryAfter: "30"])
        } catch .serverAtLimit {
            throw APIError(.serviceUnavailable, "busy", "the server holds as many event streams as it can; try again shortly", headers: [.retryAfter: "30"])
        }
        let body = ResponseBody { writer in
            defer { hub.cancel(subscription.id) }
            // A server shutting down ends the stream (the client reconnects to another instance or later).
            try await withGracefulShutdownHandler {
                try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
                var last = resumeAfter
                while true {
                    let missed = try await store.events(for: user.id, watching: watched, after: last)
                    guard let newest = missed.last else { break }
                    for event in missed { try await writer.write(ByteBuffer(string: Self.format(event))) }
                    last = newest.id
                }
                for await event in subscription.events {
                    if event.id == EventHub.heartbeatId {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    } else if event.id > last {
                        // Whether it may reach this user is decided now, as the REST endpoints would decide it.
                        if try await store.admits(event, viewer: user.id) {
                            try await writer.write(ByteBuffer(string: Self.format(event)))
                        }
                        last = event.id
                    }
                }
            } onGracefulShutdown: {
                hub.cancel(subscription.id)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }

    /// One event in the SSE wire format. The data is one line of JSON (JSON text has no raw newlines).
    static func format(_ event: LiveEvent) -> String {
        "id: \(event.id)\nevent: \(event.type)\ndata: \(event.data)\n\n"
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
