import Foundation
import Publish
import PublicationFormat
import Testing
import TestSupport
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// A publish after a change reads and writes only what changed (the index beside OUT_DIR, the tree behind it);
/// these tests hold it to the publication a full publish makes of the same catalog.
@Suite("Publishing what changed")
struct DeltaPublishTests {
    /// `works` (the space's WORK unless given) are published into its OUT_DIR as a user would, and in full into
    /// `reference`, at the same moment.
    private static func publishBoth(
        _ space: PublishSpace, works: [URL]? = nil, reference: URL, at now: Date
    ) throws -> (change: PublishReport, full: PublishReport) {
        let works = works ?? [space.work]
        let delta = try Publisher(options: PublishOptions(workDirectories: works, outputDirectory: space.out, now: now)).run()
        let full = try Publisher(options: PublishOptions(workDirectories: works, outputDirectory: reference, full: true, now: now)).run()
        return (delta, full)
    }

    private static func sqlite(_ database: String, _ sql: String) throws {
        let result = try Command.run("sqlite3", [database, sql])
        try #require(result.status == 0, "\(result.standardError)")
    }

    /// The files of two publications that differ (the nginx snippet names its own folder, so it is left out).
    private static func differences(_ a: URL, _ b: URL) throws -> [String] {
        let (left, right) = (FileTree.files(under: a), FileTree.files(under: b))
        var differences: [String] = []
        for path in Set(left.keys).union(right.keys).sorted() where path != "nginx/musikk.conf" {
            guard left[path] != nil, right[path] != nil else {
                differences.append("\(path): only in \(left[path] == nil ? b.lastPathComponent : a.lastPathComponent)")
                continue
            }
            var first = try Data(contentsOf: a.appendingPathComponent(path))
            var second = try Data(contentsOf: b.appendingPathComponent(path))
            if path == "publish.json" {
                // The snippet's digest differs with its folder; every other line must match.
                let drop = { (data: Data) in
                    Data(String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                        .filter { !$0.contains("\"nginx/musikk.conf\"") }.joined(separator: "\n").utf8)
                }
                (first, second) = (drop(first), drop(second))
            }
            if first != second { differences.append(path) }
        }
        return differences
    }

