import Foundation
import Social
import Synchronization

/// Delivers stored live events to the connected SSE streams that should see them: a user's own events to all
/// their connections, subject events to the connections watching that subject.
final class EventHub: LiveEventSink {
    private struct Subscriber {
        var userId: Int64
        var subjects: Set<String>
        var continuation: AsyncStream<LiveEvent>.Continuation
    }

    private let subscribers = Mutex<[UUID: Subscriber]>([:])
    /// Streams one user may hold at once (tabs and devices).
    let maximumPerUser: Int
    /// Streams the server holds at once.
    let maximum: Int

    init(maximumPerUser: Int = 16, maximum: Int = 10_000) {
        self.maximumPerUser = maximumPerUser
        self.maximum = maximum
    }

    /// Why a stream was not opened.
    enum Refusal: Error {
        case userAtLimit, serverAtLimit
    }

    /// A stream of the events for this user and subjects, from now on, until `cancel` is called.
    func subscribe(userId: Int64, subjects: Set<String>) throws(Refusal) -> (id: UUID, events: AsyncStream<LiveEvent>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingOldest(Self.buffered))
        let refusal = subscribers.withLock { all -> Refusal? in
            guard all.count < maximum else { return .serverAtLimit }
            guard all.values.lazy.filter({ $0.userId == userId }).count < maximumPerUser else { return .userAtLimit }
            all[id] = Subscriber(userId: userId, subjects: subjects, continuation: continuation)
            return nil
        }
        if let refusal { throw refusal }
        return (id, stream)
    }

    func cancel(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
    }

    /// Ends every stream (the server is shutting down).
    func finishAll() {
        let current = subscribers.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for subscriber in current { subscriber.continuation.finish() }
    }

    /// Events a stream holds for a client that reads slowly. A stream that would need more is ended instead: its
    /// client reconnects with `Last-Event-ID` and gets the rest from the stored log, a bounded batch at a time.
    static let buffered = 64

    func publish(_ events: [LiveEvent]) {
        guard !events.isEmpty else { return }
        let current = subscribers.withLock { $0 }
        for event in events {
            for (id, subscriber) in current {
                let wanted = event.userId.map { $0 == subscriber.userId } ?? event.subject.map { subscriber.subjects.contains($0) } ?? false
                if wanted, case .dropped = subscriber.continuation.yield(event) { cancel(id) }
            }
        }
    }

    /// The id of the keep-alive that lets streams notice a client that went away.
    static let heartbeatId: Int64 = 0

    /// Sends a keep-alive to every stream (a write to a closed connection ends its stream).
    func heartbeat() {
        let current = subscribers.withLock { Array($0.values) }
        for subscriber in current {
            subscriber.continuation.yield(LiveEvent(id: Self.heartbeatId, userId: nil, subject: nil, type: "", data: ""))
        }
    }

    /// How many streams are connected (for tests and health).
    var connectionCount: Int { subscribers.withLock { $0.count } }
}
