import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// Masters made at test time by the tools content owners use (`fixtures/make-corpus`: ffmpeg, lame, flac, sox,
/// oggenc, opusenc), some damaged the ways transfers do, ingested in one run and judged by tools Musikk did not write.
struct CorpusRun: Sendable {
    struct Entry: Decodable, Sendable {
        var path: String
        var tool: String
        /// `ingest`, `fallback` (good, but FFmpeg refuses it and the reference decoder reads it) or `reject`.
        var expected: String
    }

    let root: URL
    let entries: [Entry]
    let report: IngestReport

    static let shared: Result<CorpusRun, FixtureError> = Result { () throws(FixtureError) in try make() }
    static func get() throws -> CorpusRun { try shared.get() }

    private static func make() throws(FixtureError) -> CorpusRun {
        do {
            let root = try Repository.temporaryDirectory("corpus")
            let generated = try Command.run(Repository.root.appendingPathComponent("fixtures/make-corpus").path, [root.path])
            guard generated.status == 0 else {
                throw FixtureError(description: "fixtures/make-corpus failed: \(generated.standardError)")
            }
            let entries = try JSONDecoder().decode([Entry].self, from: Data(contentsOf: root.appendingPathComponent("corpus.json")))
            let masters = root.appendingPathComponent("masters")
            try FileManager.default.createDirectory(at: masters, withIntermediateDirectories: true)
            for folder in ["good", "damaged"] {
                try FileManager.default.moveItem(at: root.appendingPathComponent(folder), to: masters.appendingPathComponent(folder))
            }
            let result = try Command.run(
                Repository.executable("musikk-ingest").path,
                [masters.path, root.appendingPathComponent("work").path, "--json", "--jobs", "2"]
            )
            let report = try JSONDecoder().decode(IngestReport.self, from: result.standardOutput)
            return CorpusRun(root: root, entries: entries, report: report)
        } catch let error as FixtureError {
            throw error
        } catch {
            throw FixtureError(description: "the corpus run failed: \(error)")
        }
    }

    var masters: URL { root.appendingPathComponent("masters") }
    var work: URL { root.appendingPathComponent("work") }
    func file(_ path: String) -> FileReport? { report.files.first { $0.path == path } }
    func master(_ path: String) -> URL { masters.appendingPathComponent(path) }

    /// The good masters' names, listed without running the generator (for test arguments).
    static let goodPaths: [String] = {
        let listed = try? Command.run(Repository.root.appendingPathComponent("fixtures/make-corpus").path, ["--list"])
        return (listed?.text ?? "").split(separator: "\n").map(String.init).filter { $0.hasPrefix("good/") }
    }()

    /// The full fingerprint the catalog stores for a track, as Chromaprint's raw 32-bit items; nil when it has none.
    func rawFingerprint(ofTrack trackID: String) throws -> [UInt32]? {
        // Read-only and willing to wait: the parameterized tests open the catalog all at once.
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let database = try DatabaseQueue(path: work.appendingPathComponent("catalog.sqlite").path, configuration: configuration)
        let raw = try database.read { db in
            try Data.fetchOne(db, sql: "SELECT fingerprintRaw FROM trackFingerprint WHERE trackId = ?", arguments: [trackID])
        }
        return raw.map(Fpcalc.items(ofStored:))
    }

    /// The file the judges (ffmpeg, fpcalc) read for a master: the master itself, or for one FFmpeg refuses,
    /// libvorbis's decode of it by oggdec, as WAV in FFmpeg's channel order. oggdec 1.4.2 writes 5.1 as
    /// FL FR FC BR LFE BL (a 6-channel file with one level per channel, read back by ffmpeg's astats, shows it).
    func judgeInput(_ path: String) throws -> URL {
        let master = master(path)
        guard entries.first(where: { $0.path == path })?.expected == "fallback" else { return master }
        let folder = root.appendingPathComponent("oggdec", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Tests run in parallel and may ask for the same master at once: each call has files of its own.
        let stem = master.lastPathComponent + "-" + UUID().uuidString
        let decoded = folder.appendingPathComponent(stem + ".oggdec.wav")
        let ordered = folder.appendingPathComponent(stem + ".wav")
        let oggdec = try Command.run("oggdec", ["-Q", master.path, "-o", decoded.path])
        guard oggdec.status == 0 else { throw FixtureError(description: "oggdec \(path): \(oggdec.standardError)") }
        let channels = try Command.run("ffprobe", ["-v", "error", "-show_entries", "stream=channels", "-of", "csv=p=0", decoded.path])
        let reorder = channels.text.trimmingCharacters(in: .whitespacesAndNewlines) == "6"
            ? ["-af", "pan=5.1|c0=c0|c1=c1|c2=c2|c3=c4|c4=c5|c5=c3"] : []
        let converted = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", decoded.path] + reorder
            + ["-c:a", "pcm_s16le", ordered.path])
        guard converted.status == 0 else { throw FixtureError(description: "ffmpeg \(path): \(converted.standardError)") }
        return ordered
    }
}

