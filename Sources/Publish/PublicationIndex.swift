import Foundation
import GRDB
import PublicationFormat

/// The index of a publication, kept beside OUT_DIR (`.OUT.musikk-index.sqlite`): every file with its size, digest
/// and stage; which track, release, artist, list page or catalog document refers to it; and each track's, release's
/// and artist's entry in the lists. A publish whose catalog changed in a few tracks rebuilds from it only what those
/// tracks touch, and the release, artist and list documents of every publish are made from it. A full publish
/// writes a new index; a delta publish marks it `updating` before changing it, so one killed halfway is never
/// trusted (the next publish is a full one).
final class PublicationIndex {
    let url: URL
    private let database: DatabaseQueue
    /// Rows waiting to be written, a batch at a time (a full publish adds millions).
    private var pendingWrites: [(sql: String, arguments: StatementArguments)] = []

    private init(url: URL, database: DatabaseQueue) {
        self.url = url
        self.database = database
    }

    static let schemaVersion = "1"

    /// A new, empty index at `url` (any file there is replaced). Written without a journal: it only becomes the
    /// index when renamed into place after ``close()`` flushed it.
    static func create(at url: URL) throws(PublishError) -> PublicationIndex {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(url.path + suffix) }
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
            }
            let database = try DatabaseQueue(path: url.path, configuration: configuration)
            try database.write { db in
                try db.execute(sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE file (
                        path TEXT PRIMARY KEY, stage INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, retired TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX file_order ON file (stage, path);
                    CREATE INDEX file_retired ON file (retired) WHERE retired IS NOT NULL;
                    CREATE TABLE reference (owner TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (owner, path)) WITHOUT ROWID;
                    CREATE INDEX reference_path ON reference (path);
                    CREATE TABLE track (
                        id TEXT PRIMARY KEY, releaseId INTEGER, discNumber INTEGER, trackNumber INTEGER, title TEXT NOT NULL,
                        duration REAL NOT NULL, summary BLOB NOT NULL, search BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX track_order ON track (releaseId IS NULL, releaseId, discNumber, trackNumber, title, id);
                    CREATE INDEX track_release ON track (releaseId, discNumber, trackNumber, title, id);
                    CREATE TABLE credit (artistId INTEGER NOT NULL, trackId TEXT NOT NULL, PRIMARY KEY (artistId, trackId)) WITHOUT ROWID;
                    CREATE INDEX credit_track ON credit (trackId);
                    CREATE TABLE release (
                        id INTEGER PRIMARY KEY, title TEXT NOT NULL, artistId INTEGER NOT NULL, head BLOB NOT NULL, search BLOB NOT NULL,
                        summary BLOB, coverDigest TEXT
                    );
                    CREATE INDEX release_order ON release (title, id);
                    CREATE INDEX release_artist ON release (artistId);
                    CREATE TABLE artist (id INTEGER PRIMARY KEY, name TEXT NOT NULL, search BLOB NOT NULL, summary BLOB);
                    CREATE INDEX artist_order ON artist (name, id);
                    CREATE TABLE page (list TEXT NOT NULL, number INTEGER NOT NULL, members TEXT NOT NULL, PRIMARY KEY (list, number)) WITHOUT ROWID;
                    CREATE TABLE pending (path TEXT PRIMARY KEY) WITHOUT ROWID;
                    """)
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('schema', ?)", arguments: [schemaVersion])
            }
            return PublicationIndex(url: url, database: database)
        } catch {
            throw .output(path: url.path, detail: "cannot create the publication index (\(error))")
        }
    }

    /// The index at `url`, nil when there is none or it is not one this version reads (the publish is then full).
    static func open(at url: URL) -> PublicationIndex? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        guard let database = try? DatabaseQueue(path: url.path, configuration: configuration),
              (try? database.read({ db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'schema'") })) == schemaVersion
        else { return nil }
        return PublicationIndex(url: url, database: database)
    }

    /// Writes what is batched and flushes the file (a new index is renamed into place after this).
    func close() throws(PublishError) {
        try flush()
        try attempt("close") { try self.database.close() }
        let descriptor = Glibc.open(url.path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            Glibc.close(descriptor)
        }
    }

    // MARK: Meta

    func meta(_ key: String) throws(PublishError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    func setMeta(_ values: [String: String]) throws(PublishError) {
        try flush()
        try write { db in
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            }
        }
    }

    // MARK: Files

    func file(_ path: String) throws(PublishError) -> PublicationRecord.Entry? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT path, stage, size, sha256, retired FROM file WHERE path = ?", arguments: [path])
                .flatMap(Self.entry)
        }
    }

    func setFile(_ entry: PublicationRecord.Entry) {
        batch("INSERT OR REPLACE INTO file (path, stage, size, sha256, retired) VALUES (?, ?, ?, ?, ?)",
              [entry.path, PublicationRecord.order(entry.stage), entry.size, entry.sha256, entry.retired])
    }

    func removeFile(_ path: String) {
        batch("DELETE FROM file WHERE path = ?", [path])
    }

    /// Files retired at or before `cutoff` (ISO 8601, as ``PublicationBuilder/timestamp(_:)`` writes it).
    func filesRetired(atOrBefore cutoff: String) throws(PublishError) -> [String] {
        try flush()
        return try read { db in
            try String.fetchAll(db, sql: "SELECT path FROM file WHERE retired IS NOT NULL AND retired <= ? ORDER BY path", arguments: [cutoff])
        }
    }

    /// The number of files, and of those retired.
    func fileCounts() throws(PublishError) -> (files: Int, retired: Int) {
        try flush()
        return try read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM file") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM file WHERE retired IS NOT NULL") ?? 0)
        }
    }

    /// The earliest retirement, if any.
    func earliestRetirement() throws(PublishError) -> String? {
        try flush()
        return try read { db in try String.fetchOne(db, sql: "SELECT min(retired) FROM file WHERE retired IS NOT NULL") }
    }

    /// Every file in upload order (stage, then path), a batch at a time.
    func forEachFile(_ body: (PublicationRecord.Entry) throws(PublishError) -> Void) throws(PublishError) {
        try flush()
        var after: (stage: Int, path: String)?
        while true {
            let rows: [PublicationRecord.Entry] = try read { db in
                let sql = "SELECT path, stage, size, sha256, retired FROM file"
                    + (after == nil ? "" : " WHERE (stage, path) > (?, ?)") + " ORDER BY stage, path LIMIT 10000"
                let arguments: StatementArguments = after.map { [$0.stage, $0.path] } ?? []
                return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap(Self.entry)
            }
            guard let last = rows.last else { return }
            for row in rows { try body(row) }
            after = (PublicationRecord.order(last.stage), last.path)
        }
    }

    private static func entry(_ row: Row) -> PublicationRecord.Entry? {
        let order: Int = row[1]
        guard SyncStage.allCases.indices.contains(order) else { return nil }
        return PublicationRecord.Entry(path: row[0], size: row[2], sha256: row[3], stage: SyncStage.allCases[order], retired: row[4])
    }

    // MARK: References

    func references(of owner: String) throws(PublishError) -> Set<String> {
        try flush()
        return try read { db in Set(try String.fetchAll(db, sql: "SELECT path FROM reference WHERE owner = ?", arguments: [owner])) }
    }

    func addReference(owner: String, path: String) {
        batch("INSERT OR IGNORE INTO reference (owner, path) VALUES (?, ?)", [owner, path])
    }

    func removeReference(owner: String, path: String) {
        batch("DELETE FROM reference WHERE owner = ? AND path = ?", [owner, path])
    }

    func isReferenced(_ path: String) throws(PublishError) -> Bool {
        try flush()
        return try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM reference WHERE path = ? LIMIT 1", arguments: [path]) ?? false }
    }

    // MARK: Tracks, releases, artists

    /// A track's entry in the lists and in search, and its artists.
    struct TrackEntry {
        var summary: TrackSummary
        /// `api/search.json`'s row for the track.
        var search: [String]
        /// Distinct, in credit order.
        var credits: [Int64]
    }

    /// Enters a track; its summary and search row are kept as JSONEncoder's bytes, spliced into documents as they are.
    func setTrack(_ entry: TrackEntry) throws(PublishError) {
        let summary = try PublicationBuilder.fragment(entry.summary, path: "the publication index")
        let search = try PublicationBuilder.fragment(entry.search, path: "the publication index")
        let track = entry.summary
        removeTrack(track.id)
        batch("""
            INSERT INTO track (id, releaseId, discNumber, trackNumber, title, duration, summary, search)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [track.id, track.release?.id, track.discNumber, track.trackNumber, track.title, track.duration, summary, search])
        for artist in entry.credits { batch("INSERT OR IGNORE INTO credit (artistId, trackId) VALUES (?, ?)", [artist, track.id]) }
    }

    func removeTrack(_ id: String) {
        batch("DELETE FROM track WHERE id = ?", [id])
        batch("DELETE FROM credit WHERE trackId = ?", [id])
    }

    /// The releases and artists of tracks as the index has them.
    func releasesAndArtists(ofTracks ids: Set<String>) throws(PublishError) -> (releases: Set<Int64>, artists: Set<Int64>) {
        try flush()
        return try read { db in
            (try db.fetchSet(Int64.self, for: ids) { "SELECT releaseId FROM track WHERE releaseId IS NOT NULL AND id IN (\($0))" },
             try db.fetchSet(Int64.self, for: ids) { "SELECT artistId FROM credit WHERE trackId IN (\($0))" })
        }
    }

    /// Tracks in the index on `releases` or credited to `artists`.
    func tracks(onReleases releases: Set<Int64>, creditedTo artists: Set<Int64>) throws(PublishError) -> Set<String> {
        try flush()
        return try read { db in
            try db.fetchSet(String.self, for: releases) { "SELECT id FROM track WHERE releaseId IN (\($0))" }
                .union(try db.fetchSet(String.self, for: artists) { "SELECT trackId FROM credit WHERE artistId IN (\($0))" })
        }
    }

    /// Releases in the index by `artists`.
    func releases(by artists: Set<Int64>) throws(PublishError) -> Set<Int64> {
        try flush()
        return try read { db in try db.fetchSet(Int64.self, for: artists) { "SELECT id FROM release WHERE artistId IN (\($0))" } }
    }

    /// The artists of `releases` as the index has them.
    func artists(ofReleases releases: Set<Int64>) throws(PublishError) -> Set<Int64> {
        try flush()
        return try read { db in try db.fetchSet(Int64.self, for: releases) { "SELECT artistId FROM release WHERE id IN (\($0))" } }
    }

    /// A release as its documents show it, without its tracks, and the cover media to place while it is listed.
    struct ReleaseHead: Codable {
        var document: ReleaseDocument
        var cover: [CoverFile]?

        struct CoverFile: Codable {
            var path: String
            var source: String
            var digest: String
        }
    }

    /// Enters a release as its documents show it, with its row in `api/search.json` (JSON); its summary is
    /// entered once its tracks are known (``setSummary(ofRelease:_:)``).
    func setRelease(_ id: Int64, head: ReleaseHead, search: [String]) throws(PublishError) {
        batch("INSERT OR REPLACE INTO release (id, title, artistId, head, search, coverDigest) VALUES (?, ?, ?, ?, ?, ?)",
              [id, head.document.title, head.document.artist.id, try PublicationBuilder.fragment(head, path: "the publication index"),
               try PublicationBuilder.fragment(search, path: "the publication index"), head.cover?.first?.digest])
    }

    /// The digests of the covers of listed releases.
    func coverDigests() throws(PublishError) -> Set<String> {
        try flush()
        return try read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT DISTINCT coverDigest FROM release WHERE coverDigest IS NOT NULL
                    AND EXISTS (SELECT 1 FROM track WHERE releaseId = release.id)
                """))
        }
    }

    /// A listed release's or artist's summary, as lists show it (JSON).
    func setSummary(ofRelease id: Int64, _ summary: Data) {
        batch("UPDATE release SET summary = ? WHERE id = ?", [summary, id])
    }

    func setSummary(ofArtist id: Int64, _ summary: Data) {
        batch("UPDATE artist SET summary = ? WHERE id = ?", [summary, id])
    }

    /// The summaries of listed releases (`ids` or, nil, all of them), in list order.
    func releaseSummaries(_ ids: [Int64]) throws(PublishError) -> [Data] {
        guard !ids.isEmpty else { return [] }
        return try blobs("SELECT summary FROM release WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND summary IS NOT NULL ORDER BY title, id", ids)
    }

    func releaseSummaries(by artist: Int64) throws(PublishError) -> [Data] {
        try blobs("""
            SELECT summary FROM release WHERE artistId = ? AND summary IS NOT NULL
                AND EXISTS (SELECT 1 FROM track WHERE releaseId = release.id) ORDER BY title, id
            """, [artist])
    }

    func artistSummaries(_ ids: [Int64]) throws(PublishError) -> [Data] {
        guard !ids.isEmpty else { return [] }
        return try blobs("SELECT summary FROM artist WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND summary IS NOT NULL ORDER BY name, id", ids)
    }

    /// Search rows of the listed artists, then the listed releases, then the tracks, in list order (JSON).
    func searchRows() throws(PublishError) -> [Data] {
        try blobs("""
            SELECT search FROM artist WHERE id IN (SELECT artistId FROM credit)
                OR id IN (SELECT artistId FROM release WHERE id IN (SELECT releaseId FROM track)) ORDER BY name, id
            """, [])
            + blobs("SELECT search FROM release WHERE id IN (SELECT releaseId FROM track) ORDER BY title, id", [])
            + blobs("SELECT search FROM track \(Self.trackOrder)", [])
    }

    private func blobs(_ sql: String, _ arguments: [any DatabaseValueConvertible]) throws(PublishError) -> [Data] {
        try flush()
        return try read { db in try Data.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
    }

    func removeRelease(_ id: Int64) {
        batch("DELETE FROM release WHERE id = ?", [id])
    }

    func setArtist(_ id: Int64, name: String, search: [String]) throws(PublishError) {
        batch("INSERT OR REPLACE INTO artist (id, name, search) VALUES (?, ?, ?)",
              [id, name, try PublicationBuilder.fragment(search, path: "the publication index")])
    }

    func removeArtist(_ id: Int64) {
        batch("DELETE FROM artist WHERE id = ?", [id])
    }

    func releaseHead(_ id: Int64) throws(PublishError) -> ReleaseHead? {
        try flush()
        let data = try read { db in try Data.fetchOne(db, sql: "SELECT head FROM release WHERE id = ?", arguments: [id]) }
        return try data.map { data throws(PublishError) in try decode(ReleaseHead.self, from: data) }
    }

    func artistName(_ id: Int64) throws(PublishError) -> String? {
        try flush()
        return try read { db in try String.fetchOne(db, sql: "SELECT name FROM artist WHERE id = ?", arguments: [id]) }
    }

    /// A release's tracks' summaries (JSON) and durations, in list order.
    func trackSummaries(onRelease id: Int64) throws(PublishError) -> [(summary: Data, duration: Double)] {
        try summaries(where: "releaseId = ?", [id])
    }

    /// The summaries of the tracks credited to an artist, in list order.
    func trackSummaries(creditedTo id: Int64) throws(PublishError) -> [(summary: Data, duration: Double)] {
        try summaries(where: "id IN (SELECT trackId FROM credit WHERE artistId = ?)", [id])
    }

    /// The summaries of `ids`, in list order.
    func trackSummaries(_ ids: [String]) throws(PublishError) -> [(summary: Data, duration: Double)] {
        guard !ids.isEmpty else { return [] }
        return try summaries(where: "id IN (\(databaseQuestionMarks(count: ids.count)))", StatementArguments(ids))
    }

    private func summaries(where condition: String, _ arguments: StatementArguments) throws(PublishError) -> [(summary: Data, duration: Double)] {
        try flush()
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT summary, duration FROM track WHERE \(condition) \(Self.trackOrder)", arguments: arguments)
                .map { ($0[0], $0[1]) }
        }
    }

    /// The order tracks are listed in: CatalogDatabase.contents()'s.
    static let trackOrder = "ORDER BY releaseId IS NULL, releaseId, discNumber, trackNumber, title, id"

    /// Track ids in list order.
    func trackIDs() throws(PublishError) -> [String] {
        try flush()
        return try read { db in try String.fetchAll(db, sql: "SELECT id FROM track \(Self.trackOrder)") }
    }

    /// Every release and artist the index holds, listed or not.
    func releaseIDs() throws(PublishError) -> [Int64] {
        try flush()
        return try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM release ORDER BY id") }
    }

    func artistIDs() throws(PublishError) -> [Int64] {
        try flush()
        return try read { db in try Int64.fetchAll(db, sql: "SELECT id FROM artist ORDER BY id") }
    }

    func trackCount() throws(PublishError) -> Int {
        try flush()
        return try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM track") ?? 0 }
    }

    /// Listed releases (those with a track) in list order.
    func listedReleaseIDs() throws(PublishError) -> [Int64] {
        try flush()
        return try read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM release WHERE id IN (SELECT releaseId FROM track) ORDER BY title, id")
        }
    }

    /// Listed artists (credited on a track, or with a listed release) in list order.
    func listedArtistIDs() throws(PublishError) -> [Int64] {
        try flush()
        return try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM artist WHERE id IN (SELECT artistId FROM credit)
                    OR id IN (SELECT artistId FROM release WHERE id IN (SELECT releaseId FROM track))
                ORDER BY name, id
                """)
        }
    }

    // MARK: Pages

    func pageMembers(list: String) throws(PublishError) -> [Int: String] {
        try flush()
        return try read { db in
            Dictionary(try Row.fetchAll(db, sql: "SELECT number, members FROM page WHERE list = ?", arguments: [list]).map { ($0[0], $0[1]) }) { a, _ in a }
        }
    }

    func setPage(list: String, number: Int, members: String) {
        batch("INSERT OR REPLACE INTO page (list, number, members) VALUES (?, ?, ?)", [list, number, members])
    }

    func removePages(list: String, after count: Int) {
        batch("DELETE FROM page WHERE list = ? AND number > ?", [list, count])
    }

    // MARK: The tree behind OUT_DIR

    func pendingPaths() throws(PublishError) -> [String] {
        try flush()
        return try read { db in try String.fetchAll(db, sql: "SELECT path FROM pending ORDER BY path") }
    }

    func addPending(_ path: String) {
        batch("INSERT OR IGNORE INTO pending (path) VALUES (?)", [path])
    }

    func clearPending() throws(PublishError) {
        try flush()
        try write { db in try db.execute(sql: "DELETE FROM pending") }
    }

    // MARK: Plumbing

    private func batch(_ sql: String, _ arguments: StatementArguments) {
        pendingWrites.append((sql, arguments))
    }

    /// Writes the batched rows in one transaction.
    func flush() throws(PublishError) {
        guard !pendingWrites.isEmpty else { return }
        let writes = pendingWrites
        pendingWrites.removeAll(keepingCapacity: true)
        try write { db in
            for (sql, arguments) in writes { try db.cachedStatement(sql: sql).execute(arguments: arguments) }
        }
    }

    /// Flushes once enough rows wait (a full publish calls this as it goes).
    func flushIfLarge() throws(PublishError) {
        if pendingWrites.count >= 20_000 { try flush() }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(PublishError) -> T {
        try attempt("read") { try self.database.read(body) }
    }

    private func write(_ body: (Database) throws -> Void) throws(PublishError) {
        try attempt("write") { try self.database.write(body) }
    }

    private func attempt<T>(_ action: String, _ body: () throws -> T) throws(PublishError) -> T {
        do {
            return try body()
        } catch {
            throw .output(path: url.path, detail: "cannot \(action) the publication index (\(error)); delete it to publish in full")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(PublishError) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .output(path: url.path, detail: "the publication index holds an unreadable entry (\(error)); delete it to publish in full")
        }
    }
}
