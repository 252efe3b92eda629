import Catalog
import Foundation
import GRDB
import Testing

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
        #expect(tables == ["artist", "manifest", "rejectedMaster", "release", "rendition", "run", "track", "trackArtist"])
        // Opening again is idempotent.
        _ = try CatalogDatabase.open(atPath: path)
    }

    @Test("recording a track again replaces it; a later success clears an earlier rejection")
    func rerecord() throws {
        let catalog = try CatalogDatabase(DatabaseQueue())
        try catalog.recordRejection(sourcePath: "a/b.flac", reason: "truncated", runId: nil)
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
}