    @Test("each change (retitled in sqlite3, an artist renamed, new audio, a master removed, added or moved, covers given, a release deleted, days passing) publishes only what changed, and the result equals a full publish file by file")
    func equalsFullPublish() throws {
        let space = try PublishSpace("delta")
        let reference = space.root.appendingPathComponent("reference")
        try space.drawCover(in: "A", pattern: "testsrc", width: 400, height: 400)
        try space.ingest()
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        let (first, _) = try Self.publishBoth(space, reference: reference, at: now)
        #expect(first.full, "a first publish reads everything")
        let catalog = space.work.appendingPathComponent("catalog.sqlite").path
        let steps: [(String, () throws -> Void)] = [
            ("a title edited in sqlite3", {
                try Self.sqlite(catalog, "UPDATE track SET title = 'Edited' WHERE title = 'one'")
            }),
            ("an artist renamed in sqlite3", {
                try Self.sqlite(catalog, "UPDATE artist SET name = 'Renamed Ä' WHERE id = (SELECT min(id) FROM artist)")
            }),
            ("new audio for a master", { try space.makeMaster("A/two.flac", frequency: 880); try space.ingest() }),
            ("a master removed", { try FileManager.default.removeItem(at: space.masters.appendingPathComponent("B/three.flac")); try space.ingest() }),
            ("a master added", { try space.makeMaster("C/four.flac", frequency: 660, title: "Four — ünïcode"); try space.ingest() }),
            ("a master moved to another release", {
                try FileManager.default.createDirectory(at: space.masters.appendingPathComponent("C"), withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: space.masters.appendingPathComponent("A/two.flac"), to: space.masters.appendingPathComponent("C/two.flac"))
                try space.ingest()
            }),
            ("a cover given to the releases without one, in sqlite3", {
                try Self.sqlite(catalog, """
                    UPDATE release SET coverArtPath = (SELECT coverArtPath FROM release WHERE coverArtPath IS NOT NULL),
                        coverArtMimeType = 'image/jpeg' WHERE coverArtPath IS NULL
                    """)
            }),
            ("a release deleted in sqlite3 (its tracks lose it)", {
                try Self.sqlite(catalog, "PRAGMA foreign_keys = ON; DELETE FROM release WHERE title = 'A'")
            }),
            ("eight days later", {}),
        ]
        for (step, change) in steps {
            let before = try space.tree.fileStates()
            try change()
            now = now.addingTimeInterval(step == "eight days later" ? 8 * 86_400 : 60)
            let (delta, full) = try Self.publishBoth(space, reference: reference, at: now)
            #expect(!delta.full && full.full, "\(step): the publish read \(delta.full ? "everything" : "only the change")")
            #expect(delta.switched, "\(step)")
            let differences = try Self.differences(space.out, reference)
            #expect(differences.isEmpty, "\(step): \(differences)")
            #expect(Set(delta.retired) == Set(full.retired), "\(step): \(delta.retired) \(full.retired)")
            #expect(Set(delta.pruned) == Set(full.pruned), "\(step): \(delta.pruned) \(full.pruned)")
            let problems = try space.tree.problems()
            #expect(problems.isEmpty, "\(step): \(problems)")
            // What the change did not touch is the same file: the same inode, never rewritten or copied.
            let after = try space.tree.fileStates()
            let untouched = Set(before.keys).subtracting(delta.added + delta.changed + delta.pruned + ["publish.json"])
            let rewritten = untouched.filter { after[$0] != nil && after[$0] != before[$0] }
            #expect(rewritten.isEmpty, "\(step): rewritten though unchanged: \(rewritten.sorted())")
        }
        #expect(try space.tree.json("api/artists/page-1.json").description.contains("Renamed Ä"))
        #expect(space.leftovers.isEmpty, "\(space.leftovers)")
    }

