import Foundation
import GRDB
import Testing
import TestSupport
import WorkArea

/// `--shard I/N`: which masters a shard takes, how it reads an array-job engine's index, and that shards of one
/// ingest together hold what a whole ingest holds, with the same ids.
@Suite("Sharded ingest")
struct ShardTests {
    @Test("I/N and auto/N are read as documented; anything else is refused with what to fix")
    func parsing() throws {
        #expect(try Shard(parsing: "0/3", environment: [:]) == Shard(index: 0, count: 3))
        #expect(try Shard(parsing: "2/3", environment: [:]).index == 2)
        #expect(try Shard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "3"]).index == 3)
        #expect(try Shard(parsing: "auto/4", environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "1"]).index == 1)
        // Slurm arrays may start anywhere: --array=1-3 runs tasks 1, 2, 3 as shards 0, 1, 2.
        #expect(try Shard(parsing: "auto/3", environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"]).index == 2)
        #expect(try Shard(parsing: "auto/3", environment: ["SLURM_ARRAY_TASK_ID": "2"]).index == 2)
        let refused: [(String, [String: String])] = [
            ("3/3", [:]), ("-1/3", [:]), ("1/0", [:]), ("x/3", [:]), ("1/", [:]), ("1", [:]), ("1/2/3", [:]), ("0/100001", [:]),
            ("auto/3", [:]), ("auto/3", ["JOB_COMPLETION_INDEX": "3"]), ("auto/3", ["JOB_COMPLETION_INDEX": "one"]),
            ("auto/3", ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "1"]),
            // No index arithmetic may overflow, whatever the environment says.
            ("auto/3", ["SLURM_ARRAY_TASK_ID": "9223372036854775807", "SLURM_ARRAY_TASK_MIN": "-1"]),
        ]
        for (text, environment) in refused {
            #expect(throws: Shard.Refusal.self, "\(text) \(environment)") { try Shard(parsing: text, environment: environment) }
        }
    }

    /// The rule as the documentation states it, computed by Python's hashlib: SHA-256 of the release folder (the
    /// master's folder, its parent for CD/Disc folders, the path itself at the top), first 8 bytes big-endian, mod N.
    static func judgedShards(_ paths: [String], count: Int) throws -> [String: Int] {
        let script = """
            import hashlib, json, re, sys
            count = int(sys.argv[1])
            out = {}
            for path in json.load(sys.stdin):
                folders = path.split("/")[:-1]
                if len(folders) > 1 and re.fullmatch(r"(cd|disc|disk)[ _.-]*[0-9]{1,3}(\\D.*)?", folders[-1].lower()):
                    folders = folders[:-1]
                key = "/".join(folders) if folders else path
                out[path] = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % count
            print(json.dumps(out))
            """
        let input = try Repository.temporaryDirectory("shard-judge").appendingPathComponent("paths.json")
        try JSONEncoder().encode(paths).write(to: input)
        let result = try Command.run("/bin/sh", ["-c", "python3 -c \"$0\" \(count) < '\(input.path)'", script])
        guard result.status == 0 else { throw SetupError(description: result.standardError) }
        return try JSONDecoder().decode([String: Int].self, from: result.standardOutput)
    }

    @Test("a master's shard is a hash of its release folder, so a release (CD1/CD2 included) stays together")
    func assignment() throws {
        var paths: [String] = []
        for artist in 0..<15 {
            for album in 0..<4 {
                paths += (1...3).map { "Artist \(artist)/Album \(album)/\($0) Song.flac" }
            }
        }
        paths += ["Box/Set/CD1/01.flac", "Box/Set/CD2/01.flac", "Box/Set/Disc 3 - Live/01.flac", "Box/Set/cd_4/01.flac",
                  "loose.flac", "other loose.wav", "CD1/01.flac", "Album/CDs/01.flac", "Album/Discography/01.flac"]
        for count in [1, 2, 3, 7] {
            let judged = try Self.judgedShards(paths, count: count)
            let shards = try (0..<count).map { try Shard(index: $0, count: count) }
            for path in paths {
                let holders = shards.filter { $0.contains(path) }.map(\.index)
                #expect(holders == [judged[path] ?? -1], "\(path) of \(count)")
            }
        }
        // The discs of the box set land together; with 7 shards the 180 album tracks spread over all of them.
        let judged = try Self.judgedShards(paths, count: 7)
        #expect(Set(paths.filter { $0.hasPrefix("Box/Set/") }.map { judged[$0] }).count == 1)
        #expect(Set(judged.values).count == 7)
    }
}
