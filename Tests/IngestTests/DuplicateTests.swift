import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// Duplicate detection on real re-encodes made by the ffmpeg CLI.
@Suite("duplicates")
struct DuplicateTests {
    static let original = "Sonic Pi/Loops/01 Tabla.flac"
    static let distinct = ["Sonic Pi/Loops/02 Compus.flac", "Sonic Pi/Loops/03 Safari.opus", "Sonic Pi/Ambient/03 Harmonics (mono).wav"]

    /// A masters folder with the fingerprintable fixtures and the original re-encoded to MP3 and AAC, renamed
    /// and re-tagged.
    private func mastersWithCopies(_ root: URL) throws -> URL {
        let masters = root.appendingPathComponent("masters")
        for path in [Self.original] + Self.distinct {
            let destination = masters.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Repository.goodMasters.appendingPathComponent(path), to: destination)
        }
        try FileManager.default.createDirectory(at: masters.appendingPathComponent("Uploads"), withIntermediateDirectories: true)
        let source = Repository.goodMasters.appendingPathComponent(Self.original).path
        for (name, codec) in [("Uploads/drums final v2.mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
                              ("Uploads/untitled.m4a", ["-c:a", "aac", "-b:a", "256k"])] {
            let result = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", source, "-map_metadata", "-1",
                                                    "-metadata", "title=Something Else", "-metadata", "artist=Nobody"]
                                         + codec + [masters.appendingPathComponent(name).path])
            #expect(result.status == 0, "\(result.standardError)")
        }
        return masters
    }

    private func ingest(_ masters: URL, _ work: URL, _ extra: [String] = []) throws -> (IngestReport, CommandResult) {
        let result = try Command.run(Repository.executable("musikk-ingest").path,
                                     [masters.path, work.path, "--json"] + extra)
        return (try JSONDecoder().decode(IngestReport.self, from: result.standardOutput), result)
    }

    @Test("re-encodes (MP3 192k, AAC 256k), renamed and re-tagged, are found; distinct fixtures are not paired")
    func reencodesFound() throws {
        let root = try Repository.temporaryDirectory("duplicates")
        let masters = try mastersWithCopies(root)
        let work = root.appendingPathComponent("work")
        let (report, result) = try ingest(masters, work, ["--jobs", "2"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(report.summary.ingested == 6)
        let original = try #require(report.files.first { $0.path == Self.original })
        #expect(original.duplicateOf == nil)
        for copy in ["Uploads/drums final v2.mp3", "Uploads/untitled.m4a"] {
            let file = try #require(report.files.first { $0.path == copy })
            // The lossless original is the larger file, so it is scheduled and recorded first.
            #expect(file.duplicateOf?.path == Self.original, "\(copy)")
            #expect(file.duplicateOf?.trackID == original.trackID)
            #expect((file.similarity ?? 0) >= 0.95, "\(copy): \(file.similarity ?? 0)")
            #expect(file.status == .ingested)
            #expect(result.standardError.contains("duplicate of \(Self.original)"))
        }
        for path in Self.distinct {
            #expect(report.files.first { $0.path == path }?.duplicateOf == nil, "\(path)")
        }
        let database = try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path)
        let pairs = try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT copy.sourcePath AS copy, original.sourcePath AS original, similarity FROM duplicate
                JOIN track AS copy ON copy.id = duplicate.trackId
                JOIN track AS original ON original.id = duplicate.duplicateOfId ORDER BY copy.sourcePath
                """).map { "\($0["copy"] as String) -> \($0["original"] as String)" }
        }
        #expect(pairs == ["Uploads/drums final v2.mp3 -> \(Self.original)", "Uploads/untitled.m4a -> \(Self.original)"])

        // One job at a time gives the same pairs: the order of recording does not depend on timing.
        let (sequential, _) = try ingest(masters, root.appendingPathComponent("work-1"), ["--jobs", "1"])
        #expect(sequential.files.map(\.duplicateOf) == report.files.map(\.duplicateOf))
    }

    @Test("a later run finds a copy of a catalog track; --skip-duplicates leaves it out, exit 0")
    func skipDuplicates() throws {
        let root = try Repository.temporaryDirectory("skip-duplicates")
        let first = root.appendingPathComponent("first")
        let original = first.appendingPathComponent("Tabla.flac")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Repository.goodMasters.appendingPathComponent(Self.original), to: original)
        let work = root.appendingPathComponent("work")
        let (firstReport, _) = try ingest(first, work)
        let originalID = try #require(firstReport.files.first?.trackID)

        let copy = first.appendingPathComponent("Uploads/same song.opus")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", original.path, "-c:a", "libopus", "-b:a", "96k", copy.path])
        let (report, result) = try ingest(first, work, ["--skip-duplicates"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(report.files.first { $0.path == "Tabla.flac" }?.status == .unchanged)
        let file = try #require(report.files.first { $0.path == "Uploads/same song.opus" })
        #expect(file.status == .skipped)
        #expect(file.duplicateOf?.trackID == originalID)
        #expect(file.duplicateOf?.path == "Tabla.flac")
        #expect(report.summary.skipped == 1)
        let database = try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path)
        #expect(try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM track") } == 1)
        let trackFolders = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("tracks").path)
        #expect(trackFolders == [originalID])

        // The skip is remembered: the next run does not decode the copy again, and says so the same way.
        let (again, _) = try ingest(first, work, ["--skip-duplicates"])
        #expect(again.files.first { $0.path == "Uploads/same song.opus" }?.status == .skipped)
        #expect(again.files.first { $0.path == "Uploads/same song.opus" }?.duplicateOf?.trackID == originalID)
        #expect(again.summary == IngestReport.Summary(ingested: 0, updated: 0, unchanged: 1, removed: 0, rejected: 0, skipped: 1))
    }
}
