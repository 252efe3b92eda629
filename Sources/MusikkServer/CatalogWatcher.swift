import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Background work: rereads the publication when musikk-publish switched it (re-indexing search and telling
/// followers of new releases), sends SSE keep-alives, and forgets live events older than a day.
struct CatalogWatcher: Service {
    let services: Services
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
        services.hub.finishAll()
    }

    private func watch() async {
        var lastPrune = ContinuousClock.now
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: services.configuration.catalogCheckInterval)
                } catch {
                    return
                }
                do {
                    if let snapshot = try services.library.reloadIfChanged() {
                        try await Self.index(snapshot, services: services)
                        logger.info("publication reloaded", metadata: ["tracks": "\(snapshot.tracks.count)"])
                    }
                    if ContinuousClock.now - lastPrune > .seconds(3600) {
                        try await services.store.pruneEvents(before: services.now.addingTimeInterval(-24 * 3600))
                        lastPrune = .now
                    }
                } catch {
                    logger.error("cannot reload the publication; still serving the previous one", metadata: ["error": "\(error)"])
                }
            }
    }

    private func keepStreamsAlive() async {
        while (try? await Task.sleep(for: services.configuration.eventKeepAliveInterval)) != nil {
            services.hub.heartbeat()
        }
    }

    /// Puts the catalog in the search index and notifies followers of content owners about new releases.
    static func index(_ snapshot: CatalogSnapshot, services: Services) async throws {
        try await services.store.replaceCatalogIndex(snapshot.searchEntries)
        let artistOfRelease = snapshot.releases.mapValues(\.artist.id)
        _ = try await services.store.recordReleases(artistOfRelease, now: services.now)
    }
}
