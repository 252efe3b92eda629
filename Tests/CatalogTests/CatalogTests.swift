import Catalog
import Foundation
import GRDB
import Testing
import TestSupport

@Suite("Catalog")
struct CatalogTests {
    private func sample(id: String = "t1", path: String = "a/b.flac", title: String = "Song") -> IngestedTrack {
        let track = Track(
            id: id, title: title, durationSeconds: 12.5, sourcePath: path, sourceSHA256: String(repeating: "a", count: 64),
            sourceSize: 100, sourceContainer: "flac", sourceCodec: "flac", sourceSampleRate: 44_100, sourceBitDepth: 16,
            sourceChannels: 2, hlsMasterPath: "tracks/\(id)/master.m3u8", dashManifestPath: "tracks/\(id)/manifest.mpd"
        )
        let rendition = Rendition(
            trackId: id, name: "aac-128k", codec: "aac", bitrate: 128_000, sampleRate: 44_100, channels: 2,
            layout: "singleFile", path: "tracks/\(id)/aac-128k.mp4", size: 1000, peakBandwidth: 130_000,
            averageBandwidth: 128_500, encoderVersions: "test"
        )
        return IngestedTrack(
            track: track, description: TrackDescription(artistNames: ["A", "B"], release: ("A", "Album", "2024"), coverArt: nil),
            renditions: [rendition], manifests: [ManifestFile(trackId: id, kind: .hlsMaster, path: track.hlsMasterPath)]
        )
    }

