import Logging
import ServiceLifecycle
import Social
import SocialPostgres

/// With PostgreSQL: brings the events every instance commits to this instance's streams. PostgreSQL announces each
/// commit that stored events (`LISTEN`/`NOTIFY`); the relay then reads the events table after the last id it
/// relayed, which also covers announcements lost while its connection was down. Event ids commit in order
/// (``PostgresStorage``), so reading after the last id misses none. At shutdown, after the HTTP server stopped, it
/// closes the storage.
struct EventRelay: Service {
    let storage: PostgresStorage
    let store: SocialStore
    let hub: EventHub
    let logger: Logger

    /// Events read per query; a burst larger than this is read in several.
    static let batch = 500

    func run() async throws {
        let cursor = EventCursor(last: try await store.latestEventId())
        await cancelWhenGracefulShutdown {
            await storage.listenForEvents { await relay(from: cursor) }
        }
        await storage.close()
    }

    private func relay(from cursor: EventCursor) async {
        do {
            while true {
                let events = try await store.events(after: await cursor.last, limit: Self.batch)
                guard let newest = events.last else { return }
                hub.publish(events)
                await cursor.advance(to: newest.id)
                if events.count < Self.batch { return }
            }
        } catch {
            // A read cancelled at shutdown loses nothing: the next start relays from the stored events.
            guard !Task.isCancelled else { return }
            logger.warning("could not read new events from PostgreSQL", metadata: ["error": "\(error)"])
        }
    }
}

/// The id of the last event relayed.
private actor EventCursor {
    var last: Int64
    init(last: Int64) { self.last = last }
    func advance(to id: Int64) { last = max(last, id) }
}
