import GRDB

extension Database {
    /// Keys an `IN (…)` list takes at a time, well under SQLite's limit on a statement's variables.
    static let keysPerQuery = 500

    /// Runs `query` for `keys` a batch at a time, with the batch's placeholders (`?, ?, …`, GRDB's) and arguments:
    /// `WHERE x IN (…)` over a set of any size.
    public func forEachBatch<Key: DatabaseValueConvertible & Comparable>(
        of keys: Set<Key>, _ query: (_ placeholders: String, _ arguments: StatementArguments) throws -> Void
    ) throws {
        let sorted = keys.sorted()
        for start in stride(from: 0, to: sorted.count, by: Self.keysPerQuery) {
            let batch = sorted[start..<min(start + Self.keysPerQuery, sorted.count)]
            try query(databaseQuestionMarks(count: batch.count), StatementArguments(batch.map { $0 as (any DatabaseValueConvertible)? }))
        }
    }

    /// The values the statement `sql(placeholders)` selects for all of `keys`.
    public func fetchSet<Value: DatabaseValueConvertible & Hashable, Key: DatabaseValueConvertible & Comparable>(
        _ type: Value.Type, for keys: Set<Key>, _ sql: (_ placeholders: String) -> String
    ) throws -> Set<Value> {
        var values: Set<Value> = []
        try forEachBatch(of: keys) { placeholders, arguments in
            values.formUnion(try Value.fetchAll(self, sql: sql(placeholders), arguments: arguments))
        }
        return values
    }
}
