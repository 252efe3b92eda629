import Foundation
import HTTPTypes
import Hummingbird
import Social

/// `GET /api/events`: the user's Server-Sent Events stream. Each event has an `id:`; a client that reconnects
/// with `Last-Event-ID` (or `?lastEventId=`) first gets what it missed from the stored log. `watch=track:ID`
/// (repeatable, up to 20) adds the comments on the subjects a page shows.
struct EventsController: Sendable {
    let services: Services
    static let maxWatched = 20

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.get("events", use: stream)
    }

    @Sendable func stream(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let watched = request.uri.queryParameters.getAll("watch").map { String($0) }
        guard watched.count <= Self.maxWatched else { throw APIError.badRequest("watch at most \(Self.maxWatched) subjects") }
        for subject in watched {
            let parts = subject.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = CommentSubject(rawValue: parts[0]) else {
                throw APIError.badRequest("watch takes kind:id, with kind one of track, release, playlist, thread")
            }
            try await services.checkSubject(kind, parts[1], viewer: user.id)
        }
        let lastEventText = request.headers[values: .lastEventID].first ?? request.uri.queryParameters["lastEventId"].map(String.init)
        let resumeAfter: Int64
        if let lastEventText {
            guard let value = Int64(lastEventText), value >= 0 else { throw APIError.badRequest("Last-Event-ID must be the id of an event") }
            resumeAfter = value
        } else {
            resumeAfter = try await services.store.latestEventId()
        }

        // Subscribe before replaying, so nothing falls between the replay and the live events.
        let subscription = services.hub.subscribe(userId: user.id, subjects: Set(watched))
        let store = services.store
        let hub = services.hub
        let body = ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
                var last = resumeAfter
                while true {
                    let missed = try await store.events(for: user.id, watching: watched, after: last)
                    for event in missed {
                        try await writer.write(ByteBuffer(string: Self.format(event)))
                        last = event.id
                    }
                    if missed.count < 500 { break }
                }
                for await event in subscription.events {
                    if event.id == EventHub.heartbeatId {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    } else if event.id > last {
                        try await writer.write(ByteBuffer(string: Self.format(event)))
                        last = event.id
                    }
                }
                hub.cancel(subscription.id)
                try await writer.finish(nil)
            } catch {
                hub.cancel(subscription.id)
                throw error
            }
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
