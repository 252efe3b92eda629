import Foundation
import Social

extension PostgresStorage {
    /// What a copy moved: rows per table, as counted in both databases afterwards.
    public struct ImportReport: Sendable {
        public var rows: [(table: String, count: Int)]
    }

    /// The tables in an order that copies every referenced row before the rows that refer to it.
    static let tablesInCopyOrder = [
        "\"user\"", "avatar", "refreshToken", "artistOwner", "follow", "forum", "thread", "comment", "playlist", "playlistEntry",
        "playlistCollaborator", "\"like\"", "notification", "activity", "event", "queue", "listenSession", "listen", "nowPlaying",
        "knownRelease", "listenClock", "rateLimitHit", "searchIndex", "appCredential", "rating",
    ]
    /// Tables whose SQLite row ids are their order (follow lists and likes are paged by them), kept as `rowid`.
    static let tablesKeepingRowIds: Set<String> = ["follow", "\"like\""]
    /// Rows read and written per statement.
    static let copyBatch = 500

    /// Copies every row of `source` (a musikk-server SQLite store) into this database, which must be empty, with
    /// the same ids; then moves every id sequence past the copied ids and checks that each table holds as many rows
    /// as the source. A bounded batch is read and written at a time; a copy that fails empties the database again,
    /// so it can simply be run once more.
    public func importEverything(from source: any SocialStorage) async throws -> ImportReport {
        let tables = Self.tablesInCopyOrder
        let timestampColumns = try await read { target in
            for table in tables {
                guard try target.value(as: Int.self, "SELECT COUNT(*) FROM \(table)") == 0 else {
                    throw Failure(description: "the database already holds data (table \(table)); migrate into a new, empty database")
                }
            }
            return Set(try target.fetchAll(
                "SELECT table_name || '.' || column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'timestamp with time zone'", []
            ).map { try $0["name"] as String })
        }
        do {
            var report = ImportReport(rows: [])
            for table in tables {
                report.rows.append((table, try await copy(table, from: source, timestampColumns: timestampColumns)))
            }
            try await write { target in
                for table in tables {
                    let identity = Self.tablesKeepingRowIds.contains(table) ? "rowid" : "id"
                    let bareName = table.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
                    guard try target.value(as: Bool.self, """
                        SELECT EXISTS(SELECT 1 FROM information_schema.columns
                            WHERE table_schema = current_schema() AND table_name = ? AND column_name = ? AND is_identity = 'YES')
                        """, [bareName, identity]) == true
                    else { continue }
                    try target.execute(
                        "SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(\(identity)) FROM \(table)), 0) + 1, false)", [table, identity])
                }
            }
            return report
        } catch {
            _ = try? await write { target in try target.execute("TRUNCATE \(tables.joined(separator: ", ")) CASCADE") }
            throw error
        }
    }

    /// Copies one table a batch at a time and returns its row count, checked against the source's.
    private func copy(_ table: String, from source: any SocialStorage, timestampColumns: Set<String>) async throws -> Int {
        let bareName = table.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        let selection = table == "searchIndex" ? "kind, ref, name, context" : "*"
        let keepsRowIds = Self.tablesKeepingRowIds.contains(table)
        var after: Int64 = 0
        var copied = 0
        while true {
            let start = after
            let rows = try await source.read { db in
                try db.fetchAll("SELECT rowid AS copyRowId, \(selection) FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?", [start, Self.copyBatch])
            }
            guard let last = rows.last else { break }
            after = try last["copyRowId"]
            let converted = try rows.map { row in
                var columns: [(String, SQLValue)] = []
                for (name, value) in row.columns.dropFirst() {
                    if timestampColumns.contains("\(bareName).\(name.lowercased())"), case .text(let text) = value {
                        guard let date = Date(storedText: text) else {
                            throw Failure(description: "\(table).\(name) holds \"\(text)\", which is not a date; the source database is damaged")
                        }
                        columns.append((name, .date(date)))
                    } else {
                        columns.append((name, value))
                    }
                }
                if keepsRowIds { columns.append(("rowid", row.first)) }
                return columns
            }
            try await write { target in
                for columns in converted {
                    try target.execute(
                        "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))",
                        SQLArguments(columns.map(\.1)))
                }
            }
            copied += rows.count
        }
        let expected = try await source.read { db in try db.value(as: Int.self, "SELECT COUNT(*) FROM \(table)") ?? 0 }
        let stored = try await read { db in try db.value(as: Int.self, "SELECT COUNT(*) FROM \(table)") ?? 0 }
        guard copied == expected, stored == expected else {
            throw Failure(description: "\(table): the source has \(expected) rows, \(copied) were read and \(stored) stored")
        }
        return stored
    }
}
