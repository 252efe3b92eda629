import Foundation
import GRDB

extension SocialStore {
    /// Replaces the catalog's part of the search index (tracks, releases, artists) in one transaction.
    public func replaceCatalogIndex(_ entries: [SearchHit]) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM searchIndex WHERE kind != 'user'")
            let statement = try db.makeStatement(sql: "INSERT INTO searchIndex (kind, ref, name, context) VALUES (?, ?, ?, ?)")
            for entry in entries {
                try statement.execute(arguments: [entry.kind.rawValue, entry.id, entry.name, entry.context])
            }
        }
    }

    static func indexUser(_ db: Database, id: Int64, displayName: String, bio: String) throws {
        try db.execute(sql: "DELETE FROM searchIndex WHERE kind = 'user' AND ref = ?", arguments: [String(id)])
        try db.execute(
            sql: "INSERT INTO searchIndex (kind, ref, name, context) VALUES ('user', ?, ?, ?)",
            arguments: [String(id), displayName, String(bio.prefix(200))])
    }

    /// Full-text search with prefix matching on every word typed (`daft pu` finds "Daft Punk"), best matches first.
    /// With `likedByFollowersOf`, only tracks, releases and playlists liked by people that user follows.
    public func search(_ text: String, kinds: Set<SearchHit.Kind>, likedByFollowersOf viewer: Int64?, limit: Int) async throws -> [SearchHit] {
        // Each word becomes a quoted FTS5 prefix query, so no user input is read as FTS5 syntax.
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(8)
        guard !words.isEmpty else { return [] }
        let match = words.map { "\"\($0.replacingOccurrences(of: "\"", with: ""))\"*" }.joined(separator: " ")
        let kinds = kinds.isEmpty ? Set(SearchHit.Kind.allCases) : kinds
        var sql = "SELECT kind, ref, name, context FROM searchIndex WHERE searchIndex MATCH ? AND kind IN (\(databaseQuestionMarks(count: kinds.count)))"
        var arguments = StatementArguments([match]) + StatementArguments(kinds.map(\.rawValue).sorted())
        if let viewer {
            sql += """
                 AND EXISTS (SELECT 1 FROM "like" l JOIN follow f ON f.followeeId = l.userId
                    WHERE f.followerId = ? AND l.subjectKind = searchIndex.kind AND l.subjectId = searchIndex.ref)
                """
            arguments += [viewer]
        }
        sql += " ORDER BY bm25(searchIndex, 0, 0, 10, 1) LIMIT ?"
        arguments += [max(1, min(limit, 100))]
        let query = sql
        let queryArguments = arguments
        return try await writer.read { db in
            try Row.fetchAll(db, sql: query, arguments: queryArguments).compactMap { row in
                SearchHit.Kind(rawValue: row["kind"]).map { SearchHit(kind: $0, id: row["ref"], name: row["name"], context: row["context"]) }
            }
        }
    }
}
