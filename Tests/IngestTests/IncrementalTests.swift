import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// Re-runs over the same masters and work folder: only what changed is done, and the catalog says what happened.
@Suite("incremental runs")
struct IncrementalTests {
    /// Three tagged masters, ingested once.
    private func ingested(_ label: String) throws -> (Workspace, IngestReport) {
        let space = try Workspace(label)
        try space.makeMaster("a.flac", frequency: 440, seconds: 3, title: "A")
        try space.makeMaster("b.flac", frequency: 550, seconds: 3, title: "B")
        try space.makeMaster("c/c.flac", frequency: 660, seconds: 3, title: "C")
        let (report, result) = try space.ingest()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(report.summary.ingested == 3)
        return (space, report)
    }

    private func trackID(_ report: IngestReport, _ path: String) -> String? {
        report.files.first { $0.path == path }?.trackID
    }

    @Test("a re-run with nothing changed, or with files touched but identical, encodes and writes nothing")
    func unchangedAndTouched() throws {
        let (space, first) = try ingested("unchanged")
        let before = try space.trackFileStates()
        let (again, result) = try space.ingest()
        #expect(result.status == 0)
        #expect(again.summary == IngestReport.Summary(ingested: 0, updated: 0, unchanged: 3, removed: 0, rejected: 0, skipped: 0))
        #expect(again.files.map(\.trackID) == first.files.map(\.trackID))
        #expect(try space.trackFileStates() == before)

        // A new modification time (touch) with the same bytes: the content hash says unchanged.
        let touched = space.masters.appendingPathComponent("a.flac")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: touched.path)
        let (afterTouch, _) = try space.ingest()
        #expect(afterTouch.files.first { $0.path == "a.flac" }?.status == .unchanged)
        #expect(afterTouch.summary.unchanged == 3)
        #expect(try space.trackFileStates() == before)
        let stamp = try space.catalog().read { db in
            try Int64.fetchOne(db, sql: "SELECT sourceModified FROM track WHERE sourcePath = 'a.flac'")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: touched.path)
        let modified = try #require(attributes[.modificationDate] as? Date)
        #expect(abs(Double(stamp ?? 0) / 1e9 - modified.timeIntervalSince1970) < 0.001, "the new time is recorded")
    }

    @Test("new content with an old modification time (rsync -t), or same size and time rewritten in place, is re-encoded")
    func rsyncedContent() throws {
        let (space, first) = try ingested("rsync")
        let master = space.masters.appendingPathComponent("a.flac")
        let originalID = try #require(trackID(first, "a.flac"))

        // A replacement made elsewhere, copied over with its older modification time preserved, as rsync -t does.
        let staging = try Workspace("rsync-staging")
        try staging.makeMaster("a.flac", frequency: 880, seconds: 3, title: "A (new mix)")
        let replacement = staging.masters.appendingPathComponent("a.flac")
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: replacement.path)
        let rsync = try Command.run("rsync", ["-t", replacement.path, master.path])
        #expect(rsync.status == 0, "\(rsync.standardError)")
        let (second, _) = try space.ingest()
        let updated = try #require(second.files.first { $0.path == "a.flac" })
        #expect(updated.status == .updated)
        #expect(updated.changes == [.audio])
        #expect(updated.trackID == originalID, "the master at the same path keeps its track")
        #expect(second.summary.unchanged == 2)
        let title = try space.catalog().read { try String.fetchOne($0, sql: "SELECT title FROM track WHERE id = ?", arguments: [originalID]) }
        #expect(title == "A (new mix)")

        // Same size and modification time, other bytes, written into the same file: the status-change time tells.
        try staging.makeMaster("same.wav", frequency: 300, seconds: 3, title: "X", format: "wav")
        let wav = space.masters.appendingPathComponent("w.wav")
        try FileManager.default.copyItem(at: staging.masters.appendingPathComponent("same.wav"), to: wav)
        let (withWAV, _) = try space.ingest()
        #expect(withWAV.files.first { $0.path == "w.wav" }?.status == .ingested)
        let wavModified = try #require(try FileManager.default.attributesOfItem(atPath: wav.path)[.modificationDate] as? Date)
        var bytes = try Data(contentsOf: wav)
        bytes.replaceSubrange((bytes.count - 44_100)..<bytes.count, with: Data(repeating: 0, count: 44_100))
        let handle = try FileHandle(forWritingTo: wav)
        try handle.write(contentsOf: bytes)
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: wavModified], ofItemAtPath: wav.path)
        #expect(try FileManager.default.attributesOfItem(atPath: wav.path)[.size] as? Int == bytes.count)
        let (inPlace, _) = try space.ingest()
        #expect(inPlace.files.first { $0.path == "w.wav" }?.status == .updated)
        #expect(inPlace.files.first { $0.path == "w.wav" }?.changes == [.audio])
    }

    @Test("a moved and renamed master keeps its track id and renditions, also when re-tagged on the way")
    func moved() throws {
        let (space, first) = try ingested("moved")
        let before = try space.trackFileStates()
        let manager = FileManager.default
        try manager.createDirectory(at: space.masters.appendingPathComponent("new"), withIntermediateDirectories: true)
        try manager.moveItem(at: space.masters.appendingPathComponent("a.flac"), to: space.masters.appendingPathComponent("new/A renamed.flac"))
        try manager.moveItem(at: space.masters.appendingPathComponent("b.flac"), to: space.masters.appendingPathComponent("new/b.flac"))
        try space.retag("new/b.flac", title: "B (retitled)")

        let plan = try space.dryRun()
        #expect(plan.files.filter { $0.action == "moved" }.map(\.path) == ["new/A renamed.flac", "new/b.flac"])

        let (second, result) = try space.ingest()
        #expect(result.status == 0)
        let a = try #require(second.files.first { $0.path == "new/A renamed.flac" })
        #expect(a.status == .updated && a.changes == [.moved] && a.previousPath == "a.flac")
        #expect(a.trackID == trackID(first, "a.flac"))
        let b = try #require(second.files.first { $0.path == "new/b.flac" })
        #expect(b.status == .updated && b.changes == [.moved, .tags] && b.previousPath == "b.flac")
        #expect(b.trackID == trackID(first, "b.flac"))
        #expect(second.summary.ingested == 0 && second.summary.removed == 0)
        #expect(try space.trackFileStates() == before, "nothing re-encoded")
        let rows = try space.catalog().read { db in
            try Row.fetchAll(db, sql: "SELECT sourcePath, title FROM track ORDER BY sourcePath").map { "\($0[0] as String)=\($0[1] as String)" }
        }
        #expect(rows == ["c/c.flac=C", "new/A renamed.flac=A", "new/b.flac=B (retitled)"])
    }

    @Test("tags changed, audio identical: the catalog is updated, nothing is re-encoded")
    func tagsOnly() throws {
        let (space, first) = try ingested("tags")
        let before = try space.trackFileStates()
        try space.retag("c/c.flac", title: "C (corrected)")
        #expect(try space.dryRun().files.first { $0.path == "c/c.flac" }?.changes == [.tags])
        let (second, _) = try space.ingest()
        let c = try #require(second.files.first { $0.path == "c/c.flac" })
        #expect(c.status == .updated && c.changes == [.tags] && c.trackID == trackID(first, "c/c.flac"))
        #expect(try space.trackFileStates() == before)
        let title = try space.catalog().read { try String.fetchOne($0, sql: "SELECT title FROM track WHERE sourcePath = 'c/c.flac'") }
        #expect(title == "C (corrected)")
    }

    @Test("a vanished master is marked removed, its files stay; when it comes back its track is restored")
    func removedAndRestored() throws {
        let (space, first) = try ingested("removed")
        let aside = space.root.appendingPathComponent("b.flac")
        try FileManager.default.moveItem(at: space.masters.appendingPathComponent("b.flac"), to: aside)
        #expect(try space.dryRun().files.first { $0.path == "b.flac" }?.action == "removed")
        let (second, result) = try space.ingest()
        #expect(result.status == 0)
        let removed = try #require(second.files.first { $0.path == "b.flac" })
        #expect(removed.status == .removed && removed.trackID == trackID(first, "b.flac"))
        #expect(second.summary.removed == 1)
        let id = try #require(removed.trackID)
        let removedAt = try space.catalog().read { try Date.fetchOne($0, sql: "SELECT removedAt FROM track WHERE id = ?", arguments: [id]) }
        #expect(removedAt != nil)
        #expect(try WorkTree.missingFiles(in: space.work).isEmpty, "removed tracks keep their files")

        // A second run does not report it again.
        let (third, _) = try space.ingest()
        #expect(third.summary.removed == 0 && third.files.count == 2)

        try FileManager.default.moveItem(at: aside, to: space.masters.appendingPathComponent("b.flac"))
        let (fourth, _) = try space.ingest()
        let back = try #require(fourth.files.first { $0.path == "b.flac" })
        #expect(back.status == .updated && back.changes == [.restored] && back.trackID == id)
        let stillRemoved = try space.catalog().read { try Date.fetchOne($0, sql: "SELECT removedAt FROM track WHERE id = ?", arguments: [id]) }
        #expect(stillRemoved == nil)
    }

    @Test("a rescan stats one WORK folder per complete track; a file deleted from it, or the folder replaced, is still found and made again")
    func workChecks() throws {
        let (space, first) = try ingested("work-checks")
        let (checked, _) = try space.ingest()
        #expect(checked.summary.unchanged == 3)
        #expect(try space.catalog().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM workCheck") } == 3)

        // strace, not our own counters: what the rescan asks the kernel about the tracks' files.
        let trace = space.root.appendingPathComponent("rescan.strace")
        let traced = try Command.run("strace", [
            "-f", "-qq", "-o", trace.path, "-e", "trace=stat,lstat,newfstatat,statx,access,faccessat,faccessat2,openat",
            Repository.executable("musikk-ingest").path, space.masters.path, space.work.path, "--quiet",
        ])
        #expect(traced.status == 0, "\(traced.standardError)")
        let tracks = space.work.appendingPathComponent("tracks").path + "/"
        let looked = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n").filter { $0.contains(tracks) }
        #expect(looked.count == 3, "one stat per track folder: \(looked.joined(separator: "\n"))")

        let a = try #require(trackID(first, "a.flac"))
        let playlist = space.work.appendingPathComponent("tracks/\(a)/aac-128k.m3u8")
        try FileManager.default.removeItem(at: playlist)
        let (repaired, _) = try space.ingest()
        #expect(repaired.files.first { $0.path == "a.flac" }?.changes == [.repaired])
        #expect(repaired.summary.unchanged == 2)
        #expect(FileManager.default.fileExists(atPath: playlist.path))

        // The folder swapped for a copy missing a file (a restore from backup): a new inode, so it is checked.
        let b = try #require(trackID(first, "b.flac"))
        let folder = space.work.appendingPathComponent("tracks/\(b)")
        let copy = space.work.appendingPathComponent("tracks/\(b).copy")
        try FileManager.default.copyItem(at: folder, to: copy)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("waveform.json"))
        try FileManager.default.removeItem(at: folder)
        try FileManager.default.moveItem(at: copy, to: folder)
        let (restored, _) = try space.ingest()
        #expect(restored.files.first { $0.path == "b.flac" }?.changes == [.repaired])
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("waveform.json").path))
        #expect(try space.ingest().0.summary.unchanged == 3)
    }

    @Test("a ladder change encodes only the new or changed rungs; kept renditions are untouched; provenance is recorded")
    func ladderChange() throws {
        let (space, first) = try ingested("ladder")
        // A rescan first, so every track is on record as complete: the ladder change must still be seen.
        #expect(try space.ingest().0.summary.unchanged == 3)
        let before = try space.trackFileStates()
        let profile = space.root.appendingPathComponent("profile.toml")
        try """
            [[rendition]]
            codec = "aac"
            bitrate = 128
            [[rendition]]
            codec = "aac"
            bitrate = 320
            [[rendition]]
            codec = "opus"
            bitrate = 96
            """.write(to: profile, atomically: true, encoding: .utf8)
        let plan = try space.dryRun(["--profile", profile.path])
        #expect(plan.summary["changed"] == 3)
        let (second, result) = try space.ingest(["--profile", profile.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(second.summary.updated == 3)
        let after = try space.trackFileStates()
        for file in second.files {
            #expect(file.changes == [.renditions], "\(file.path)")
            #expect(file.renditions?.map(\.path).map { ($0 as NSString).lastPathComponent } == ["aac-128k.mp4", "aac-320k.mp4", "opus-96k.mp4"])
            let id = try #require(file.trackID)
            #expect(id == trackID(first, file.path))
            // Kept: the very same files (inode and time); new: aac-320k; dropped: the other rungs.
            for kept in ["aac-128k.mp4", "aac-128k.m3u8", "opus-96k.mp4", "opus-96k.m3u8", "waveform.json", "waveform.dat"] {
                #expect(after["\(id)/\(kept)"] == before["\(id)/\(kept)"], "\(id)/\(kept) was rewritten")
            }
            #expect(after["\(id)/aac-320k.mp4"] != nil)
            #expect(after["\(id)/aac-64k.mp4"] == nil && after["\(id)/opus-160k.mp4"] == nil)
            let master = space.work.appendingPathComponent("tracks/\(id)/master.m3u8")
            let text = try String(contentsOf: master, encoding: .utf8)
            #expect(text.components(separatedBy: "\n").filter { $0.hasSuffix(".m3u8") } == ["aac-128k.m3u8", "aac-320k.m3u8", "opus-96k.m3u8"])
            // An independent player reads the new manifests to the end.
            for manifest in [master, space.work.appendingPathComponent("tracks/\(id)/manifest.mpd")] {
                let probe = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", manifest.path, "-map", "0:a:0", "-f", "null", "-"])
                #expect(probe.status == 0, "\(manifest.lastPathComponent): \(probe.standardError)")
            }
            let validation = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path,
                                                         space.work.appendingPathComponent("tracks/\(id)/manifest.mpd").path])
            #expect(validation.status == 0, "\(validation.standardError)")
        }
        let provenance = try space.catalog().read { db in
            try Row.fetchAll(db, sql: "SELECT track.audioSHA256, rendition.name, rendition.provenance FROM rendition JOIN track ON track.id = rendition.trackId")
        }
        #expect(provenance.count == 9)
        for row in provenance {
            let (audio, name, text) = (row[0] as String, row[1] as String, row[2] as String)
            #expect(text.contains("audio sha256:\(audio)") && text.contains("libavcodec") && text.contains("libopus"), "\(name): \(text)")
            #expect(text.contains(name.hasPrefix("aac") ? "aac " : "opus "), "\(name): \(text)")
        }
        let (third, _) = try space.ingest(["--profile", profile.path])
        #expect(third.summary.unchanged == 3, "the new ladder is now what the catalog has")
    }

    @Test("--dry-run names new, changed, moved, removed, unchanged and rejected masters and writes nothing")
    func dryRun() throws {
        let (space, _) = try ingested("dry-run")
        try space.makeMaster("d.flac", frequency: 770, seconds: 3, title: "D")
        try space.retag("a.flac", title: "A2")
        try FileManager.default.moveItem(at: space.masters.appendingPathComponent("b.flac"), to: space.masters.appendingPathComponent("b2.flac"))
        try FileManager.default.removeItem(at: space.masters.appendingPathComponent("c/c.flac"))
        try space.makeMaster("e.flac", frequency: 880, seconds: 3, title: "E")
        try Data("not audio".utf8).write(to: space.masters.appendingPathComponent("junk.flac"))
        try FileManager.default.removeItem(at: space.masters.appendingPathComponent("e.flac"))
        try FileManager.default.copyItem(at: space.masters.appendingPathComponent("d.flac"), to: space.masters.appendingPathComponent("e.flac"))

        let before = try WorkTree.contents(of: space.work)
        let catalogBefore = try Data(contentsOf: space.work.appendingPathComponent("catalog.sqlite"))
        let plan = try space.dryRun()
        let actions = Dictionary(uniqueKeysWithValues: plan.files.map { ($0.path, $0.action) })
        #expect(actions == ["a.flac": "changed", "b2.flac": "moved", "c/c.flac": "removed", "d.flac": "new",
                            "e.flac": "rejected", "junk.flac": "rejected"])
        #expect(plan.summary["new"] == 1 && plan.summary["moved"] == 1 && plan.summary["removed"] == 1)
        #expect(plan.files.first { $0.path == "e.flac" }?.reason?.contains("same content as d.flac") == true)
        let text = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, space.work.path, "--dry-run"])
        #expect(text.text.contains("moved     b2.flac  (from b.flac)"))
        #expect(text.text.contains("1 new, 1 changed, 1 moved, 1 removed, 0 unchanged, 2 rejected, 0 skipped; nothing was written"))
        #expect(try WorkTree.contents(of: space.work) == before)
        #expect(try Data(contentsOf: space.work.appendingPathComponent("catalog.sqlite")) == catalogBefore)

        // The run then does what the plan said.
        let (report, _) = try space.ingest()
        #expect(report.summary == IngestReport.Summary(ingested: 1, updated: 2, unchanged: 0, removed: 1, rejected: 2, skipped: 0))

        // A dry run of a work folder that does not exist yet creates nothing.
        let fresh = space.root.appendingPathComponent("never-made")
        let none = try Command.run(Repository.executable("musikk-ingest").path, [space.masters.path, fresh.path, "--dry-run"])
        #expect(none.status == 0, "\(none.standardError)")
        #expect(none.text.contains("3 new, 0 changed"), "a, b2 and d; e is a copy of d")
        #expect(!FileManager.default.fileExists(atPath: fresh.path))
    }

    @Test("a rejected master is not decoded again while it and the rules are unchanged")
    func rejectionRemembered() throws {
        let space = try Workspace("rejection")
        try space.makeMaster("short.flac", frequency: 440, seconds: 0.5, title: "Short")
        let (first, _) = try space.ingest()
        #expect(first.files.first?.status == .rejected)
        let reason = try #require(first.files.first?.error)
        let runOf = { try space.catalog().read { try Int64.fetchOne($0, sql: "SELECT runId FROM rejectedMaster") } }
        let firstRun = try runOf()
        let (second, result) = try space.ingest()
        #expect(result.status == 3)
        #expect(second.files.first?.error == reason)
        #expect(try runOf() == firstRun, "the rejection was repeated from the catalog, not judged again")
        // Other rules: judged again, and now accepted.
        let (third, _) = try space.ingest(["--min-duration", "0.2"])
        #expect(third.files.first?.status == .ingested)
    }
}
