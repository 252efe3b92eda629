import Foundation
import Publish
import Testing
import TestSupport
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// A masters folder, a work folder and a publication folder for tests that ingest and publish more than once.
struct PublishSpace {
    let root: URL
    let masters: URL
    let work: URL
    let out: URL

    init(_ label: String, tones: [(path: String, frequency: Int)] = [("A/one.flac", 330), ("A/two.flac", 440), ("B/three.flac", 550)]) throws {
        root = try Repository.temporaryDirectory(label)
        masters = root.appendingPathComponent("masters")
        work = root.appendingPathComponent("work")
        out = root.appendingPathComponent("out")
        for tone in tones { try makeMaster(tone.path, frequency: tone.frequency) }
    }

    func makeMaster(_ path: String, frequency: Int, title: String? = nil) throws {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        try Masters.makeTone(at: masters.appendingPathComponent(path), frequency: frequency, seconds: 2,
                             title: title ?? name, album: URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent)
    }

    func ingest() throws {
        let result = try Command.run(Repository.executable("musikk-ingest").path,
                                     [masters.path, work.path, "--jobs", "2", "--quiet"])
        #expect(result.status == 0, "\(result.standardError)")
    }

    /// Runs musikk-publish --json and decodes its report.
    @discardableResult
    func publish(_ extra: [String] = []) throws -> PublishReport {
        let result = try PublishTests.publish(work, out, ["--json"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        return try JSONDecoder().decode(PublishReport.self, from: result.standardOutput)
    }

    /// Publishes through the library with the clock moved `days` forward.
    @discardableResult
    func publish(daysLater days: Double, keepDays: Int = 7) throws -> PublishReport {
        try Publisher(options: PublishOptions(
            workDirectories: [work], outputDirectory: out, keepDays: keepDays, now: Date().addingTimeInterval(days * 86_400)
        )).run()
    }

    var tree: PublishedTree { PublishedTree(root: out) }

    /// Siblings a publish works in; none is left after a publish that finished (the lock file stays, and so do
    /// the thumbnail cache, the publish state, the index and the tree behind, which the next publish reads).
    var leftovers: [String] {
        let kept = [".out.musikk-thumbnails", ".out.musikk-state.json", ".out.musikk-index.sqlite", ".out.musikk-behind"]
        return ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix(".out.") && !$0.hasSuffix(".lock") && !kept.contains($0) }
    }

    /// The thumbnail cache's files beside OUT_DIR, with their modification times.
    var cachedThumbnails: [String: Date] {
        let cache = root.appendingPathComponent(".out.musikk-thumbnails")
        var files: [String: Date] = [:]
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent(folder).path)) ?? [] {
                let path = cache.appendingPathComponent(folder).appendingPathComponent(name).path
                files["\(folder)/\(name)"] = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            }
        }
        return files
    }

    /// A cover image beside the masters of `folder`, drawn by ffmpeg.
    func drawCover(in folder: String, pattern: String, width: Int, height: Int) throws {
        let file = masters.appendingPathComponent(folder).appendingPathComponent("cover.jpg")
        let result = try Command.run("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "\(pattern)=size=\(width)x\(height)", "-frames:v", "1", file.path])
        try #require(result.status == 0, "\(result.standardError)")
    }
}