@Suite("a real-world corpus: masters from ffmpeg, lame, flac, sox, oggenc and opusenc")
struct CorpusTests {
    @Test("no false rejection and no false acceptance; each rejection names the file and why")
    func verdicts() throws {
        let run = try CorpusRun.get()
        let good = run.entries.filter { $0.expected != "reject" }
        let damaged = run.entries.filter { $0.expected == "reject" }
        #expect(good.count >= 40)
        #expect(damaged.count >= 9)
        var falseRejections: [String] = []
        var falseAcceptances: [String] = []
        for entry in run.entries {
            let file = try #require(run.file(entry.path), "\(entry.path) is missing from the report")
            switch (entry.expected, file.status) {
            case ("reject", .rejected):
                let error = file.error ?? ""
                #expect(error.hasPrefix(run.master(entry.path).path + ": "), "\(error)")
                #expect(["truncated", "corrupt audio", "not a readable audio file"].contains { error.contains($0) }, "\(error)")
            case ("reject", _):
                falseAcceptances.append(entry.path)
            case (_, .ingested):
                break
            default:
                falseRejections.append("\(entry.path) (\(entry.tool)): \(file.error ?? "\(file.status)")")
            }
        }
        print("corpus: \(good.count) good, \(damaged.count) damaged; false rejections \(falseRejections.count), "
            + "false acceptances \(falseAcceptances.count)")
        #expect(falseRejections.isEmpty, "\(falseRejections)")
        #expect(falseAcceptances.isEmpty, "\(falseAcceptances)")
    }

    @Test("a master FFmpeg refuses but libvorbis plays is ingested through libvorbisfile, and the report says so")
    func referenceDecoderFallback() throws {
        let run = try CorpusRun.get()
        let fallbacks = run.entries.filter { $0.expected == "fallback" }
        #expect(fallbacks.count >= 2)
        for entry in fallbacks {
            // The premise, by the tools themselves: FFmpeg's CLI refuses the file; oggdec (libvorbis) decodes it.
            let ffmpeg = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", run.master(entry.path).path, "-f", "null", "-"])
            #expect(ffmpeg.status != 0, "\(entry.path): ffmpeg decodes it, so no fallback is needed")
            let oggdec = try Command.run("oggdec", ["-Q", run.master(entry.path).path, "-o", "/dev/null"])
            #expect(oggdec.status == 0, "\(entry.path): oggdec refuses it too: \(oggdec.standardError)")
            let file = try #require(run.file(entry.path))
            #expect(file.status == .ingested)
            #expect(file.decoderFallback?.contains("libvorbisfile") == true, "\(file.decoderFallback ?? "no fallback")")
            #expect(file.warnings?.contains { $0.contains("FFmpeg refused") } == true)
        }
        // Every master FFmpeg reads is read by FFmpeg.
        for file in run.report.files where !fallbacks.contains(where: { $0.path == file.path }) {
            #expect(file.decoderFallback == nil, "\(file.path)")
        }
    }

    @Test("the fingerprint is fpcalc's, bit for bit", arguments: CorpusRun.goodPaths)
    func fingerprint(path: String) throws {
        let run = try CorpusRun.get()
        let file = try #require(run.file(path))
        let reference = try Fpcalc.raw(try run.judgeInput(path).path)
        let ours = try run.rawFingerprint(ofTrack: try #require(file.trackID))
        let differing = zip(ours ?? [], reference ?? []).filter { $0 != $1 }.count
        #expect(ours == reference, "\(path): \(differing) of \(ours?.count ?? 0) items differ from fpcalc's \(reference?.count ?? 0)")
    }

    @Test("loudness is within 0.1 LU of ffmpeg's ebur128 at 48 kHz, true peak within 0.3 dB", arguments: CorpusRun.goodPaths)
    func loudness(path: String) throws {
        let run = try CorpusRun.get()
        let loudness = try #require(run.file(path)?.loudness)
        let reference = try FFmpegLoudness.measure(try run.judgeInput(path))
        let integrated = try #require(loudness.integratedLUFS)
        #expect(abs(integrated - reference.integrated) <= 0.1, "\(path): ours \(integrated), ffmpeg \(reference.integrated)")
        #expect(abs(loudness.truePeakDBTP - reference.truePeakDBTP) <= 0.3,
                "\(path): ours \(loudness.truePeakDBTP), ffmpeg \(reference.truePeakDBTP)")
    }

    @Test("HLS and DASH decode to the end in ffmpeg and play in GStreamer, within a frame of the master",
          arguments: CorpusRun.goodPaths)
    func playsToTheEnd(path: String) throws {
        let run = try CorpusRun.get()
        let file = try #require(run.file(path))
        let (source, sourceErrors) = try DecodedAudio.ffmpeg(try run.judgeInput(path).path, respectTimestamps: false)
        #expect(sourceErrors.isEmpty, "\(path): \(sourceErrors)")
        let aacRate = try #require(file.renditions?.first { $0.codec == "aac" }?.sampleRate)
        let frame = max(1024.0 / Double(aacRate), 960.0 / 48_000)
        for manifest in [try #require(file.hlsMaster), try #require(file.dashMPD)] {
            let url = run.work.appendingPathComponent(manifest)
            let (decoded, errors) = try DecodedAudio.ffmpeg(url.path)
            #expect(errors.isEmpty, "\(path) \(manifest): ffmpeg said \(errors)")
            #expect(abs(decoded.seconds - source.seconds) <= frame,
                    "\(path) \(manifest): ffmpeg decoded \(decoded.seconds) s, the master is \(source.seconds) s")
            let (played, result) = try DecodedAudio.gstreamer(uri: url.absoluteString)
            #expect(result.status == 0, "\(path) \(manifest): \(result.standardError)")
            // GStreamer's adaptive demuxers present the encoder priming too: one AAC frame either way, and one more.
            #expect(abs(played.seconds - source.seconds) <= 2 * frame,
                    "\(path) \(manifest): GStreamer played \(played.seconds) s, the master is \(source.seconds) s")
        }
    }
}
