import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Runs bcrypt, which is slow on purpose, behind a bounded and fair queue: as many hashes at once as there are
/// cores; sign-ups and log-ins wait in separate lanes served in turn, so a flood of one cannot starve the other;
/// one waiting request per client address and lane; a full lane answers 503 at once, and nobody waits longer than
/// `maximumWait`.
actor PasswordHashing {
    enum Lane: CaseIterable {
        case logIn, signUp
    }

    /// Why a hash was not run.
    enum Refusal: Error {
        /// The lane is full, or the wait ran out: try again shortly.
        case busy
        /// This client already has a request waiting in the lane.
        case clientWaiting
    }

    private struct Waiter {
        var id: UInt64
        var client: String
        var continuation: CheckedContinuation<Void, any Error>
    }

    let workers: Int
    let capacity: [Lane: Int]
    let maximumWait: Duration
    private var running = 0
    private var waiting: [Lane: [Waiter]] = [:]
    private var nextLane = 0
    private var nextId: UInt64 = 0

    init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, capacity: [Lane: Int] = [.logIn: 64, .signUp: 16], maximumWait: Duration = .seconds(5)) {
        self.workers = max(1, workers)
        self.capacity = capacity
        self.maximumWait = maximumWait
    }

    /// A bcrypt hash of `password` at `cost`.
    func hash(_ password: String, cost: UInt8, lane: Lane, client: String) async throws -> String {
        try await run(lane: lane, client: client) { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`.
    func verify(_ password: String, hash: String, lane: Lane, client: String) async throws -> Bool {
        try await run(lane: lane, client: client) { Bcrypt.verify(password, hash: hash) }
    }

    private func run<Value: Sendable>(lane: Lane, client: String, _ work: @escaping @Sendable () -> Value) async throws -> Value {
        try await admit(lane: lane, client: client)
        do {
            let value = try await NIOThreadPool.singleton.runIfActive(work)
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    private func admit(lane: Lane, client: String) async throws {
        if running < workers, waiting.values.allSatisfy(\.isEmpty) {
            running += 1
            return
        }
        let queue = waiting[lane, default: []]
        guard queue.count < capacity[lane, default: 0] else { throw Refusal.busy }
        guard !queue.contains(where: { $0.client == client }) else { throw Refusal.clientWaiting }
        nextId += 1
        let id = nextId
        let wait = maximumWait
        try await withCheckedThrowingContinuation { continuation in
            waiting[lane, default: []].append(Waiter(id: id, client: client, continuation: continuation))
            Task { [weak self] in
                try? await Task.sleep(for: wait)
                await self?.expire(id)
            }
        }
    }

    /// Gives the finished hash's slot to the next waiter, taking the lanes in turn.
    private func release() {
        let lanes = Lane.allCases
        for step in 0..<lanes.count {
            let lane = lanes[(nextLane + step) % lanes.count]
            if var queue = waiting[lane], !queue.isEmpty {
                let waiter = queue.removeFirst()
                waiting[lane] = queue
                nextLane = (nextLane + step + 1) % lanes.count
                waiter.continuation.resume()
                return
            }
        }
        running -= 1
    }

    private func expire(_ id: UInt64) {
        for (lane, queue) in waiting {
            if let index = queue.firstIndex(where: { $0.id == id }) {
                waiting[lane]?.remove(at: index).continuation.resume(throwing: Refusal.busy)
                return
            }
        }
    }
}
