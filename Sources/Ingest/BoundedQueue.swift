import Foundation
import Synchronization

/// A blocking first-in first-out queue of bounded size between one producer thread and one consumer thread.
/// The producer waits while the queue is full, which bounds memory to `capacity` elements whatever the track
/// length; ``cancel()`` releases both sides.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `condition` is locked.
    private let condition = NSCondition()
    private var elements: [Element] = []
    private var closed = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds an element, waiting for room. Returns false when the queue was cancelled.
    @discardableResult
    func push(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while elements.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        elements.append(element)
        condition.broadcast()
        return true
    }

    /// Marks the end of input; ``pop()`` returns nil once the queue is drained.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Drops everything and wakes both sides; later pushes fail and pops return nil.
    func cancel() {
        condition.lock()
        cancelled = true
        elements = []
        condition.broadcast()
        condition.unlock()
    }

    /// Takes the next element, waiting for one; nil after ``close()`` once drained, or after ``cancel()``.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while elements.isEmpty && !closed && !cancelled { condition.wait() }
        guard !cancelled, !elements.isEmpty else { return nil }
        // The queue holds a few elements at most, so shifting them is cheaper than any ring buffer's bookkeeping,
        // and a taken element is released as soon as its consumer is done with it.
        let element = elements.removeFirst()
        condition.broadcast()
        return element
    }
}

/// Starts each body on its own thread; wait on the returned group for all of them to finish.
func startThreads(_ bodies: [@Sendable () -> Void]) -> DispatchGroup {
    let group = DispatchGroup()
    for body in bodies {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.stackSize = 1 << 22
        thread.start()
    }
    return group
}

/// Runs `body` for every position in `0..<count` on up to `workers` threads, each thread taking the next position
/// as it finishes one, in order; once `stop()` is true no further position is handed out. Returns when all ended.
func takeInTurn(
    _ count: Int, workers: Int, until stop: @escaping @Sendable () -> Bool = { false },
    _ body: @escaping @Sendable (Int) -> Void
) {
    let next = Mutex(0)
    let threads = (0..<min(workers, count)).map { _ in
        { @Sendable in
            while true {
                let position = next.withLock { next -> Int? in
                    guard !stop(), next < count else { return nil }
                    defer { next += 1 }
                    return next
                }
                guard let position else { return }
                body(position)
            }
        }
    }
    startThreads(threads).wait()
}