@Suite("Publishing")
struct PublishBehaviourTests {
    @Test("a cover gets 96, 300 and 600 px JPEG thumbnails, content-addressed, listed in the JSON; made once, kept between publishes, pruned when the cover changes; a broken cover is a warning")
    func coverThumbnails() throws {
        let space = try PublishSpace("thumbnails", tones: [("A/one.flac", 330), ("A/two.flac", 440)])
        try space.drawCover(in: "A", pattern: "testsrc2", width: 1200, height: 1000)
        try space.ingest()
        try space.publish()
        let tree = space.tree
        let releases = try tree.json("api/releases/page-1.json")["items"] as? [[String: Any]] ?? []
        let release = try #require(releases.first)
        let listed = try #require(release["coverThumbnails"] as? [[String: Any]])
        let document = try tree.json("api/releases/\(release["id"] as? Int ?? 0).json")
        let thumbnails = try #require((document["cover"] as? [String: Any])?["thumbnails"] as? [[String: Any]])
        #expect(thumbnails.map { $0["side"] as? Int } == [96, 300, 600])
        #expect(thumbnails.map { $0["url"] as? String } == listed.map { $0["url"] as? String })
        let track = try tree.json("api/tracks/\(try #require(try tree.trackIDs().first)).json")
        #expect((track["coverThumbnails"] as? [[String: Any]])?.map { $0["url"] as? String } == thumbnails.map { $0["url"] as? String })
        for thumbnail in thumbnails {
            let path = try #require(thumbnail["url"] as? String)
            let side = try #require(thumbnail["side"] as? Int)
            let file = space.out.appendingPathComponent(path)
            // Content-addressed: the folder is the file's own sha256 (sha256sum judges), the image ffprobe's.
            let digest = try Command.run("/usr/bin/sha256sum", [file.path]).text.prefix(32)
            #expect(path == "media/images/\(digest)/cover-\(side).jpg")
            let probe = try Command.run("/usr/bin/ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", file.path])
            let expectedHeight = Int((1000.0 * Double(side) / 1200.0).rounded())
            #expect(probe.text.trimmingCharacters(in: .whitespacesAndNewlines) == "mjpeg,\(side),\(expectedHeight)", "\(probe.text)")
        }
        // An unchanged re-publish writes nothing and makes no thumbnail again.
        let cached = space.cachedThumbnails
        #expect(cached.count == 3)
        let again = try space.publish()
        #expect(again.added.isEmpty && again.changed.isEmpty && !again.switched)
        #expect(space.cachedThumbnails == cached)
        // Another release replaces this one: its cover gets thumbnails; the old ones leave the cache.
        try FileManager.default.removeItem(at: space.masters.appendingPathComponent("A"))
        try space.makeMaster("B/three.flac", frequency: 550)
        try space.drawCover(in: "B", pattern: "smptebars", width: 500, height: 500)
        try space.ingest()
        let changed = try space.publish()
        #expect(changed.added.filter { $0.hasPrefix("media/images/") && $0.contains("/cover-") }.count == 3, "\(changed.added)")
        #expect(space.cachedThumbnails.count == 3 && Set(space.cachedThumbnails.keys).isDisjoint(with: cached.keys))
        // A cover that is not an image is published as it is, without thumbnails, and the report says so.
        try space.makeMaster("C/four.flac", frequency: 660)
        try Data("not a picture".utf8).write(to: space.masters.appendingPathComponent("C/cover.jpg"))
        try space.ingest()
        let broken = try space.publish()
        #expect(broken.warnings.contains { $0.contains("without thumbnails") && $0.contains("C") }, "\(broken.warnings)")
        let brokenRelease = try #require((try space.tree.json("api/releases/page-1.json")["items"] as? [[String: Any]])?.first { $0["title"] as? String == "C" })
        let brokenCover = try space.tree.json("api/releases/\(brokenRelease["id"] as? Int ?? 0).json")["cover"] as? [String: Any]
        #expect(brokenCover?["url"] is String && brokenCover?["thumbnails"] == nil)
    }

    @Test("every JSON document validates against its schema in schemas/publish, and the schemas reject bad ones")
    func jsonSchemas() throws {
        let work = try IngestedFixtures.get()
        let root = try Repository.temporaryDirectory("schemas")
        let validator = Repository.root.appendingPathComponent("Tests/Tools/validate-publication-json.py").path
        let schemas = Repository.root.appendingPathComponent("schemas/publish").path
        for (name, extra) in [("relative", []), ("absolute", ["--base-url", "https://cdn.example/music"])] {
            let out = root.appendingPathComponent(name)
            let result = try publish(work, out, extra)
            #expect(result.status == 0, "\(result.standardError)")
            let validation = try Command.run("/usr/bin/python3", [validator, schemas, out.path])
            #expect(validation.status == 0, "\(name): \(validation.text)\(validation.standardError)")
            // 11 tracks and their 11 waveforms, 4 releases, 4 artists, 3 list pages, index, search, publish.json.
            #expect(validation.text.contains("36 documents valid"), "\(validation.text)")
        }

        // The schemas are strict: a track without streams, a root-absolute URL, a bad digest all fail.
        let out = root.appendingPathComponent("relative")
        let tree = PublishedTree(root: out)
        let id = try #require(try tree.trackIDs().first)
        var track = try tree.json("api/tracks/\(id).json")
        track["streams"] = nil
        var index = try tree.json("api/index.json")
        index["tracks"] = "/api/tracks/page-1.json"
        var record = try tree.json("publish.json")
        var files = try #require(record["files"] as? [[String: Any]])
        files[0]["sha256"] = "not-a-digest"
        record["files"] = files
        let broken = root.appendingPathComponent("broken")
        try FileManager.default.createDirectory(at: broken, withIntermediateDirectories: true)
        for (name, document) in [("track.json", track), ("index.json", index), ("publish.json", record)] {
            try JSONSerialization.data(withJSONObject: document).write(to: broken.appendingPathComponent(name))
        }
        let result = try Command.run("/usr/bin/python3", [validator, schemas, broken.path,
                                                          "track.json", "track", "index.json", "index", "publish.json", "publish"])
        #expect(result.status == 1)
        #expect(result.text.contains("'streams' is a required property"), "\(result.text)")
        #expect(result.text.contains("index.json (index): tracks"), "\(result.text)")
        #expect(result.text.contains("publish.json (publish): files/0/sha256"), "\(result.text)")
    }

    @Test("URLs in the JSON are relative to the root, or absolute with --base-url; manifests stay relative")
    func urls() throws {
        let space = try PublishSpace("urls", tones: [("A/one.flac", 330)])
        try space.ingest()
        try space.publish(["--base-url", "https://cdn.example/music"])
        let tree = space.tree
        let id = try #require(try tree.trackIDs().first)
        let track = try tree.json("api/tracks/\(id).json")
        let streams = try #require(track["streams"] as? [String: String])
        #expect(streams["hls"] == "https://cdn.example/music/hls/\(id)/master.m3u8")
        #expect(try tree.json("api/index.json")["baseURL"] as? String == "https://cdn.example/music/")
        let master = try String(contentsOf: space.out.appendingPathComponent("hls/\(id)/aac-128k.m3u8"), encoding: .utf8)
        #expect(master.contains("URI=\"../../media/audio/"))
        #expect(!master.contains("https://"))
    }

    @Test("re-publishing an unchanged catalog writes nothing and leaves every file as it was")
    func unchanged() throws {
        let space = try PublishSpace("unchanged")
        try space.ingest()
        let first = try space.publish()
        #expect(first.switched && first.tracks == 3)
        let before = try space.tree.fileStates()
        let again = try space.publish()
        #expect(!again.switched)
        #expect(again.added.isEmpty && again.changed.isEmpty && again.bytesWritten == 0)
        #expect(try space.tree.fileStates() == before)
        #expect(space.leftovers.isEmpty)
    }

    @Test("an unchanged catalog is not read again; a change by any writer, other options, a publication changed by hand or --full make a publish read it")
    func upToDate() throws {
        let space = try PublishSpace("up-to-date")
        try space.ingest()
        #expect(try !space.publish().upToDate)
        let before = try space.tree.fileStates()
        let again = try space.publish()
        #expect(again.upToDate && !again.switched && again.tracks == 3 && again.files == before.count - 1)
        #expect(try space.tree.fileStates() == before)

        // A title edited with sqlite3, not through musikk-ingest, still moves the catalog's change serial.
        let catalog = space.work.appendingPathComponent("catalog.sqlite").path
        #expect(try Command.run("sqlite3", [catalog, "UPDATE track SET title = 'Edited' WHERE title = 'one'"]).status == 0)
        let edited = try space.publish()
        #expect(!edited.upToDate && edited.switched)
        let titles = try space.tree.trackIDs().compactMap { try space.tree.json("api/tracks/\($0).json")["title"] as? String }
        #expect(titles.sorted() == ["Edited", "three", "two"])
        #expect(try space.publish().upToDate)

        let absolute = try space.publish(["--base-url", "https://cdn.example/music/"])
        #expect(!absolute.upToDate && absolute.switched)
        #expect(try space.publish(["--base-url", "https://cdn.example/music/"]).upToDate)

        // publish.json rewritten by hand (a restore, a sync pulled back): the state no longer vouches for it.
        let record = space.out.appendingPathComponent("publish.json")
        try Data(contentsOf: record).write(to: record)
        #expect(try !space.publish(["--base-url", "https://cdn.example/music/"]).upToDate)

        // A document deleted by hand is only noticed with --full, which puts it back.
        let id = try #require(try space.tree.trackIDs().first)
        try FileManager.default.removeItem(at: space.out.appendingPathComponent("api/tracks/\(id).json"))
        #expect(try space.publish(["--base-url", "https://cdn.example/music/"]).upToDate)
        let full = try space.publish(["--base-url", "https://cdn.example/music/", "--full"])
        #expect(!full.upToDate && full.changed == ["api/tracks/\(id).json"], "\(full.added) \(full.changed)")
        let problems = try space.tree.problems()
        #expect(problems.isEmpty, "\(problems)")

        // The publication moved with its siblings (its parent folder renamed): the nginx snippet names the old path.
        let parent = space.root.appendingPathComponent("moved")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: space.root.path) where name == "out" || name.hasPrefix(".out.") {
            try FileManager.default.moveItem(at: space.root.appendingPathComponent(name), to: parent.appendingPathComponent(name))
        }
        let movedOut = parent.appendingPathComponent("out")
        let moved = try PublishTests.publish(space.work, movedOut, ["--json", "--base-url", "https://cdn.example/music/"])
        let movedReport = try JSONDecoder().decode(PublishReport.self, from: moved.standardOutput)
        #expect(!movedReport.upToDate && movedReport.changed == ["nginx/musikk.conf"], "\(movedReport.changed)")
        for name in try FileManager.default.contentsOfDirectory(atPath: parent.path) {
            try FileManager.default.moveItem(at: parent.appendingPathComponent(name), to: space.root.appendingPathComponent(name))
        }
        #expect(try !space.publish(["--base-url", "https://cdn.example/music/"]).upToDate, "back where it was")

        // Up to date means not read at all: a catalog whose waveform table is gone still passes.
        #expect(try Command.run("sqlite3", [catalog, "PRAGMA foreign_keys = OFF; DROP TABLE trackWaveform"]).status == 0)
        #expect(try space.publish(["--base-url", "https://cdn.example/music/"]).upToDate)
        #expect(try PublishTests.publish(space.work, space.out, ["--full", "--quiet"]).status == 1, "the full read fails on it")
        #expect(space.leftovers.isEmpty)
    }

    @Test("publish.json is written a file per line and read back a line at a time; one laid out otherwise (an older version's, re-indented by Python) is still read")
    func recordLayouts() throws {
        let space = try PublishSpace("record-layouts")
        try space.ingest()
        try space.publish()
        let record = space.out.appendingPathComponent("publish.json")
        let lines = try String(contentsOf: record, encoding: .utf8).split(separator: "\n")
        let listed = try space.tree.record().files.count
        #expect(lines.filter { $0.hasPrefix("    {\"path\":") }.count == listed, "one line per file")

        let before = try space.tree.fileStates()
        #expect(try Command.run("python3", ["-c", """
            import json, sys
            path = sys.argv[1]
            record = json.load(open(path))
            json.dump(record, open(path, "w"), indent=4, sort_keys=True)
            """, record.path]).status == 0)
        let again = try space.publish(["--full"])
        #expect(again.added.isEmpty && again.changed.isEmpty && again.unchanged == listed, "\(again.added) \(again.changed)")
        #expect(!again.switched, "the same publication, read from the other layout")
        for (path, state) in before where path != "publish.json" {
            #expect(try space.tree.fileStates()[path] == state, "\(path) was rewritten")
        }
    }

    @Test("after a small change only what changed is written; unchanged media keep their inode and time")
    func incremental() throws {
        let space = try PublishSpace("incremental")
        try space.ingest()
        try space.publish()
        let before = try space.tree.fileStates()
        let ids = try space.tree.trackIDs()

        // New audio for one master: it keeps its track id but gets new media; the other two keep everything.
        try space.makeMaster("A/two.flac", frequency: 880)
        try space.ingest()
        let report = try space.publish()
        #expect(report.switched)
        let after = try space.tree.fileStates()
        #expect(try space.tree.trackIDs().sorted() == ids.sorted())
        let changed = try #require(ids.first { id in
            (try? space.tree.json("api/tracks/\(id).json"))?["title"] as? String == "two"
        })
        let addedMedia = report.added.filter { $0.hasPrefix("media/") }
        // Six renditions and the two waveform files of the new audio; the cover-less masters add no image.
        #expect(addedMedia.count == 8, "\(addedMedia)")
        #expect(report.retired.filter { $0.hasPrefix("media/") }.count == 8, "\(report.retired)")
        #expect(report.changed.allSatisfy { !$0.hasPrefix("media/") }, "media never change under a name: \(report.changed)")
        for (path, state) in before where path.hasPrefix("media/") {
            #expect(after[path] == state, "\(path) was rewritten or copied")
        }
        // The changed track's manifests were rewritten; the other tracks' were not touched.
        for id in ids {
            for manifest in ["hls/\(id)/master.m3u8", "hls/\(id)/aac-128k.m3u8", "dash/\(id).mpd"] {
                if id == changed {
                    #expect(report.changed.contains(manifest))
                } else {
                    #expect(after[manifest] == before[manifest], "\(manifest) was rewritten")
                }
            }
        }
        let problems = try space.tree.problems()
        #expect(problems.isEmpty, "\(problems)")
        #expect(space.leftovers.isEmpty)
    }

    @Test("a removed track leaves the JSON at once; its media stay for --keep-days, then are deleted")
    func removalAndPrune() throws {
        let space = try PublishSpace("prune")
        try space.ingest()
        try space.publish()
        let ids = try space.tree.trackIDs()
        try FileManager.default.removeItem(at: space.masters.appendingPathComponent("B/three.flac"))
        try space.ingest()
        let report = try space.publish()
        let remaining = try space.tree.trackIDs()
        #expect(remaining.count == 2)
        let removed = try #require(Set(ids).subtracting(remaining).first)
        let files = space.tree.files()
        #expect(!files.contains("api/tracks/\(removed).json"))
        let search = try String(contentsOf: space.out.appendingPathComponent("api/search.json"), encoding: .utf8)
        #expect(!search.contains(removed))
        // Its manifests and media are retired, not deleted: a CDN may still hold a manifest naming them.
        #expect(files.contains("hls/\(removed)/master.m3u8") && files.contains("dash/\(removed).mpd"))
        let retired = try space.tree.record().files.filter { $0.retired != nil }.map(\.path)
        #expect(Set(retired) == Set(report.retired))
        #expect(retired.count == 8 + 9, "6 renditions, 2 waveform files; 8 playlists and an MPD: \(retired)")
        #expect(retired.allSatisfy { files.contains($0) })
        #expect(try space.tree.problems().isEmpty)

        let sixDays = try space.publish(daysLater: 6)
        #expect(sixDays.upToDate && sixDays.pruned.isEmpty && sixDays.stillRetired == 17)
        #expect(retired.allSatisfy { space.tree.files().contains($0) })

        let eightDays = try space.publish(daysLater: 8)
        #expect(!eightDays.upToDate && Set(eightDays.pruned) == Set(retired))
        let left = space.tree.files()
        #expect(retired.allSatisfy { !left.contains($0) })
        #expect(try space.tree.record().files.allSatisfy { $0.retired == nil })
        #expect(try space.tree.problems().isEmpty)
    }

    @Test("rendition digests are sha256sum's; a catalog without them (before v4) gets them on the next ingest")
    func renditionDigests() throws {
        let space = try PublishSpace("digests", tones: [("A/one.flac", 330)])
        try space.ingest()
        let catalog = space.work.appendingPathComponent("catalog.sqlite").path
        func digests() throws -> [String: String] {
            let rows = try Command.run("sqlite3", [catalog, "SELECT path, coalesce(sha256, '-') FROM rendition"]).text
            return Dictionary(uniqueKeysWithValues: rows.split(separator: "\n").map {
                let parts = $0.split(separator: "|")
                return (String(parts[0]), String(parts[1]))
            })
        }
        let recorded = try digests()
        #expect(recorded.count == 6)
        let sums = try Command.run("sha256sum", recorded.keys.sorted(), in: space.work).text
        for line in sums.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(recorded[String(parts[1])] == String(parts[0]), "\(parts[1])")
        }
        #expect(try Command.run("sqlite3", [catalog, "UPDATE rendition SET sha256 = NULL"]).status == 0)
        try space.ingest()
        #expect(try digests() == recorded)
    }

    @Test("--dry-run lists what would change and writes nothing")
    func dryRun() throws {
        let space = try PublishSpace("dry-run")
        try space.ingest()
        try space.publish()
        let before = try space.tree.fileStates()
        try space.makeMaster("C/four.flac", frequency: 660)
        try space.ingest()
        let plan = try space.publish(["--dry-run"])
        #expect(plan.dryRun && !plan.switched)
        #expect(plan.added.filter { $0.hasPrefix("media/audio/") }.count == 6)
        #expect(plan.added.contains { $0.hasPrefix("api/tracks/") })
        #expect(try space.tree.fileStates() == before)
        #expect(space.leftovers.isEmpty)
        let real = try space.publish()
        #expect(Set(real.added.filter { $0.hasPrefix("media/") }) == Set(plan.added.filter { $0.hasPrefix("media/") }))
    }

    @Test("a second publish on the same OUT_DIR, or one during an ingest, exits 4 naming the other run")
    func locks() throws {
        let space = try PublishSpace("locks", tones: [("A/one.flac", 330)])
        try space.ingest()
        try space.publish()
        let before = try space.tree.fileStates()
        // The lock file beside OUT_DIR, as the README documents it.
        let lockPath = space.root.appendingPathComponent(".out.musikk-publish.lock").path
        let held = try RunLock(path: lockPath, exclusive: true, command: "musikk-publish (the first)")
        let second = try publish(space.work, space.out)
        held.release(finished: true)
        #expect(second.status == 4)
        #expect(second.standardError.contains("musikk-publish (the first)"), "\(second.standardError)")

        let ingest = try RunLock(path: space.work.appendingPathComponent("musikk.lock").path, exclusive: true,
                                 command: "musikk-ingest")
        let during = try publish(space.work, space.out)
        ingest.release(finished: true)
        #expect(during.status == 4)
        #expect(during.standardError.contains("musikk-ingest"), "\(during.standardError)")
        #expect(try space.tree.fileStates() == before)
        #expect(try publish(space.work, space.out).status == 0)
    }

    @Test("an OUT_DIR holding files musikk-publish did not write is refused and left alone")
    func foreignOutput() throws {
        let space = try PublishSpace("foreign", tones: [("A/one.flac", 330)])
        try space.ingest()
        try FileManager.default.createDirectory(at: space.out, withIntermediateDirectories: true)
        let precious = space.out.appendingPathComponent("thesis.txt")
        try Data("mine".utf8).write(to: precious)
        let result = try publish(space.work, space.out)
        #expect(result.status == 1)
        #expect(result.standardError.contains("did not write"), "\(result.standardError)")
        #expect(try Data(contentsOf: precious) == Data("mine".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: space.out.path) == ["thesis.txt"])
    }

    @Test("usage errors exit 2; --help documents the exit codes")
    func usage() throws {
        let executable = Repository.executable("musikk-publish").path
        let space = try PublishSpace("usage", tones: [])
        try FileManager.default.createDirectory(at: space.work, withIntermediateDirectories: true)
        for arguments in [[space.work.path, space.out.path, "--keep-days", "-1"],
                          [space.work.path, space.out.path, "--base-url", "cdn/music"],
                          [space.root.appendingPathComponent("nowhere").path, space.out.path]] {
            let result = try Command.run(executable, arguments)
            #expect(result.status == 2, "\(arguments): \(result.standardError)")
        }
        let noCatalog = try Command.run(executable, [space.work.path, space.out.path])
        #expect(noCatalog.status == 1)
        #expect(noCatalog.standardError.contains("no catalog.sqlite"), "\(noCatalog.standardError)")
        let help = try Command.run(executable, ["--help"])
        #expect(help.text.contains("EXIT CODES") && help.text.contains("--keep-days"))
    }
}

@Suite("Publishing the segment-files layout")
struct SegmentFilesTests {
    @Test("a segment-files ingest publishes as content-addressed folders that ffmpeg plays and xmllint accepts")
    func segmentFiles() throws {
        let space = try PublishSpace("segment-files", tones: [("A/one.flac", 330)])
        let ingest = try Command.run(Repository.executable("musikk-ingest").path,
                                     [space.masters.path, space.work.path, "--segment-files", "--quiet"])
        #expect(ingest.status == 0, "\(ingest.standardError)")
        try space.publish()
        let tree = space.tree
        #expect(try tree.problems().isEmpty)
        let segments = tree.files().filter { $0.hasPrefix("media/audio/") && $0.hasSuffix(".m4s") }
        #expect(segments.count >= 6, "\(segments)")
        #expect(segments.allSatisfy { $0.split(separator: "/").count == 5 }, "media/audio/DIGEST/RENDITION/seg-N.m4s")
        let id = try #require(try tree.trackIDs().first)
        let duration = try #require(try tree.json("api/tracks/\(id).json")["duration"] as? Double)
        for manifest in ["hls/\(id)/master.m3u8", "hls/\(id)/master-opus.m3u8", "dash/\(id).mpd"] {
            let (decoded, errors) = try DecodedAudio.ffmpeg(space.out.appendingPathComponent(manifest).path)
            #expect(errors.isEmpty, "\(manifest): \(errors)")
            #expect(abs(decoded.seconds - duration) <= 0.024, "\(manifest): \(decoded.seconds) s of \(duration) s")
        }
        let mpd = space.out.appendingPathComponent("dash/\(id).mpd").path
        let validation = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path, mpd])
        #expect(validation.status == 0, "\(validation.standardError)")
    }
}
