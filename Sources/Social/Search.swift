import Foundation

extension SocialStore {
    /// Index entries one INSERT carries.
    static let searchBatch = 200

    /// Replaces the catalog's part of the search index (tracks, releases, artists) in one transaction.
    public func replaceCatalogIndex(_ entries: [SearchHit]) async throws {
        try await storage.write { db in
            try db.execute("DELETE FROM searchIndex WHERE kind != 'user'")
            for start in stride(from: 0, to: entries.count, by: Self.searchBatch) {
                let batch = entries[start..<min(start + Self.searchBatch, entries.count)]
                try db.execute(
                    "INSERT INTO searchIndex (kind, ref, name, context) VALUES " + Array(repeating: "(?, ?, ?, ?)", count: batch.count).joined(separator: ", "),
                    SQLArguments(batch.flatMap { [$0.kind.rawValue.sqlValue, $0.id.sqlValue, $0.name.sqlValue, $0.context.sqlValue] }))
            }
        }
    }

    static func indexUser(_ db: any SocialSession, id: Int64, displayName: String, bio: String) throws {
        try db.execute("DELETE FROM searchIndex WHERE kind = 'user' AND ref = ?", [String(id)])
        try db.execute("INSERT INTO searchIndex (kind, ref, name, context) VALUES ('user', ?, ?, ?)", [String(id), displayName, String(bio.prefix(200))])
    }

    /// Full-text search with prefix matching on every word typed (`daft pu` finds "Daft Punk"), accents folded
    /// (`bjo` finds "Björk"), best matches first. With `likedByFollowersOf`, only tracks, releases and playlists
    /// liked by people that user follows. `offset` skips that many of the best (at most 10,000); `limit` is at most 500.
    public func search(_ text: String, kinds: Set<SearchHit.Kind>, likedByFollowersOf viewer: Int64?, limit: Int, offset: Int = 0) async throws -> [SearchHit] {
        // Only runs of letters and digits reach the backend's query syntax.
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(8).map(String.init)
        guard !words.isEmpty else { return [] }
        let kinds = (kinds.isEmpty ? Set(SearchHit.Kind.allCases) : kinds).map(\.rawValue).sorted()
        let limit = max(1, min(limit, 500))
        let offset = max(0, min(offset, 10_000))
        return try await storage.read { db in
            let clauses = db.searchClauses(words: words)
            var sql = "SELECT kind, ref, name, context FROM searchIndex WHERE \(clauses.match) AND kind IN (\(placeholders(kinds.count)))"
            var arguments = clauses.matchArguments + kinds.map(\.sqlValue)
            if let viewer {
                sql += """
                     AND EXISTS (SELECT 1 FROM "like" l JOIN follow f ON f.followeeId = l.userId
                        WHERE f.followerId = ? AND l.subjectKind = searchIndex.kind AND l.subjectId = searchIndex.ref)
                    """
                arguments.append(viewer.sqlValue)
            }
            sql += " ORDER BY \(clauses.order), kind, ref LIMIT ? OFFSET ?"
            arguments += clauses.orderArguments + [limit.sqlValue, offset.sqlValue]
            return try db.fetchAll(sql, SQLArguments(arguments)).compactMap { row in
                try SearchHit.Kind(rawValue: row["kind"]).map { SearchHit(kind: $0, id: try row["ref"], name: try row["name"], context: try row["context"]) }
            }
        }
    }
}
