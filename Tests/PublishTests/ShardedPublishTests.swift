import Foundation
import Publish
import Testing
import TestSupport
import WorkArea

/// Shards of one ingest (`musikk-ingest --shard I/N`, each in its own WORK) published together make the
/// publication one whole ingest of the same masters makes, file by file.
@Suite("Sharded ingest, one publication")
struct ShardedPublishTests {
    /// Every file of a publication by path, with the run-dependent parts (when the catalog last changed, where OUT
    /// is) taken out: a whole ingest and shards run at different times into different folders.
    static func comparable(_ out: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for (path, url) in FileTree.files(under: out) where !path.hasPrefix(".thumbnails") && path != "nginx/musikk.conf" {
            var data = try Data(contentsOf: url)
            if path == "publish.json" || path == "api/index.json" {
                var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
                object["catalogUpdated"] = nil
                object["updated"] = nil
                // The record of the two files compared without their run-dependent parts.
                object["files"] = (object["files"] as? [[String: Any]])?.filter {
                    !["api/index.json", "nginx/musikk.conf"].contains($0["path"] as? String ?? "")
                }
                data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            }
            files[path] = data
        }
        return files
    }

    @Test("three shards (one picked by a Slurm-style auto/3) publish exactly what one whole ingest publishes; wrong sets are refused")
    func shardsEqualWhole() throws {
        let space = try PublishSpace("sharded", tones: [])
        for album in 0..<6 {
            for track in 1...2 {
                try space.makeMaster("Artist \(album % 3)/Album \(album)/\(track) Song.flac", frequency: 200 + album * 60 + track * 7)
            }
        }
        try space.makeMaster("Box/Set/CD1/1 Intro.flac", frequency: 1234)
        try space.makeMaster("Box/Set/CD2/1 Outro.flac", frequency: 1345)
        try space.makeMaster("loose.flac", frequency: 1456)
        // Two releases in other shards than the one holding "Artist 0/Album 0/1 Song.flac": one has the same recording
        // tagged for it (one id each, as a whole ingest gives), the other a byte-for-byte copy (which a whole ingest
        // rejects).
        let shards = try (0..<3).map { try Shard(index: $0, count: 3) }
        let original = "Artist 0/Album 0/1 Song.flac"
        let home = try #require(shards.first { $0.contains(original) })
        let elsewhere = (0..<60).map { "Compilation \($0)/1 Song.flac" }.filter { !home.contains($0) }
        try #require(elsewhere.count >= 2)
        let (retagged, copied) = (elsewhere[0], elsewhere[1])
        for path in [retagged, copied] {
            try FileManager.default.createDirectory(
                at: space.masters.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(at: space.masters.appendingPathComponent(original), to: space.masters.appendingPathComponent(copied))
        let retag = try Command.run("ffmpeg", [
            "-nostdin", "-v", "error", "-i", space.masters.appendingPathComponent(original).path, "-map", "0", "-c", "copy",
            "-metadata", "album=Compilation", "-metadata", "title=Song (compiled)", space.masters.appendingPathComponent(retagged).path,
        ])
        try #require(retag.status == 0, "\(retag.standardError)")

        let ingest = Repository.executable("musikk-ingest").path
        // Exit 3: the copy is rejected.
        let whole = try Command.run(ingest, [space.masters.path, space.work.path, "--jobs", "2", "--quiet"])
        try #require(whole.status == 3 && whole.standardError.contains("same content as"), "\(whole.standardError)")
        let wholeOut = space.root.appendingPathComponent("out-whole")
        try #require(try PublishTests.publish(space.work, wholeOut, ["--quiet"]).status == 0)

        let shardWorks = space.root.appendingPathComponent("shards")
        for index in 0..<2 {
            let run = try Command.run(
                ingest, [space.masters.path, shardWorks.appendingPathComponent("\(index)").path, "--shard", "\(index)/3", "--jobs", "2", "--quiet"])
            try #require(run.status == 0, "\(run.standardError)")
        }
        let auto = try Command.run("/usr/bin/env", [
            "SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_MIN=1", ingest, space.masters.path, shardWorks.appendingPathComponent("2").path,
            "--shard", "auto/3", "--jobs", "2", "--quiet",
        ])
        try #require(auto.status == 0, "\(auto.standardError)")
        let shardedOut = space.root.appendingPathComponent("out-sharded")
        let published = try PublishTests.publish(shardWorks, shardedOut, ["--json"])
        try #require(published.status == 0, "\(published.standardError)")
        let report = String(decoding: published.standardOutput, as: UTF8.self)
        #expect(report.contains("share their audio across shards") && report.contains("is a copy of \(original)"), "\(report)")

        let expected = try Self.comparable(wholeOut)
        let actual = try Self.comparable(shardedOut)
        #expect(expected.count > 50)
        #expect(Set(actual.keys) == Set(expected.keys), "only whole: \(Set(expected.keys).subtracting(actual.keys).sorted()); only sharded: \(Set(actual.keys).subtracting(expected.keys).sorted())")
        for (path, data) in expected where actual[path] != data {
            Issue.record("\(path) differs")
        }
        // Each shard took only its releases, and the box set's discs went together.
        for (index, shard) in shards.enumerated() {
            let paths = try Command.run("/usr/bin/sqlite3", [shardWorks.appendingPathComponent("\(index)/catalog.sqlite").path, "SELECT sourcePath FROM track"])
            let held = paths.text.split(separator: "\n").map(String.init)
            #expect(held.allSatisfy(shard.contains), "\(held)")
            if held.contains("Box/Set/CD1/1 Intro.flac") { #expect(held.contains("Box/Set/CD2/1 Outro.flac")) }
        }

        // Refused: part of the shards, a shard twice, a whole ingest among shards, a WORK used for another shard.
        let two = try PublishTests.publish(shardWorks.appendingPathComponent("0"), space.root.appendingPathComponent("out-part"), [])
        #expect(two.status == 1 && two.standardError.contains("missing"), "\(two.standardError)")
        let twice = try Command.run(Repository.executable("musikk-publish").path, [
            shardWorks.appendingPathComponent("0").path, shardWorks.appendingPathComponent("0").path, shardWorks.appendingPathComponent("1").path,
            shardWorks.appendingPathComponent("2").path, space.root.appendingPathComponent("out-twice").path,
        ])
        #expect(twice.status == 1 && twice.standardError.contains("given twice"), "\(twice.standardError)")
        let mixed = try Command.run(Repository.executable("musikk-publish").path, [
            space.work.path, shardWorks.appendingPathComponent("1").path, space.root.appendingPathComponent("out-mixed").path,
        ])
        #expect(mixed.status == 1 && mixed.standardError.contains("not the shards of one ingest"), "\(mixed.standardError)")
        let wrongShard = try Command.run(ingest, [space.masters.path, shardWorks.appendingPathComponent("0").path, "--shard", "1/3", "--quiet"])
        #expect(wrongShard.status == 2 && wrongShard.standardError.contains("holds shard 0/3"), "\(wrongShard.standardError)")
        let unsharded = try Command.run(ingest, [space.masters.path, shardWorks.appendingPathComponent("0").path, "--quiet"])
        #expect(unsharded.status == 2, "\(unsharded.standardError)")
        let wholeAsShard = try Command.run(ingest, [space.masters.path, space.work.path, "--shard", "0/3", "--quiet"])
        #expect(wholeAsShard.status == 2 && wholeAsShard.standardError.contains("whole ingest"), "\(wholeAsShard.standardError)")
        let noIndex = try Command.run("/usr/bin/env", ["-u", "SLURM_ARRAY_TASK_ID", ingest, space.masters.path, space.work.path, "--shard", "auto/3"])
        #expect(noIndex.status == 2 && noIndex.standardError.contains("SLURM_ARRAY_TASK_ID"), "\(noIndex.standardError)")
    }

    @Test("a recording ingested in two shards (FLAC in one, an MP3 re-encode in the other) is reported when publishing, as the whole ingest pairs it; distinct recordings are not")
    func duplicatesAcrossShards() throws {
        let root = try Repository.temporaryDirectory("sharded-duplicates")
        let masters = root.appendingPathComponent("masters")
        let original = "Sonic Pi/Loops/01 Tabla.flac"
        let others = ["Sonic Pi/Loops/02 Compus.flac", "Sonic Pi/Loops/03 Safari.opus", "Sonic Pi/Ambient/03 Harmonics (mono).wav"]
        for path in [original] + others {
            let destination = masters.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Repository.goodMasters.appendingPathComponent(path), to: destination)
        }
        let home = try #require(try (0..<2).map { try Shard(index: $0, count: 2) }.first { $0.contains(original) })
        let copy = try #require((0..<40).map { "Uploads \($0)/drums final v2.mp3" }.first { !home.contains($0) })
        try FileManager.default.createDirectory(
            at: masters.appendingPathComponent(copy).deletingLastPathComponent(), withIntermediateDirectories: true)
        let encode = try Command.run("ffmpeg", [
            "-nostdin", "-v", "error", "-i", masters.appendingPathComponent(original).path, "-map_metadata", "-1",
            "-metadata", "title=Something Else", "-c:a", "libmp3lame", "-b:a", "192k", masters.appendingPathComponent(copy).path,
        ])
        try #require(encode.status == 0, "\(encode.standardError)")

        let ingest = Repository.executable("musikk-ingest").path
        let whole = root.appendingPathComponent("whole")
        let wholeRun = try Command.run(ingest, [masters.path, whole.path, "--jobs", "2", "--quiet"])
        try #require(wholeRun.status == 0, "\(wholeRun.standardError)")
        let pairs = try Command.run("/usr/bin/sqlite3", [whole.appendingPathComponent("catalog.sqlite").path, """
            SELECT copy.sourcePath || ' -> ' || original.sourcePath FROM duplicate
            JOIN track AS copy ON copy.id = duplicate.trackId JOIN track AS original ON original.id = duplicate.duplicateOfId
            """]).text.split(separator: "\n").map(String.init)
        #expect(pairs == ["\(copy) -> \(original)"], "the whole ingest pairs them itself")

        let shards = root.appendingPathComponent("shards")
        for index in 0..<2 {
            let run = try Command.run(ingest, [masters.path, shards.appendingPathComponent("\(index)").path, "--shard", "\(index)/2", "--quiet"])
            try #require(run.status == 0, "\(run.standardError)")
        }
        let published = try PublishTests.publish(shards, root.appendingPathComponent("out"), ["--json"])
        try #require(published.status == 0, "\(published.standardError)")
        let report = try JSONDecoder().decode(PublishReport.self, from: published.standardOutput)
        let found = report.warnings.filter { $0.contains("same recording") }
        #expect(found.count == 1, "\(report.warnings)")
        #expect(found.first.map { $0.hasPrefix("\(original) (shard ") && $0.contains("\(copy) (shard ") } == true, "\(found)")
        let similarity = found.first.flatMap { $0.split(separator: "similarity ").last?.prefix(5) }.flatMap { Double($0) } ?? 0
        #expect(similarity >= 0.95, "\(found)")
        // A stricter threshold than the pair's similarity reports nothing.
        let strict = try PublishTests.publish(shards, root.appendingPathComponent("out-strict"), ["--json", "--duplicate-threshold", "1"])
        let strictReport = try JSONDecoder().decode(PublishReport.self, from: strict.standardOutput)
        #expect(strictReport.warnings.allSatisfy { !$0.contains("same recording") }, "\(strictReport.warnings)")
    }
}