    @Test("shards: a change in any shard is published as a change, equal to a full publish of all shards; a change that meets another shard (a copy of one of its masters) is published in full")
    func shardedChanges() throws {
        let space = try PublishSpace("delta-shards", tones: [("A/one.flac", 330), ("B/two.flac", 440), ("C/three.flac", 550), ("D/four.flac", 660)])
        let shards = space.root.appendingPathComponent("shards")
        let reference = space.root.appendingPathComponent("reference")
        let ingest = Repository.executable("musikk-ingest").path
        func ingestShards() throws {
            for index in 0..<2 {
                let result = try Command.run(ingest, [space.masters.path, shards.appendingPathComponent("\(index)").path, "--shard", "\(index)/2", "--jobs", "2", "--quiet"])
                #expect(result.status == 0, "\(result.standardError)")
            }
        }
        try ingestShards()
        let catalogs = (0..<2).map { shards.appendingPathComponent("\($0)/catalog.sqlite").path }
        for catalog in catalogs {
            #expect(try Command.run("sqlite3", [catalog, "SELECT count(*) FROM track"]).text.trimmingCharacters(in: .whitespacesAndNewlines) != "0",
                    "both shards hold tracks")
        }
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try Self.publishBoth(space, works: [shards], reference: reference, at: now).change.full)
        // A folder whose masters go to the other shard than A/one.flac's: a copy there is a copy across shards.
        let homeOfOne = try (0..<2).first { try Shard(index: $0, count: 2).contains("A/one.flac") } ?? 0
        let away = try (0..<50).map { "Copy \($0)/one.flac" }.first { try !Shard(index: homeOfOne, count: 2).contains($0) } ?? "Copy/one.flac"
        let steps: [(String, full: Bool, () throws -> Void)] = [
            ("titles edited in shard 0", false, { try Self.sqlite(catalogs[0], "UPDATE track SET title = title || ' (edit)'") }),
            ("titles edited in shard 1", false, { try Self.sqlite(catalogs[1], "UPDATE track SET title = title || ' (edit)'") }),
            ("a master added", false, { try space.makeMaster("E/five.flac", frequency: 770); try ingestShards() }),
            ("a master removed", false, { try FileManager.default.removeItem(at: space.masters.appendingPathComponent("B/two.flac")); try ingestShards() }),
            ("a copy of a master in another shard", true, {
                let copy = space.masters.appendingPathComponent(away)
                try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: space.masters.appendingPathComponent("A/one.flac"), to: copy)
                try ingestShards()
            }),
        ]
        for (step, full, change) in steps {
            try change()
            now = now.addingTimeInterval(60)
            let (published, reference_) = try Self.publishBoth(space, works: [shards], reference: reference, at: now)
            #expect(published.full == full && reference_.full, "\(step): the publish read \(published.full ? "everything" : "only the change")")
            let differences = try Self.differences(space.out, reference)
            #expect(differences.isEmpty, "\(step): \(differences)")
            #expect(try space.tree.problems().isEmpty, "\(step)")
        }
    }

    @Test("documents with spliced lists are byte for byte what JSONEncoder writes for them, and publish.json's lines what it writes for each file")
    func splicedDocumentsAreJSONEncoders() throws {
        let space = try PublishSpace("spliced", tones: [("A/one.flac", 330), ("A/two.flac", 440), ("B/three.flac", 550), ("C/four.flac", 660)])
        try space.ingest()
        try space.publish()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func check<Document: Codable>(_ path: String, as type: Document.Type) throws {
            let bytes = try Data(contentsOf: space.out.appendingPathComponent(path))
            let again = try encoder.encode(try JSONDecoder().decode(type, from: bytes)) + Data("\n".utf8)
            #expect(again == bytes, "\(path)")
        }
        let files = space.tree.files()
        #expect(files.filter { $0.hasPrefix("api/releases/") && !$0.contains("page-") }.count == 3)
        for path in files.sorted() where path.hasPrefix("api/") {
            switch path {
            case "api/search.json": try check(path, as: SearchDocument.self)
            case "api/index.json": try check(path, as: IndexDocument.self)
            case _ where path.hasPrefix("api/tracks/page-"): try check(path, as: PageDocument<TrackSummary>.self)
            case _ where path.hasPrefix("api/releases/page-"): try check(path, as: PageDocument<ReleaseSummary>.self)
            case _ where path.hasPrefix("api/artists/page-"): try check(path, as: PageDocument<ArtistSummary>.self)
            case _ where path.hasPrefix("api/releases/"): try check(path, as: ReleaseDocument.self)
            case _ where path.hasPrefix("api/artists/"): try check(path, as: ArtistDocument.self)
            default: continue
            }
        }
        struct Entry: Codable {
            var path: String
            var size: Int64
            var sha256: String
            var stage: String
            var retired: String?
        }
        let lines = try String(contentsOf: space.out.appendingPathComponent("publish.json"), encoding: .utf8).split(separator: "\n")
        let fileLines = lines.filter { $0.hasPrefix("    {\"path\":") }.map { $0.dropFirst(4).trimmingSuffix(",") }
        #expect(fileLines.count == files.count - 1)
        for line in fileLines {
            let entry = try JSONDecoder().decode(Entry.self, from: Data(line.utf8))
            #expect(String(decoding: try encoder.encode(entry), as: UTF8.self) == line)
        }
    }

    @Test("kill -9 during publishes of small changes leaves OUT_DIR whole, one state or the next; the publish after them equals a full one")
    func killDuringDeltaPublish() throws {
        let space = try PublishSpace("delta-kill")
        let reference = space.root.appendingPathComponent("reference")
        try space.ingest()
        try space.publish()
        let catalog = space.work.appendingPathComponent("catalog.sqlite").path
        let started = Date()
        try Self.sqlite(catalog, "UPDATE track SET title = 'probe' WHERE title = 'one'")
        try space.publish()
        let span = Date().timeIntervalSince(started)
        var killed = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<16 {
            let title = "round \(round)"
            try Self.sqlite(catalog, "UPDATE track SET title = '\(title)' WHERE sourcePath = 'A/one.flac'")
            let process = Process()
            process.executableURL = Repository.executable("musikk-publish")
            process.arguments = [space.work.path, space.out.path, "--quiet"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(Double.random(in: 0.05...1.2, using: &generator) * span * 1_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            let problems = try space.tree.problems()
            #expect(problems.isEmpty, "round \(round): \(problems)")
            let titles = Set(try space.tree.trackIDs().compactMap { try space.tree.json("api/tracks/\($0).json")["title"] as? String })
            #expect(titles.contains { $0 == "probe" || $0.hasPrefix("round ") }, "round \(round): \(titles)")
        }
        #expect(killed >= 4, "only \(killed) of 16 publishes were killed before they finished (a publish took \(span) s)")
        let now = Date()
        let last = try Self.publishBoth(space, reference: reference, at: now).change
        // A publish killed after its switch but before it recorded its state leaves an index the next one cannot
        // trust: that one is full, finds OUT_DIR already holds what it built, and switches nothing.
        let rebuiltAsIs = last.full && !last.switched && last.added.isEmpty && last.changed.isEmpty && last.retired.isEmpty
        #expect(last.switched || last.upToDate || rebuiltAsIs, "\(last)")
        let differences = try Self.differences(space.out, reference)
        #expect(differences.isEmpty, "\(differences)")
        #expect(try space.tree.problems().isEmpty)
        #expect(space.leftovers.isEmpty, "\(space.leftovers)")
    }

    @Test("an index that is not as the last publish left it (a publish killed while changing it, publish.json replaced, the tree behind gone) makes the publish full, and right")
    func untrustedIndex() throws {
        let space = try PublishSpace("delta-untrusted")
        let reference = space.root.appendingPathComponent("reference")
        try space.ingest()
        try space.publish()
        let catalog = space.work.appendingPathComponent("catalog.sqlite").path
        let index = space.root.appendingPathComponent(".out.musikk-index.sqlite").path
        let behind = space.root.appendingPathComponent(".out.musikk-behind")
        let breakages: [(String, () throws -> Void)] = [
            ("marked updating", { try Self.sqlite(index, "UPDATE meta SET value = 'updating' WHERE key = 'state'") }),
            ("the tree behind gone", { try FileManager.default.removeItem(at: behind) }),
            ("publish.json rewritten", {
                let record = space.out.appendingPathComponent("publish.json")
                try Data(contentsOf: record).write(to: record)
            }),
            ("the index gone", { try FileManager.default.removeItem(atPath: index) }),
            ("a stray file in the tree behind", {
                try Data("stray".utf8).write(to: behind.appendingPathComponent("api/stray.json"))
                try Self.sqlite(index, "UPDATE meta SET value = 'updating' WHERE key = 'state'")
            }),
        ]
        for (round, (breakage, breakIt)) in breakages.enumerated() {
            try Self.sqlite(catalog, "UPDATE track SET title = 'title \(round)' WHERE sourcePath = 'A/one.flac'")
            try breakIt()
            let now = Date()
            let report = try Self.publishBoth(space, reference: reference, at: now).change
            #expect(report.full, "\(breakage): a publish trusted it")
            let differences = try Self.differences(space.out, reference)
            #expect(differences.isEmpty, "\(breakage): \(differences)")
            #expect(try space.tree.problems().isEmpty, "\(breakage)")
            // The next change is published from the index again.
            try Self.sqlite(catalog, "UPDATE track SET title = 'after \(round)' WHERE sourcePath = 'A/one.flac'")
            #expect(try !space.publish().full, "\(breakage): the publish after it")
        }
    }
}

private extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring { hasSuffix(suffix) ? dropLast(suffix.count) : self }
}
