import Foundation
import Testing
import TestSupport

/// Sharded ingest on a real array-job engine: the worked example in examples/slurm, submitted to a one-node Slurm
/// cluster (`scripts/slurm`, started by scripts/test and named by MUSIKK_TEST_SLURM).
@Suite("Sharded ingest as a Slurm job array")
struct SlurmTests {
    /// Runs a Slurm client (sbatch, squeue, scancel, scontrol) against the test cluster.
    static func slurm(_ tool: String, _ arguments: [String], environment: [String] = []) throws -> CommandResult {
        let conf = try configuration()
        let path = Repository.executable("musikk-ingest").deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        return try Command.run("/usr/bin/env", ["SLURM_CONF=\(conf)", "PATH=\(path)"] + environment + [tool] + arguments)
    }

    /// The test cluster's slurm.conf.
    static func configuration() throws -> String {
        guard let conf = ProcessInfo.processInfo.environment["MUSIKK_TEST_SLURM"] else {
            throw SetupError(description: "MUSIKK_TEST_SLURM is not set: run the suite with scripts/test, which starts a throwaway Slurm cluster")
        }
        return conf
    }

    /// The state Slurm gives a job (`COMPLETED`, `FAILED`, `RUNNING`…), from `scontrol show job`.
    static func state(of job: String) throws -> [String] {
        let shown = try slurm("scontrol", ["show", "job", job])
        return shown.text.components(separatedBy: .whitespacesAndNewlines).filter { $0.hasPrefix("JobState=") }.map { String($0.dropFirst(9)) }
    }

    /// When each task of `job` started and ended, as `scontrol show job` records them (to the second).
    static func runTimes(of job: String) throws -> [(start: String, end: String)] {
        let words = try slurm("scontrol", ["show", "job", job]).text.components(separatedBy: .whitespacesAndNewlines)
        let starts = words.filter { $0.hasPrefix("StartTime=") }.map { String($0.dropFirst(10)) }
        let ends = words.filter { $0.hasPrefix("EndTime=") }.map { String($0.dropFirst(8)) }
        return Array(zip(starts, ends))
    }

    /// Waits until every task of `job` left the queue, up to `timeout` seconds.
    static func waitUntilDone(_ job: String, timeout: Double = 600) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let queued = try slurm("squeue", ["--noheader", "--jobs", job, "--format=%i %T %r"])
            if queued.status == 0, queued.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            if queued.text.contains("DependencyNeverSatisfied") {
                _ = try slurm("scancel", [job])
                throw SetupError(description: "Slurm job \(job) waits for a job that failed: \(queued.text)")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw SetupError(description: "Slurm job \(job) did not finish in \(Int(timeout)) s: \(try slurm("squeue", []).text)")
    }

