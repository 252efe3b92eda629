import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Social

/// Background work: rereads the publication when musikk-publish switched it (re-indexing search and telling
/// followers of new releases), sends SSE keep-alives, and forgets old live events and rate-limit hits.
struct CatalogWatcher: Service {
    let library: CatalogLibrary
    let store: SocialStore
    let hub: EventHub
    let configuration: ServerConfiguration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await keepStreamsAlive() }
                await watch()
                group.cancelAll()
            }
        }
        // Open event streams would hold the shutdown up; end them.
        hub.finishAll()
    }

    private func watch() async {
        var lastPrune = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.catalogCheckInterval)
            } catch {
                return
            }
            do {
                let now = configuration.clock()
                if let snapshot = try await library.reloadIfChanged(prepare: { try await Self.index($0, into: store, now: now) }) {
                    logger.info("publication reloaded", metadata: ["tracks": "\(snapshot.tracks.count)"])
                }
            } catch {
                logger.error("cannot reload the publication; still serving the previous one", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now - lastPrune > .seconds(3600) {
                do {
                    try await prune()
                    lastPrune = .now
                } catch {
                    logger.error("cannot prune old events and rate-limit hits; will try again", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Forgets live events older than a day and rate-limit hits older than the longest limit's window.
    func prune() async throws {
        let now = configuration.clock()
        try await store.pruneEvents(before: now.addingTimeInterval(-24 * 3600))
        try await store.pruneRateLimits(before: now.addingTimeInterval(-configuration.longestRateLimitWindow))
    }

    private func keepStreamsAlive() async {
        while (try? await Task.sleep(for: configuration.eventKeepAliveInterval)) != nil {
            hub.heartbeat()
        }
    }

    /// Puts the catalog in the search index and notifies followers of content owners about new releases.
    static func index(_ snapshot: CatalogSnapshot, into store: SocialStore, now: Date) async throws {
        try await store.replaceCatalogIndex(snapshot.searchEntries)
        let artistOfRelease = snapshot.releases.mapValues(\.artist.id)
        _ = try await store.recordReleases(artistOfRelease, now: now)
    }
}
