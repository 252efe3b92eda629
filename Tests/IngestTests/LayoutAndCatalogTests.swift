import Catalog
import Foundation
import GRDB
import Testing
import Ingest
import TestSupport

@Suite("segment-file layout and catalog contents", .serialized)
struct LayoutAndCatalogTests {
    @Test("--segment-files writes init + one file per fragment, a live-profile MPD and plain HLS URIs")
    func segmentFiles() throws {
        let run = try FixtureRun.make(
            label: "segment-files", includeBad: false, extraArguments: ["--segment-files"],
            only: ["Sonic Pi/Loops/01 Tabla.flac", "Sonic Pi/Loops/03 Safari.opus"]
        )
        #expect(run.result.status == 0, "\(run.result.standardError)")
        for file in run.report.files {
            let mpd = run.work.appendingPathComponent(try #require(file.dashMPD))
            let text = try String(contentsOf: mpd, encoding: .utf8)
            #expect(text.contains("urn:mpeg:dash:profile:isoff-live:2011"))
            #expect(text.contains("SegmentTemplate"))
            let schema = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path, mpd.path])
            #expect(schema.status == 0, "\(schema.standardError)")
            let master = run.work.appendingPathComponent(try #require(file.hlsMaster))
            #expect(HLSChecker.checkMaster(at: master).isEmpty, "\(HLSChecker.checkMaster(at: master))")
            let media = try String(contentsOf: master.deletingLastPathComponent().appendingPathComponent("aac-128k.m3u8"), encoding: .utf8)
            #expect(!media.contains("BYTERANGE"))
            #expect(media.contains("aac-128k/seg-1.m4s"))
            let (source, _) = try DecodedAudio.ffmpeg(run.masters.appendingPathComponent(file.path).path, respectTimestamps: false)
            for manifest in [master, mpd] {
                let (decoded, errors) = try DecodedAudio.ffmpeg(manifest.path)
                #expect(errors.isEmpty, "\(errors)")
                #expect(abs(decoded.seconds - source.seconds) <= 0.0233)
            }
        }
    }

    @Test("the catalog records tracks, artists, releases, cover art, renditions, manifests and rejections")
    func catalogContents() throws {
        let run = try FixtureRun.get()
        let catalog = try DatabaseQueue(path: run.work.appendingPathComponent("catalog.sqlite").path)
        try catalog.read { (db: Database) throws in
            let tracks = try Track.fetchAll(db)
            #expect(tracks.count == FixtureRun.goodMasterPaths.count)
            let tabla = try #require(tracks.first { $0.sourcePath == "Sonic Pi/Loops/01 Tabla.flac" })
            #expect(tabla.title == "Tabla Loop")
            #expect(tabla.trackNumber == 1)
            #expect(tabla.isrc == "ZZ0000000001")
            #expect(tabla.genre == "World")
            #expect(tabla.sourceCodec == "flac" && tabla.sourceSampleRate == 44_100 && tabla.sourceBitDepth == 16)
            #expect(tabla.sourceSHA256.count == 64)
            let release = try #require(try Release.fetchOne(db, key: tabla.releaseId))
            #expect(release.title == "Loops")
            #expect(try Artist.fetchOne(db, key: release.artistId)?.name == "Sonic Pi")
            #expect(try Rendition.filter(Column("trackId") == tabla.id).fetchCount(db) == 6)
            #expect(try ManifestFile.filter(Column("trackId") == tabla.id).fetchCount(db) == 8)

            // The embedded picture of the MP3 becomes its release's cover, stored byte for byte.
            let piano = try #require(tracks.first { $0.sourcePath.hasSuffix("01 Piano.mp3") })
            let ambient = try #require(try Release.fetchOne(db, key: piano.releaseId))
            let coverPath = try #require(ambient.coverArtPath)
            #expect(ambient.coverArtMimeType == "image/png")
            let cover = try Data(contentsOf: run.work.appendingPathComponent(coverPath))
            #expect(cover.starts(with: [0x89, 0x50, 0x4E, 0x47]))

            // Hostile tag text is stored as data and never reaches a path.
            let amen = try #require(tracks.first { $0.sourcePath == "Loose/amen.ogg" })
            #expect(amen.title.contains("../../<script>"))
            #expect(amen.hlsMasterPath == "tracks/\(amen.id)/master.m3u8")
            let artists = try String.fetchAll(db, sql: """
                SELECT artist.name FROM trackArtist JOIN artist ON artist.id = trackArtist.artistId
                WHERE trackArtist.trackId = ? ORDER BY position
                """, arguments: [amen.id])
            #expect(artists == ["Amen", "Breaker"])

            // Missing tags fall back to folder and file names.
            let harmonics = try #require(tracks.first { $0.sourcePath.hasSuffix("03 Harmonics (mono).wav") })
            #expect(harmonics.title == "Harmonics (mono)")
            #expect(harmonics.trackNumber == 3)
            #expect(harmonics.sourceChannels == 1)
            #expect(try Rendition.filter(Column("trackId") == harmonics.id).fetchAll(db).allSatisfy { $0.channels == 1 })

            let surround = try #require(tracks.first { $0.sourcePath.hasSuffix("surround-5.1-48k.flac") })
            #expect(surround.sourceChannels == 6)
            #expect(try Rendition.filter(Column("trackId") == surround.id).fetchAll(db).allSatisfy {
                $0.channels == 2 && $0.sampleRate == 48_000
            })

            let rejected = try RejectedMaster.fetchAll(db)
            #expect(rejected.count == run.report.summary.rejected)
            #expect(rejected.contains { $0.sourcePath == "bad/truncated.flac" && $0.reason.contains("truncated") })
            let runs = try Run.fetchAll(db)
            #expect(runs.count == 1)
            #expect(runs.first?.ingestedCount == tracks.count && runs.first?.finishedAt != nil)
        }
    }
}
