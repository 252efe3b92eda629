import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// A masters folder and a work folder for tests that run musikk-ingest more than once.
struct Workspace {
    let root: URL
    let masters: URL
    let work: URL

    init(_ label: String) throws {
        root = try Repository.temporaryDirectory(label)
        masters = root.appendingPathComponent("masters")
        work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: masters, withIntermediateDirectories: true)
    }

    /// Writes a FLAC master with ffmpeg: a tone over quiet noise (so it is not silence), tagged.
    func makeMaster(
        _ path: String, frequency: Int, seconds: Double, title: String, album: String = "Album",
        format: String = "flac"
    ) throws {
        try Masters.makeTone(
            at: masters.appendingPathComponent(path), frequency: frequency, seconds: seconds, title: title,
            album: album, format: format
        )
    }

    /// Rewrites a master's tags with ffmpeg, copying the audio stream bit for bit.
    func retag(_ path: String, title: String) throws {
        let url = masters.appendingPathComponent(path)
        let temporary = root.appendingPathComponent("retag-\(UUID().uuidString).flac")
        let result = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", url.path, "-map", "0", "-c", "copy",
                                                "-metadata", "title=\(title)", temporary.path])
        #expect(result.status == 0, "\(result.standardError)")
        try FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    func ingest(_ extra: [String] = []) throws -> (IngestReport, CommandResult) {
        let result = try Command.run(Repository.executable("musikk-ingest").path,
                                     [masters.path, work.path, "--json", "--jobs", "2"] + extra)
        let report = try JSONDecoder().decode(IngestReport.self, from: result.standardOutput)
        return (report, result)
    }

    func dryRun(_ extra: [String] = []) throws -> DryRunReport {
        let result = try Command.run(Repository.executable("musikk-ingest").path,
                                     [masters.path, work.path, "--dry-run", "--json"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        return try JSONDecoder().decode(DryRunReport.self, from: result.standardOutput)
    }

    func catalog() throws -> DatabaseQueue {
        try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path)
    }

    /// Inode and modification time of every file under WORK/tracks: the same pair means the file was not written.
    func trackFileStates() throws -> [String: String] {
        try FileTree.files(under: work.appendingPathComponent("tracks")).mapValues { url in
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let inode = attributes[.systemFileNumber] as? Int ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            return "\(inode)@\(modified)"
        }
    }
}

/// Judges a WORK_DIR from outside: what is in it, and whether the catalog points only at files that are there.
enum WorkTree {
    /// The bytes of every file of a work folder but the catalog and the lock.
    static func contents(of work: URL) throws -> [String: Data] {
        try FileTree.files(under: work)
            .filter { !$0.key.hasPrefix("catalog.sqlite") && $0.key != "musikk.lock" }
            .mapValues { try Data(contentsOf: $0) }
    }

    /// Names in the work folder that only a run still going (or killed) has: partial and set-aside outputs.
    static func leftovers(in work: URL) throws -> [String] {
        FileTree.files(under: work).keys.filter { $0.contains(".partial-") || $0.contains(".replaced-") }.sorted()
            + ["tracks", "covers"].flatMap { folder in
                ((try? FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent(folder).path)) ?? [])
                    .filter { $0.hasPrefix(".") }.map { "\(folder)/\($0)" }
            }
    }

    /// Catalog paths (relative to WORK) that do not exist; empty for a consistent catalog.
    static func missingFiles(in work: URL) throws -> [String] {
        let catalog = try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path)
        let paths = try catalog.read { db in
            try String.fetchAll(db, sql: """
                SELECT path FROM rendition UNION SELECT path FROM manifest
                UNION SELECT hlsMasterPath FROM track UNION SELECT dashManifestPath FROM track
                UNION SELECT jsonPath FROM trackWaveform UNION SELECT dataPath FROM trackWaveform
                UNION SELECT coverArtPath FROM release WHERE coverArtPath IS NOT NULL
                """)
        }
        return paths.filter { !FileManager.default.fileExists(atPath: work.appendingPathComponent($0).path) }
    }

    /// The catalog as `sqlite3 .dump` prints it, with date-times (run start and end) masked.
    static func catalogDump(of work: URL) throws -> String {
        let result = try Command.run("sqlite3", ["-readonly", work.appendingPathComponent("catalog.sqlite").path, ".dump"])
        #expect(result.status == 0, "\(result.standardError)")
        return result.text.replacingOccurrences(
            of: #"'\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?'"#, with: "'<time>'", options: .regularExpression
        )
    }
}
