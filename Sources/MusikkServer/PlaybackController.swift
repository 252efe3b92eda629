import Foundation
import Hummingbird
import Social

/// The play queue shared by a user's devices, and listen reports.
struct PlaybackController: Sendable {
    let store: SocialStore
    let links: CatalogLinks
    let clock: @Sendable () -> Date

    struct QueueInput: Decodable {
        /// The version this write is based on (from the last GET or push).
        var version: Int64
        var trackIds: [String]
        var currentIndex: Int
        var positionSeconds: Double
        /// A name for the writing device, so that it can ignore the push of its own write.
        var device: String
    }

    /// 409's body: the error and the current queue to merge with.
    struct QueueConflict: Encodable, Sendable {
        struct Detail: Encodable, Sendable {
            var code = "queue_version_conflict"
            var message = "another device changed the queue first; merge with `current` and write again with its version"
        }
        var error = Detail()
        var current: PlayQueue
    }

    struct ListenReport: Decodable {
        /// One id per playback of a track on a device (a new one when the same track is played again).
        var sessionId: String
        var trackId: String
        var positionSeconds: Double
        var state: PlaybackState
    }

    struct ListenAnswer: Encodable, Sendable {
        /// Whether this report made the playback count as a listen.
        var counted: Bool
        var playCount: Int
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("queue", use: queue)
        group.put("queue", use: writeQueue)
        group.post("listens", use: reportListen)
    }

    @Sendable func queue(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<PlayQueue> {
        JSON(try await store.queue(of: context.user.id))
    }

    /// Writes the queue if `version` is still current; else 409 with the current queue to merge with.
    @Sendable func writeQueue(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let input = try await request.decode(as: QueueInput.self, context: context)
        for id in input.trackIds { _ = try links.track(id) }
        let outcome = try await store.writeQueue(
            of: context.user.id, expectedVersion: input.version, trackIds: input.trackIds, currentIndex: input.currentIndex,
            positionSeconds: input.positionSeconds, device: input.device, now: clock())
        switch outcome.value {
        case .written(let queue): return try JSON(queue).response(from: request, context: context)
        case .conflict(let current): return try JSON(QueueConflict(current: current), status: .conflict).response(from: request, context: context)
        }
    }

    @Sendable func reportListen(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<ListenAnswer> {
        let report = try await request.decode(as: ListenReport.self, context: context)
        let track = try links.track(report.trackId)
        let outcome = try await store.reportProgress(
            of: context.user.id, session: report.sessionId, trackId: track.id, trackDuration: track.duration,
            positionSeconds: report.positionSeconds, state: report.state, now: clock())
        return JSON(ListenAnswer(counted: outcome.value, playCount: try await store.playCount(of: track.id)))
    }
}
