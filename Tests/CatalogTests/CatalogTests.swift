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
            track: track, artistNames: ["A", "B"], release: ("A", "Album", "2024"), coverArt: nil,
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
        #expect(tables == ["artist", "changeSerial", "duplicate", "fingerprintKey", "manifest", "rejectedMaster", "release", "rendition", "run",
                           "skippedMaster", "track", "trackArtist", "trackFingerprint", "trackLoudness", "trackSignal",
                           "trackWaveform", "workCheck"])
        // Opening again is idempotent.
        _ = try CatalogDatabase.open(atPath: path)
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