    @Test("migrations create the schema on a real SQLite database file")
    func schema() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).sqlite").path
        let catalog = try CatalogDatabase.open(atPath: path)
        let tables = try catalog.writer.read { (db: Database) throws in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' AND name NOT LIKE 'sqlite%' ORDER BY name")
        }
        #expect(tables == ["artist", "changeSerial", "duplicate", "fingerprintKey", "manifest", "publishChange", "rejectedMaster", "release",
                           "rendition", "run", "skippedMaster", "track", "trackArtist", "trackFingerprint", "trackLoudness", "trackLyrics",
                           "trackSignal", "trackWaveform", "workCheck"])
        // Opening again is idempotent.
        _ = try CatalogDatabase.open(atPath: path)
    }

    @Test("changes(after:) names every track, release and artist a write touched after a serial, whoever wrote it, and nothing before")
    func changedEntities() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).sqlite").path
        let catalog = try CatalogDatabase.open(atPath: path)
        try catalog.record(sample(id: "t1", path: "a/1.flac"))
        try catalog.record(sample(id: "t2", path: "a/2.flac"))
        let start = try catalog.changes(after: 0)
        #expect(start.tracks == ["t1", "t2"] && start.releases.count == 1 && start.artists.count == 2)
        let none = try catalog.changes(after: start.serial)
        #expect(none.serial == start.serial && none.tracks.isEmpty && none.releases.isEmpty && none.artists.isEmpty)

        // Writes through the sqlite3 shell, one table at a time: each names its entity, and only it.
        let cases: [(sql: String, tracks: Set<String>, releases: Int, artists: Int)] = [
            ("UPDATE track SET title = 'x' WHERE id = 't2'", ["t2"], 0, 0),
            ("UPDATE rendition SET size = 5 WHERE trackId = 't1'", ["t1"], 0, 0),
            ("DELETE FROM trackArtist WHERE trackId = 't2' AND position = 1", ["t2"], 0, 0),
            ("UPDATE release SET title = 'Other'", [], 1, 0),
            ("UPDATE artist SET name = name || '!' WHERE name = 'B'", [], 0, 1),
            ("DELETE FROM manifest WHERE trackId = 't1'", ["t1"], 0, 0),
        ]
        var serial = start.serial
        for (sql, tracks, releases, artists) in cases {
            let result = try Command.run("sqlite3", [path, sql])
            #expect(result.status == 0, "\(result.standardError)")
            let changes = try catalog.changes(after: serial)
            #expect(changes.tracks == tracks && changes.releases.count == releases && changes.artists.count == artists, "\(sql): \(changes)")
            #expect(changes.serial > serial, "\(sql)")
            serial = changes.serial
        }
        // A deleted track is named by its old id; changes since the start add up.
        #expect(try Command.run("sqlite3", [path, "PRAGMA foreign_keys = ON; DELETE FROM track WHERE id = 't1'"]).status == 0)
        #expect(try catalog.changes(after: serial).tracks == ["t1"])
        #expect(try catalog.changes(after: start.serial).tracks == ["t1", "t2"])
    }

    @Test("recording a track again replaces it; a later success clears an earlier rejection")
    func rerecord() throws {
        let catalog = try CatalogDatabase(DatabaseQueue())
        try catalog.recordRejection(RejectedMaster(sourcePath: "a/b.flac", reason: "truncated"))
        try catalog.record(sample())
        try catalog.record(sample(title: "Song (fixed)"))
        try catalog.writer.read { (db: Database) throws in
            #expect(try Track.fetchAll(db).map(\.title) == ["Song (fixed)"])
            #expect(try Rendition.fetchCount(db) == 1)
            #expect(try TrackArtist.fetchCount(db) == 2)
            #expect(try Artist.fetchCount(db) == 2)
            #expect(try Release.fetchCount(db) == 1)
            #expect(try RejectedMaster.fetchCount(db) == 0)
        }
    }

    @Test("a master moved to a new content id replaces the old record of its path")
    func samePathNewContent() throws {
        let catalog = try CatalogDatabase(DatabaseQueue())
        try catalog.record(sample(id: "old"))
        try catalog.record(sample(id: "new"))
        let ids = try catalog.writer.read { db in try Track.fetchAll(db).map(\.id) }
        #expect(ids == ["new"])
    }

    @Test("duplicate candidates among 100,000 tracks come from the key index, not a scan of every fingerprint")
    func candidatesFromIndexAtScale() throws {
        let catalog = try CatalogDatabase(DatabaseQueue())
        var generator = SeededRandom(state: 42)
        let trackCount = 100_000
        let keysPerTrack = 12
        var keysOfTarget: [Int64] = []
        let target = 73_210
        try catalog.writer.write { db in
            let insertTrack = try db.makeStatement(sql: """
                INSERT INTO track (id, title, durationSeconds, sourcePath, sourceSHA256, sourceSize, sourceContainer,
                    sourceCodec, sourceSampleRate, sourceChannels, hlsMasterPath, dashManifestPath)
                VALUES (?, 't', 1, ?, 'x', 1, 'flac', 'flac', 44100, 2, 'm', 'd')
                """)
            let insertFingerprint = try db.makeStatement(sql: """
                INSERT INTO trackFingerprint VALUES (?, 'f', x'00000000', 'f', x'00000000')
                """)
            let insertKey = try db.makeStatement(sql: "INSERT OR IGNORE INTO fingerprintKey (key, trackId) VALUES (?, ?)")
            for index in 0..<trackCount {
                let id = "track-\(index)"
                try insertTrack.execute(arguments: [id, "masters/\(index).flac"])
                try insertFingerprint.execute(arguments: [id])
                for _ in 0..<keysPerTrack {
                    // 24-bit keys, as FingerprintMatcher.indexKeys makes them.
                    let key = Int64(generator.next() >> 40)
                    try insertKey.execute(arguments: [key, id])
                    if index == target { keysOfTarget.append(key) }
                }
            }
        }
        let found = try catalog.duplicateCandidates(
            keys: keysOfTarget, excluding: "new-track", minimumSharedKeys: keysPerTrack / 2, limit: 10
        )
        #expect(found.map(\.trackId) == ["track-\(target)"])
        #expect(found.first?.sharedKeys == keysPerTrack)
        #expect(try catalog.duplicateCandidates(keys: keysOfTarget, excluding: "track-\(target)", minimumSharedKeys: 2, limit: 10).isEmpty)

        // SQLite's plan: a search of the key index per key, never a scan of the key table.
        let plan = try catalog.writer.read { db in
            try Row.fetchAll(db, sql: """
                EXPLAIN QUERY PLAN SELECT trackId, COUNT(*) FROM fingerprintKey WHERE key IN (1, 2, 3) AND trackId <> ?
                GROUP BY trackId
                """, arguments: ["x"]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("SEARCH fingerprintKey USING PRIMARY KEY (key=?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN fingerprintKey") }, "\(plan)")
    }
}
