import Foundation
import Testing
import Ingest
import TestSupport

/// The issue's "done means": every fixture's manifests decode and play in tools we did not write, line up with
/// the source, validate, and bad masters are turned down without costing the good ones anything.
@Suite("musikk-ingest end to end", .serialized)
struct IngestEndToEndTests {
    @Test("good masters are ingested, each bad one rejected with its reason, exit code 3")
    func goodAndBadMasters() throws {
        let run = try FixtureRun.get()
        #expect(run.result.status == 3, "stderr: \(run.result.standardError)")
        #expect(run.report.tool == "musikk-ingest")
        for path in FixtureRun.goodMasterPaths {
            let file = try #require(run.file(path), "no report for \(path)")
            #expect(file.status == .ingested, "\(path): \(file.error ?? "")")
            #expect(file.renditions?.count == 6)
        }
        let expectedReasons = [
            "bad/empty.flac": "empty file",
            "bad/not-audio.flac": "matches no audio format",
            "bad/truncated.flac": "truncated",
            "bad/corrupt-middle.flac": "corrupt audio at 0:01",
            "bad/silence.flac": "digital silence",
            "bad/clip-50ms.wav": "shorter than the 1.0 s minimum",
            "bad/image.mp3": "no audio stream",
            "bad/video-no-audio.mp4": "no audio stream",
            "bad/x.flac": "is a directory",
        ]
        for (path, reason) in expectedReasons {
            let file = try #require(run.file(path), "no report for \(path)")
            #expect(file.status == .rejected)
            let error = file.error ?? ""
            #expect(error.contains(reason), "\(path): \(error)")
            #expect(error.contains((path as NSString).lastPathComponent), "the reason names the file: \(error)")
            #expect(!error.contains("\n"), "one line: \(error)")
            #expect(file.trackID == nil && file.hlsMaster == nil)
        }
        #expect(run.report.summary.ingested == FixtureRun.goodMasterPaths.count)
        #expect(run.report.summary.rejected == expectedReasons.count)
        // No outputs for rejected masters: one directory per ingested track, no partial leftovers.
        let trackDirectories = try FileManager.default.contentsOfDirectory(atPath: run.work.appendingPathComponent("tracks").path)
        #expect(trackDirectories.sorted() == run.report.files.compactMap(\.trackID).sorted())
    }

    @Test("ffmpeg decodes every HLS master, media playlist and DASH MPD to the end, aligned with the source",
          arguments: FixtureRun.goodMasterPaths)
    func ffmpegDecodes(path: String) throws {
        let run = try FixtureRun.get()
        let file = try #require(run.file(path))
        let trackDirectory = run.work.appendingPathComponent(try #require(file.hlsMaster)).deletingLastPathComponent()
        let (source, sourceErrors) = try DecodedAudio.ffmpeg(run.masters.appendingPathComponent(path).path, respectTimestamps: false)
        #expect(sourceErrors.isEmpty, "\(sourceErrors)")
        let aacRate = try #require(file.renditions?.first { $0.codec == "aac" }?.sampleRate)
        let aacFrame = 1024.0 / Double(aacRate)
        let opusFrame = 960.0 / 48_000
        let inputs: [(String, Double)] = [
            ("master.m3u8", max(aacFrame, opusFrame)), ("manifest.mpd", max(aacFrame, opusFrame)),
            ("aac-128k.m3u8", aacFrame), ("opus-96k.m3u8", opusFrame),
        ]
        for (name, frame) in inputs {
            let (decoded, errors) = try DecodedAudio.ffmpeg(trackDirectory.appendingPathComponent(name).path)
            #expect(errors.isEmpty, "\(path) \(name): ffmpeg said \(errors)")
            #expect(abs(decoded.seconds - source.seconds) <= frame,
                    "\(path) \(name): decoded \(decoded.seconds) s, source \(source.seconds) s")
            let lag = try #require(decoded.lag(against: source), "\(path) \(name): too short to compare")
            #expect(abs(lag) <= 44, "\(path) \(name): off by \(lag) samples at 44.1 kHz (priming not handled?)")
        }
    }

    @Test("GStreamer plays every HLS master and DASH MPD to the end", arguments: FixtureRun.goodMasterPaths)
    func gstreamerPlays(path: String) throws {
        let run = try FixtureRun.get()
        let file = try #require(run.file(path))
        let duration = try #require(file.durationSeconds)
        for manifest in [try #require(file.hlsMaster), try #require(file.dashMPD)] {
            let uri = run.work.appendingPathComponent(manifest).absoluteString
            let (decoded, result) = try DecodedAudio.gstreamer(uri: uri)
            #expect(result.status == 0, "\(path) \(manifest): \(result.standardError)")
            // GStreamer's adaptive demuxers present the encoder priming too, so allow one AAC frame either way.
            #expect(abs(decoded.seconds - duration) <= 0.05, "\(path) \(manifest): played \(decoded.seconds) s of \(duration) s")
        }
    }

    @Test("every MPD validates against the DASH schema")
    func mpdsValidate() throws {
        let run = try FixtureRun.get()
        let mpds = run.report.files.compactMap(\.dashMPD).map { run.work.appendingPathComponent($0).path }
        #expect(mpds.count == FixtureRun.goodMasterPaths.count)
        let result = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path] + mpds)
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test("every playlist follows RFC 8216")
    func playlistsFollowRFC8216() throws {
        let run = try FixtureRun.get()
        for file in run.report.files where file.status == .ingested {
            let problems = HLSChecker.checkMaster(at: run.work.appendingPathComponent(try #require(file.hlsMaster)))
            #expect(problems.isEmpty, "\(file.path): \(problems)")
        }
    }

    @Test("renditions of one codec are cut at the same samples, with no tiny last fragment")
    func fragmentsAligned() throws {
        let run = try FixtureRun.get()
        let tabla = try #require(run.file("Sonic Pi/Loops/01 Tabla.flac"))
        let directory = run.work.appendingPathComponent(try #require(tabla.hlsMaster)).deletingLastPathComponent()
        func durations(_ name: String) throws -> [String] {
            try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }.map(String.init)
        }
        for codec in ["aac", "opus"] {
            let ladders = try ["64k", "128k", "256k", "96k", "160k"].filter {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(codec)-\($0).m3u8").path)
            }.map { try durations("\(codec)-\($0).m3u8") }
            #expect(ladders.count == 3)
            #expect(Set(ladders.map { $0.joined() }).count == 1, "\(codec) renditions cut differently: \(ladders)")
        }
        // 10.67 s at 6 s targets: two fragments; the 6.49 s Compus loop: one (its 0.5 s remainder joins it).
        #expect(try durations("aac-128k.m3u8").count == 2)
        let compus = try #require(run.file("Sonic Pi/Loops/02 Compus.flac"))
        let compusDirectory = run.work.appendingPathComponent(try #require(compus.hlsMaster)).deletingLastPathComponent()
        let compusSegments = try String(contentsOf: compusDirectory.appendingPathComponent("aac-128k.m3u8"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
        #expect(compusSegments.count == 1)
    }
}
