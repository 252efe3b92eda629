import Foundation
import GRDB

/// The SQLite catalog (`WORK_DIR/catalog.sqlite`): schema by registered migrations, writes in transactions.
public struct CatalogDatabase: Sendable {
    /// The database connection; readers may use it directly, writes go through the methods below.
    public let writer: any DatabaseWriter

    /// Opens (creating if needed) the catalog at `path` and migrates it to the current schema.
    public static func open(atPath path: String) throws -> CatalogDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabasePool(path: path, configuration: configuration)
        return try CatalogDatabase(queue)
    }

    /// Opens an existing catalog for reading only; fails when it was made by an older version (a normal run
    /// upgrades it).
    public static func openReadOnly(atPath path: String) throws -> CatalogDatabase {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        guard try queue.read(migrator.hasCompletedMigrations) else {
            throw DatabaseError(message: "the catalog was made by an older musikk-ingest; a run without --dry-run upgrades it")
        }
        return CatalogDatabase(reading: queue)
    }

    private init(reading writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Wraps an open connection (an in-memory queue in tests) and migrates it.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("startedAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.column("toolVersion", .text).notNull()
                t.column("mastersDirectory", .text).notNull()
                t.column("ingestedCount", .integer).notNull().defaults(to: 0)
                t.column("rejectedCount", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "artist") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
            }
            try db.create(table: "release") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("title", .text).notNull()
                t.belongsTo("artist", onDelete: .restrict).notNull()
                t.column("date", .text)
                t.column("coverArtPath", .text)
                t.column("coverArtMimeType", .text)
                t.uniqueKey(["title", "artistId"])
            }
            try db.create(table: "track") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.belongsTo("release", onDelete: .setNull)
                t.column("trackNumber", .integer)
                t.column("discNumber", .integer)
                t.column("isrc", .text)
                t.column("genre", .text)
                t.column("date", .text)
                t.column("durationSeconds", .double).notNull()
                t.column("sourcePath", .text).notNull().unique()
                t.column("sourceSHA256", .text).notNull().indexed()
                t.column("sourceSize", .integer).notNull()
                t.column("sourceContainer", .text).notNull()
                t.column("sourceCodec", .text).notNull()
                t.column("sourceSampleRate", .integer).notNull()
                t.column("sourceBitDepth", .integer)
                t.column("sourceChannels", .integer).notNull()
                t.column("hlsMasterPath", .text).notNull()
                t.column("dashManifestPath", .text).notNull()
                t.belongsTo("run", onDelete: .setNull)
            }
            try db.create(table: "trackArtist") { t in
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.belongsTo("artist", onDelete: .restrict).notNull()
                t.column("position", .integer).notNull()
                t.primaryKey(["trackId", "position"])
            }
            try db.create(table: "rendition") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.column("name", .text).notNull()
                t.column("codec", .text).notNull()
                t.column("bitrate", .integer).notNull()
                t.column("sampleRate", .integer).notNull()
                t.column("channels", .integer).notNull()
                t.column("layout", .text).notNull()
                t.column("path", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("peakBandwidth", .integer).notNull()
                t.column("averageBandwidth", .integer).notNull()
                t.column("encoderVersions", .text).notNull()
                t.uniqueKey(["trackId", "name"])
            }
            try db.create(table: "manifest") { t in
                t.belongsTo("track", onDelete: .cascade).notNull()
                t.column("kind", .text).notNull()
                t.column("path", .text).notNull()
                t.primaryKey(["trackId", "path"])
            }
            try db.create(table: "rejectedMaster") { t in
                t.primaryKey("sourcePath", .text)
                t.column("reason", .text).notNull()
                t.belongsTo("run", onDelete: .setNull)
            }
        }
        migrator.registerMigration("v2: analysis") { db in
            try db.alter(table: "release") { t in
                // ReplayGain 2.0 album gain and peak over the release's tracks in the catalog.
                t.add(column: "albumGainDB", .double)
                t.add(column: "albumPeak", .double)
            }
            try db.create(table: "trackFingerprint") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("fingerprint", .text).notNull()
                t.column("fingerprintRaw", .blob).notNull()
                t.column("lookupFingerprint", .text).notNull()
                t.column("lookupFingerprintRaw", .blob).notNull()
            }
            try db.create(table: "fingerprintKey", options: .withoutRowID) { t in
                t.column("key", .integer).notNull()
                t.column("trackId", .text).notNull().references("track", onDelete: .cascade)
                t.primaryKey(["key", "trackId"])
            }
            try db.create(index: "fingerprintKey_trackId", on: "fingerprintKey", columns: ["trackId"])
            try db.create(table: "duplicate") { t in
                t.column("trackId", .text).notNull().references("track", onDelete: .cascade)
                t.column("duplicateOfId", .text).notNull().references("track", onDelete: .cascade)
                t.column("similarity", .double).notNull()
                t.column("offsetSeconds", .double).notNull()
                t.primaryKey(["trackId", "duplicateOfId"])
            }
            try db.create(index: "duplicate_duplicateOfId", on: "duplicate", columns: ["duplicateOfId"])
            try db.create(table: "trackLoudness") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("integratedLUFS", .double)
                t.column("rangeLU", .double).notNull()
                t.column("samplePeakDBFS", .double).notNull()
                t.column("truePeakDBTP", .double).notNull()
                t.column("trackGainDB", .double)
                t.column("trackPeak", .double).notNull()
                t.column("gatingBlocks", .blob).notNull()
            }
            try db.create(table: "trackWaveform") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("jsonPath", .text).notNull()
                t.column("dataPath", .text).notNull()
                t.column("pixelsPerSecond", .integer).notNull()
                t.column("samplesPerPixel", .integer).notNull()
                t.column("bits", .integer).notNull()
                t.column("channels", .integer).notNull()
            }
            try db.create(table: "trackSignal") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("clippedRuns", .integer).notNull()
                t.column("clippedSamples", .integer).notNull()
                t.column("dcOffset", .double).notNull()
                t.column("leadingSilenceSeconds", .double).notNull()
                t.column("trailingSilenceSeconds", .double).notNull()
                t.column("warnings", .text).notNull()
            }
        }
        migrator.registerMigration("v3: incremental runs") { db in
            try db.alter(table: "run") { t in
                t.add(column: "updatedCount", .integer).notNull().defaults(to: 0)
                t.add(column: "unchangedCount", .integer).notNull().defaults(to: 0)
                t.add(column: "removedCount", .integer).notNull().defaults(to: 0)
                t.add(column: "skippedCount", .integer).notNull().defaults(to: 0)
            }
            try db.alter(table: "track") { t in
                // The master's modification time (nanoseconds since 1970) and its audio payload's SHA-256:
                // with sourceSize and sourceSHA256, how a later run tells what changed.
                t.add(column: "sourceModified", .integer).notNull().defaults(to: 0)
                // Status-change time (nanoseconds) and inode: a file rewritten in place with its size and
                // modification time restored (rsync -t, cp -p) still gets a new one of each.
                t.add(column: "sourceChanged", .integer).notNull().defaults(to: 0)
                t.add(column: "sourceInode", .integer).notNull().defaults(to: 0)
                t.add(column: "audioSHA256", .text).notNull().defaults(to: "")
                // What produced the analysis rows (library versions, waveform settings); nil without analysis.
                t.add(column: "analysisKey", .text)
                // Set when the master disappeared; its files stay in WORK for a master that comes back.
                t.add(column: "removedAt", .datetime)
            }
            try db.create(index: "track_audioSHA256", on: "track", columns: ["audioSHA256"])
            try db.alter(table: "rendition") { t in
                // Source audio, encoder settings and library versions the bytes come from.
                t.add(column: "provenance", .text).notNull().defaults(to: "")
                // The segment table (JSON), so manifests can be rewritten without reading the media again.
                t.add(column: "segmentTable", .blob)
            }
            try db.alter(table: "rejectedMaster") { t in
                t.add(column: "sourceSize", .integer).notNull().defaults(to: -1)
                t.add(column: "sourceModified", .integer).notNull().defaults(to: 0)
                t.add(column: "sourceChanged", .integer).notNull().defaults(to: 0)
                t.add(column: "sourceInode", .integer).notNull().defaults(to: 0)
                t.add(column: "sourceSHA256", .text).notNull().defaults(to: "")
                // The rules and library versions the rejection holds for; nil when it depends on other masters.
                t.add(column: "rulesKey", .text)
            }
            try db.create(table: "skippedMaster") { t in
                t.primaryKey("sourcePath", .text)
                t.column("sourceSize", .integer).notNull()
                t.column("sourceModified", .integer).notNull()
                t.column("sourceChanged", .integer).notNull()
                t.column("sourceInode", .integer).notNull()
                t.column("sourceSHA256", .text).notNull()
                t.column("duplicateOfId", .text).notNull().indexed().references("track", onDelete: .cascade)
                t.column("similarity", .double).notNull()
                t.belongsTo("run", onDelete: .setNull)
            }
        }
        migrator.registerMigration("v4: rendition digests") { db in
            try db.alter(table: "rendition") { t in
                // SHA-256 of the media file (or of the segment folder's listing, see FileDigest): musikk-publish
                // names published media by it without reading them again. Nil for renditions written before v4.
                t.add(column: "sha256", .text)
            }
        }
        migrator.registerMigration("v5: change serial, work checks") { db in
            // A track's WORK folder and outputs as they were when a run last found them complete (see WorkCheck).
            try db.create(table: "workCheck") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("folderSize", .integer).notNull()
                t.column("folderModified", .integer).notNull()
                t.column("folderChanged", .integer).notNull()
                t.column("folderInode", .integer).notNull()
                t.column("outputs", .text).notNull()
            }
            // One number every change to what a publication shows moves on, whoever writes the row: musikk-publish
            // compares it with the last publish's to skip an unchanged catalog without reading it.
            try db.create(table: "changeSerial") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("value", .integer).notNull()
            }
            try db.execute(sql: "INSERT INTO changeSerial (id, value) VALUES (1, 0)")
            // Every run asks for renditions without a digest (written before v4); without this index the question
            // read the whole rendition table, segment tables included.
            try db.execute(sql: "CREATE INDEX rendition_undigested ON rendition (id) WHERE sha256 IS NULL")
            try createSerialTriggers(on: publishedTables.filter { $0.since <= 5 }, db)
        }
        migrator.registerMigration("v6: changed entities") { db in
            // The track, release or artist each change to a published table touched, with a serial past the one
            // the change moved changeSerial from (whichever trigger runs first): musikk-publish rebuilds only what
            // changed after the serial it last published. One row per entity, however often it changes.
            try db.create(table: "publishChange", options: .withoutRowID) { t in
                t.column("kind", .text).notNull()
                t.column("key", .text).notNull()
                t.column("serial", .integer).notNull()
                t.primaryKey(["kind", "key"])
            }
            try db.create(index: "publishChange_serial", on: "publishChange", columns: ["serial"])
            try createChangeTriggers(on: publishedTables.filter { $0.since <= 6 }, db)
        }
        migrator.registerMigration("v7: lyrics") { db in
            // The master's lyrics as the publication shows them (JSON): their own table, so that a rescan, which
            // reads every track row, does not read them.
            try db.create(table: "trackLyrics") { t in
                t.primaryKey("trackId", .text).references("track", onDelete: .cascade)
                t.column("lyrics", .text).notNull()
            }
            let added = publishedTables.filter { $0.since == 7 }
            try createSerialTriggers(on: added, db)
            try createChangeTriggers(on: added, db)
        }
        return migrator
    }

    /// The tables a publication is made from (``contents()`` reads them), the entity each row belongs to, and the
    /// migration that made the table (whose triggers are made with it).
    static let publishedTables: [(table: String, entity: PublishedEntity, key: String, since: Int)] = [
        ("artist", .artist, "id", 5), ("release", .release, "id", 5), ("track", .track, "id", 5), ("trackArtist", .track, "trackId", 5),
        ("rendition", .track, "trackId", 5), ("manifest", .track, "trackId", 5), ("trackLoudness", .track, "trackId", 5),
        ("trackWaveform", .track, "trackId", 5), ("trackLyrics", .track, "trackId", 7),
    ]

    /// Every write to these tables moves the change serial on.
    private static func createSerialTriggers(on sources: [(table: String, entity: PublishedEntity, key: String, since: Int)], _ db: Database) throws {
        for table in sources.map(\.table) {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                try db.execute(sql: """
                    CREATE TRIGGER "\(table)_\(event.lowercased())_serial" AFTER \(event) ON "\(table)"
                    BEGIN UPDATE changeSerial SET value = value + 1 WHERE id = 1; END
                    """)
            }
        }
    }

    /// Every write to these tables names the entity it touched in publishChange, with a serial past the one it
    /// moved changeSerial from (whichever trigger runs first).
    private static func createChangeTriggers(on sources: [(table: String, entity: PublishedEntity, key: String, since: Int)], _ db: Database) throws {
        for source in sources {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                let row = event == "DELETE" ? "OLD" : "NEW"
                try db.execute(sql: """
                    CREATE TRIGGER "\(source.table)_\(event.lowercased())_change" AFTER \(event) ON "\(source.table)"
                    BEGIN
                        INSERT INTO publishChange (kind, key, serial)
                        VALUES ('\(source.entity.rawValue)', \(row)."\(source.key)", (SELECT value FROM changeSerial WHERE id = 1) + 1)
                        ON CONFLICT (kind, key) DO UPDATE SET serial = excluded.serial;
                    END
                    """)
            }
        }
    }

    /// The tracks, releases and artists changed after `serial` (from ``changes(after:)`` or 0), and the serial
    /// the catalog is at now, read together.
    public func changes(after serial: Int64) throws -> CatalogChanges {
        try writer.read { db in
            var changes = CatalogChanges(serial: try Self.changeSerial(db), tracks: [], releases: [], artists: [])
            let rows = try Row.fetchCursor(db, sql: "SELECT kind, key FROM publishChange WHERE serial > ?", arguments: [serial])
            while let row = try rows.next() {
                let key: String = row[1]
                switch PublishedEntity(rawValue: row[0]) {
                case .track: changes.tracks.insert(key)
                case .release: if let id = Int64(key) { changes.releases.insert(id) }
                case .artist: if let id = Int64(key) { changes.artists.insert(id) }
                case nil: continue
                }
            }
            return changes
        }
    }

    /// Where the catalog is in its history of published changes: equal keys, same publication.
    public func changeKey() throws -> String {
        try writer.read { db in
            let run = try Run.lastChange.fetchOne(db)?.id
            return "\(try Self.changeSerial(db))/\(run.map(String.init) ?? "-")"
        }
    }

    /// The serial of the catalog's last published change (read before what a publish shows, it is never ahead).
    public func changeSerial() throws -> Int64 {
        try writer.read(Self.changeSerial)
    }

    private static func changeSerial(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM changeSerial WHERE id = 1") ?? 0
    }
}

/// What a row of a published table belongs to.
public enum PublishedEntity: String, Sendable {
    case track, release, artist
}

/// What changed in a catalog since a serial (``CatalogDatabase/changes(after:)``).
public struct CatalogChanges: Sendable, Equatable {
    /// The catalog's serial now: the next ``CatalogDatabase/changes(after:)`` starts from it.
    public var serial: Int64
    public var tracks: Set<String>
    public var releases: Set<Int64>
    public var artists: Set<Int64>
}