    @Test("examples/slurm: 3 shards run 2 at a time, then the publish job (afterok) makes the one-machine publication; a shard cancelled mid-run and resubmitted changes nothing")
    func jobArray() async throws {
        _ = try Self.configuration()
        let space = try PublishSpace("slurm", tones: [])
        for album in 0..<5 {
            for track in 1...3 {
                try Masters.makeTone(
                    at: space.masters.appendingPathComponent("Artist \(album % 2)/Album \(album)/\(track) Song.flac"),
                    frequency: 220 + album * 70 + track * 11, seconds: 4, title: "Song \(track)", album: "Album \(album)")
            }
        }
        let whole = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path, "--quiet"])
        try #require(whole.status == 0, "\(whole.standardError)")
        let wholeOut = space.root.appendingPathComponent("out-whole")
        try #require(try PublishTests.publish(space.work, wholeOut, ["--quiet"]).status == 0)
        let expected = try ShardedPublishTests.comparable(wholeOut)

        let shards = space.root.appendingPathComponent("shards")
        let out = space.root.appendingPathComponent("out")
        let logs = space.root.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let examples = Repository.root.appendingPathComponent("examples/slurm")
        let settings = ["MASTERS=\(space.masters.path)", "SHARDS=\(shards.path)", "OUT=\(out.path)", "SHARD_COUNT=3", "PARALLEL=2",
                        "SBATCH_EXTRA=--cpus-per-task=1 --output=\(logs.path)/%x-%A_%a.out"]
        let submitted = try Self.slurm(examples.appendingPathComponent("submit.sh").path, [], environment: settings)
        try #require(submitted.status == 0, "\(submitted.standardError)")
        let ids = submitted.text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(ids.count == 2, "\(submitted.text)")
        try await Self.waitUntilDone(ids[1])
        // At most two tasks of the array ran at once (%2; the test node has room for four), as Slurm's own record of
        // their times says.
        let runs = try Self.runTimes(of: ids[0])
        #expect(runs.count == 3, "\(runs)")
        let mostAtOnce = runs.map { run in runs.filter { $0.start <= run.start && run.start < $0.end }.count }.max() ?? 0
        #expect(mostAtOnce <= 2, "\(runs)")
        #expect(try Self.state(of: ids[0]) == ["COMPLETED", "COMPLETED", "COMPLETED"])
        let logText = try FileManager.default.contentsOfDirectory(atPath: logs.path).sorted()
            .map { "\($0): " + ((try? String(contentsOf: logs.appendingPathComponent($0), encoding: .utf8)) ?? "") }.joined(separator: "\n")
        #expect(try Self.state(of: ids[1]) == ["COMPLETED"], "\(logText)")
        let first = try ShardedPublishTests.comparable(out)
        #expect(first == expected, "differ: \(Set(first.keys).symmetricDifference(expected.keys).sorted()) \(expected.keys.filter { first[$0] != expected[$0] }.sorted())")

        // Shard 1 again from an empty WORK: the array is submitted again (shards 0 and 2 find nothing to do), and
        // task 1 is cancelled once it is under way; then everything is submitted once more, publish included.
        try FileManager.default.removeItem(at: shards.appendingPathComponent("1"))
        let rerun = settings.filter { !$0.hasPrefix("SBATCH_EXTRA") }
        let cancelled = try Self.slurm("sbatch", [
            "--parsable", "--array=0-2%2", "--cpus-per-task=1", "--output=\(logs.path)/cancelled-%A_%a.out", "--export=ALL",
            examples.appendingPathComponent("ingest-shard.sbatch").path,
        ], environment: rerun)
        try #require(cancelled.status == 0, "\(cancelled.standardError)")
        let cancelledID = cancelled.text.trimmingCharacters(in: .whitespacesAndNewlines)
        // A shell outside this busy test process watches for the shard's run to start (its lock appears) and
        // cancels the task a second later, while it encodes: polling from here, behind other tests, came too late
        // under CI's load.
        let cancel = try await Command.runInBackground("/usr/bin/env", [
            "SLURM_CONF=\(try Self.configuration())", "/bin/sh", "-c",
            "for i in $(seq 1 2400); do if [ -e \"$0/musikk.lock\" ]; then sleep 1; exec scancel \"$1\"; fi; sleep 0.05; done; exit 1",
            shards.appendingPathComponent("1").path, "\(cancelledID)_1",
        ])
        #expect(cancel.status == 0, "\(cancel.standardError)")
        try await Self.waitUntilDone(cancelledID)
        let catalog = shards.appendingPathComponent("1/catalog.sqlite")
        let finishedRuns = FileManager.default.fileExists(atPath: catalog.path)
            ? try Command.run("/usr/bin/sqlite3", [catalog.path, "SELECT COUNT(*) FROM run WHERE finishedAt IS NOT NULL"]).text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            : "0"
        let cancelledStates = try Self.state(of: cancelledID)
        #expect(finishedRuns == "0", "the cancel came after the shard finished: \(cancelledStates)")
        #expect(cancelledStates.sorted() == ["CANCELLED", "COMPLETED", "COMPLETED"])

        let again = try Self.slurm(examples.appendingPathComponent("submit.sh").path, [], environment: rerun + [
            "SBATCH_EXTRA=--cpus-per-task=1 --output=\(logs.path)/again-%x-%A_%a.out",
        ])
        try #require(again.status == 0, "\(again.standardError)")
        let againIDs = again.text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try await Self.waitUntilDone(againIDs[1])
        #expect(try Self.state(of: againIDs[1]) == ["COMPLETED"])
        let second = try ShardedPublishTests.comparable(out)
        #expect(second == expected, "differ after the cancel: \(expected.keys.filter { second[$0] != expected[$0] }.sorted())")
    }
}
