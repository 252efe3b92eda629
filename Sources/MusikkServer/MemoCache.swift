import Synchronization

/// A bounded map of results that are costly to compute and cheap to keep (verified tokens, signatures, encoded
/// catalog pages). Keys carry whatever makes a result stale, so entries never need invalidating; when the map is
/// full it starts over, which keeps memory bounded without bookkeeping on the hot path.
final class MemoCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(key: Key) -> Value? {
        entries.withLock { $0[key] }
    }

    func store(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[key] == nil { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }

    /// The cached value for `key`, made and stored first if there is none.
    func value(for key: Key, orMake make: () throws -> Value) rethrows -> Value {
        if let value = self[key] { return value }
        let value = try make()
        store(value, for: key)
        return value
    }
}
