import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// Kills, concurrent runs, full and read-only disks, and determinism: what cron and CI put a tool through.
@Suite("run safety", .serialized)
struct RunSafetyTests {
    /// Six masters of 2 to 7 s.
    private func masters(_ label: String) throws -> Workspace {
        let space = try Workspace(label)
        for index in 0..<6 {
            try space.makeMaster("m\(index).flac", frequency: 300 + 110 * index, seconds: 2 + Double(index), title: "M\(index)",
                                 album: index < 3 ? "One" : "Two")
        }
        return space
    }

    private func start(_ space: Workspace, _ extra: [String] = []) throws -> Process {
        let process = Process()
        process.executableURL = Repository.executable("musikk-ingest")
        process.arguments = [space.masters.path, space.work.path, "--jobs", "2", "--quiet"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Catalog content a run ends with, without what depends on how many runs it took (run ids and times,
    /// rendition row ids).
    private func catalogContent(_ work: URL) throws -> [String] {
        let catalog = try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path)
        return try catalog.read { db in
            var lines: [String] = []
            for (table, order) in [("track", "id"), ("rendition", "trackId, name"), ("manifest", "trackId, path"),
                                   ("trackArtist", "trackId, position"), ("release", "id"), ("artist", "id"),
                                   ("trackFingerprint", "trackId"), ("fingerprintKey", "key, trackId"),
                                   ("trackLoudness", "trackId"), ("trackWaveform", "trackId"), ("trackSignal", "trackId"),
                                   ("duplicate", "trackId"), ("rejectedMaster", "sourcePath")] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)") {
                    let values = row.columnNames.filter { !["runId", "id"].contains($0) || (table != "rendition" && $0 == "id") }
                        .map { "\($0)=\(row[$0] as DatabaseValue)" }
                    // Inodes and status-change times differ between copies of the masters; sizes and hashes do not.
                    lines.append(table + ": " + values.filter { !["sourceInode=", "sourceChanged=", "sourceModified="].contains(where: $0.hasPrefix) }
                        .joined(separator: " "))
                }
            }
            return lines
        }
    }

    @Test("kill -9 at random moments, then a re-run: a consistent catalog, no leftovers, finished work kept, same result as one clean run")
    func killLoop() throws {
        let reference = try masters("kill-reference")
        let clock = ContinuousClock()
        let started = clock.now
        let (clean, result) = try reference.ingest()
        let cleanSeconds = Double((clock.now - started).components.seconds) + Double((clock.now - started).components.attoseconds) / 1e18
        #expect(result.status == 0 && clean.summary.ingested == 6, "\(result.standardError)")

        let space = try Workspace("kill-loop")
        try FileManager.default.removeItem(at: space.masters)
        try FileManager.default.copyItem(at: reference.masters, to: space.masters)
        var generator = SystemRandomNumberGenerator()
        // The master playlist of every track recorded so far, and its inode then: a later run must not redo it.
        var recorded: [String: String] = [:]
        var kills = 0
        // Each run gets a random share of the time a clean run takes, so most are killed part-way and the work
        // advances a little each time.
        for _ in 0..<12 {
            let process = try start(space)
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...max(0.1, cleanSeconds * 0.4), using: &generator))
            guard process.isRunning else {
                process.waitUntilExit()
                break
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
            guard FileManager.default.fileExists(atPath: space.work.appendingPathComponent("catalog.sqlite").path) else { continue }
            let ids = try DatabaseQueue(path: space.work.appendingPathComponent("catalog.sqlite").path).read { db in
                // A run killed before its first migration committed leaves a catalog without tables; the next makes them.
                try db.tableExists("track") ? String.fetchAll(db, sql: "SELECT hlsMasterPath FROM track") : []
            }
            for path in ids where recorded[path] == nil {
                let states = try space.trackFileStates()
                recorded[path] = states[String(path.dropFirst("tracks/".count))]
            }
        }
        #expect(kills >= 6, "the runs ended before they could be killed; \(kills) kills")

        let (final, finalResult) = try space.ingest()
        #expect(finalResult.status == 0, "\(finalResult.standardError)")
        #expect(final.summary.ingested + final.summary.unchanged == 6, "\(final.summary)")
        #expect(try WorkTree.missingFiles(in: space.work).isEmpty)
        #expect(try WorkTree.leftovers(in: space.work).isEmpty)
        let states = try space.trackFileStates()
        for (path, state) in recorded {
            #expect(states[String(path.dropFirst("tracks/".count))] == state, "\(path) was made again after it was recorded")
        }
        // The end result is the one a single clean run gives, byte for byte.
        #expect(try WorkTree.contents(of: space.work) == WorkTree.contents(of: reference.work))
        let (killed, cleanContent) = (try catalogContent(space.work), try catalogContent(reference.work))
        #expect(killed == cleanContent, "\(Set(killed).symmetricDifference(cleanContent).sorted().prefix(4))")
    }

    @Test("a second run on a busy work folder exits at once with code 4 naming the first; a killed run's lock is taken over")
    func lock() throws {
        let space = try Workspace("lock")
        try space.makeMaster("long.flac", frequency: 440, seconds: 120, title: "Long")
        let first = try start(space)
        let lockFile = space.work.appendingPathComponent("musikk.lock")
        let deadline = Date(timeIntervalSinceNow: 20)
        while (try? String(contentsOf: lockFile, encoding: .utf8))?.contains("pid=\(first.processIdentifier)") != true,
              Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        let clock = ContinuousClock()
        let before = clock.now
        let second = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path])
        let waited = clock.now - before
        #expect(second.status == 4, "\(second.standardError)")
        #expect(second.standardError.contains("in use by musikk-ingest (pid \(first.processIdentifier)"), "\(second.standardError)")
        #expect(waited < .seconds(5), "it did not wait for the first run")
        let dry = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path, "--dry-run"])
        #expect(dry.status == 4, "a dry run does not read a catalog that a run is writing")
        #expect(first.isRunning)

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let third = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path, "--json"])
        #expect(third.status == 0, "\(third.standardError)")
        #expect(third.standardError.contains("took over from a run that did not finish, musikk-ingest (pid \(first.processIdentifier)"),
                "\(third.standardError)")
        #expect(try WorkTree.leftovers(in: space.work).isEmpty)
        #expect(try WorkTree.missingFiles(in: space.work).isEmpty)
        #expect(try String(contentsOf: lockFile, encoding: .utf8).isEmpty, "a finished run leaves the lock free")
    }

    @Test("two runs from scratch give byte-identical media, manifests, waveforms, reports and catalog contents")
    func deterministic() throws {
        let space = try masters("determinism")
        try FileManager.default.copyItem(at: Repository.goodMasters, to: space.masters.appendingPathComponent("fixtures"))
        try FileManager.default.copyItem(at: Repository.badMasters, to: space.masters.appendingPathComponent("bad"))
        let other = Workspace(root: space.root, masters: space.masters, work: space.root.appendingPathComponent("work-2"))
        let (first, _) = try space.ingest()
        let (second, _) = try other.ingest(["--jobs", "1"])
        #expect(first.summary.ingested > 10 && first.summary.rejected > 3)
        let firstFiles = try WorkTree.contents(of: space.work)
        #expect(firstFiles.keys.contains { $0.hasSuffix("waveform.dat") } && firstFiles.keys.contains { $0.hasPrefix("covers/") })
        #expect(firstFiles == (try WorkTree.contents(of: other.work)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(first) == encoder.encode(second))
        #expect(try WorkTree.catalogDump(of: space.work) == WorkTree.catalogDump(of: other.work))
    }

    @Test("a full disk or a read-only work folder stops the run with a clear error and records nothing half-written")
    func diskFull() throws {
        let space = try masters("disk-full")
        try FileManager.default.createDirectory(at: space.work, withIntermediateDirectories: true)
        let mount = try Command.run("mount", ["-t", "tmpfs", "-o", "size=1200k", "tmpfs", space.work.path])
        try #require(mount.status == 0, "this test mounts a small tmpfs (needs root): \(mount.standardError)")
        defer { _ = try? Command.run("umount", ["-l", space.work.path]) }

        let result = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(["No space left", "enough space", "disk is full"].contains(where: result.standardError.contains),
                "\(result.standardError)")
        #expect(result.standardError.contains(space.work.path) && result.standardError.contains("check free space"),
                "\(result.standardError)")
        #expect(try WorkTree.missingFiles(in: space.work).isEmpty, "the catalog points only at complete files")
        #expect(try WorkTree.leftovers(in: space.work).isEmpty)

        // Read-only: the same, and the run says so before touching anything.
        _ = try Command.run("mount", ["-o", "remount,ro", space.work.path])
        let readOnly = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path])
        #expect(readOnly.status == 1)
        #expect(readOnly.standardError.contains(space.work.path) && readOnly.standardError.contains("permissions"),
                "\(readOnly.standardError)")

        // With room again, the run finishes what was left.
        _ = try Command.run("mount", ["-o", "remount,rw,size=64m", space.work.path])
        let (finished, done) = try space.ingest()
        #expect(done.status == 0, "\(done.standardError)")
        #expect(finished.summary.ingested + finished.summary.unchanged == 6)
        #expect(try WorkTree.missingFiles(in: space.work).isEmpty)
    }
}

extension Workspace {
    init(root: URL, masters: URL, work: URL) {
        self.root = root
        self.masters = masters
        self.work = work
    }
}
