import Foundation
import GRDB
import Ingest
import Testing
import TestSupport

/// The analysis in the fixture run's report and catalog, judged by tools Musikk did not write.
@Suite("analysis against fpcalc, ffmpeg ebur128 and the audiowaveform format")
struct AnalysisTests {
    @Test("the report's fingerprint is what fpcalc -length 0 prints, for every fixture", arguments: FixtureRun.goodMasterPaths)
    func fingerprintIsFpcalcs(path: String) throws {
        let run = try FixtureRun.get()
        let file = try #require(run.file(path))
        let printed = try Fpcalc.printed(run.masters.appendingPathComponent(path).path, raw: false)
        // Loops under ~3 s are too short for Chromaprint: fpcalc prints "Empty fingerprint" and the report has none.
        #expect(file.fingerprint == printed)
    }

    @Test("some fixtures are long enough to carry a fingerprint (so the test above compares strings)")
    func fingerprintsPresent() throws {
        let run = try FixtureRun.get()
        #expect(run.report.files.compactMap(\.fingerprint).count >= 5)
    }

    @Test("loudness agrees with ffmpeg's ebur128 filter: 0.1 LU integrated, 0.2 dB true peak", arguments: FixtureRun.goodMasterPaths)
    func loudnessAgreesWithFFmpeg(path: String) throws {
        let run = try FixtureRun.get()
        let loudness = try #require(run.file(path)?.loudness)
        let reference = try FFmpegLoudness.measure(run.masters.appendingPathComponent(path))
        let integrated = try #require(loudness.integratedLUFS)
        #expect(abs(integrated - reference.integrated) <= 0.1, "ours \(integrated), ffmpeg \(reference.integrated)")
        #expect(abs(loudness.truePeakDBTP - reference.truePeakDBTP) <= 0.2,
                "ours \(loudness.truePeakDBTP), ffmpeg \(reference.truePeakDBTP)")
        // Loudness range is compared in LoudnessTests on a long signal: these loops hold one to three 3-second
        // windows, too few for LRA's percentiles to mean anything (ffmpeg and libebur128 differ by up to 0.6 LU).
        let gain = try #require(loudness.trackGainDB)
        #expect(abs(gain - (-18 - integrated)) < 0.002)
    }

    @Test("waveform .dat and .json: version 2 headers and each pixel's min/max equal to the source's, decoded by ffmpeg",
          arguments: FixtureRun.goodMasterPaths)
    func waveformMatchesSource(path: String) throws {
        let run = try FixtureRun.get()
        let file = try #require(run.file(path))
        let waveform = try #require(file.waveform)
        let dat = try Data(contentsOf: run.work.appendingPathComponent(waveform.dat))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.work.appendingPathComponent(waveform.json)))
            as? [String: Any]

        // DataFormat.md, version 2: int32 version, uint32 flags (bit 0: 8-bit), int32 rate, int32 samples per pixel,
        // uint32 length, int32 channels, then per pixel per channel a min and a max.
        func int32(_ offset: Int) -> Int { Int(Int32(littleEndian: dat.subdata(in: offset..<offset + 4).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })) }
        #expect(int32(0) == 2)
        #expect(int32(4) & 1 == 1)
        let rate = int32(8), samplesPerPixel = int32(12), length = int32(16), channels = int32(20)
        #expect(samplesPerPixel == rate / 100)
        #expect(channels == 1)
        let values = dat.dropFirst(24).map { Int(Int8(bitPattern: $0)) }
        #expect(values.count == length * 2)
        #expect(json?["version"] as? Int == 2)
        #expect(json?["bits"] as? Int == 8)
        #expect(json?["length"] as? Int == length)
        #expect(json?["data"] as? [Int] == values)

        // Independently: ffmpeg decodes the master to 16-bit at its own rate; channels are averaged (integer
        // division), each pixel's min and max taken, then divided by 256, as audiowaveform does.
        let source = run.masters.appendingPathComponent(path).path
        let probe = try Command.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries",
                                                "stream=channels,sample_rate", "-of", "csv=p=0", source])
        let fields = probe.text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        #expect(fields == [rate, fields.last ?? 0])
        let sourceChannels = try #require(fields.last)
        let pcm = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", source, "-f", "s16le", "-acodec", "pcm_s16le", "-"])
        let samples = pcm.standardOutput.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        let frames = samples.count / sourceChannels
        var expected: [Int] = []
        var start = 0
        while start < frames {
            let end = min(start + samplesPerPixel, frames)
            var low = Int.max, high = Int.min
            for frame in start..<end {
                var sum = 0
                for channel in 0..<sourceChannels { sum += Int(samples[frame * sourceChannels + channel]) }
                low = min(low, sum / sourceChannels)
                high = max(high, sum / sourceChannels)
            }
            expected += [low / 256, high / 256]
            start = end
        }
        #expect(expected.count == values.count)
        // 24-bit and float sources: ffmpeg truncates to 16 bits where Musikk rounds, so a value may be one step off.
        let worst = zip(expected, values).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1, "largest difference \(worst) (in 8-bit steps)")
    }

    @Test("the catalog holds fingerprints (raw and compressed), index keys, loudness, waveform and signal checks")
    func catalogHoldsAnalysis() throws {
        let run = try FixtureRun.get()
        let database = try DatabaseQueue(path: run.work.appendingPathComponent("catalog.sqlite").path)
        try database.read { db in
            let tracks = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM track") ?? 0
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trackLoudness") == tracks)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trackWaveform") == tracks)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trackSignal") == tracks)
            let rows = try Row.fetchAll(db, sql: """
                SELECT track.sourcePath, fingerprint, fingerprintRaw, lookupFingerprint FROM trackFingerprint
                JOIN track ON track.id = trackFingerprint.trackId
                """)
            #expect(rows.count == run.report.files.compactMap(\.fingerprint).count)
            for row in rows {
                let path: String = row["sourcePath"]
                let raw: Data = row["fingerprintRaw"]
                let printed = try Fpcalc.raw(run.masters.appendingPathComponent(path).path) ?? []
                #expect(Fpcalc.items(ofStored: raw) == printed, "\(path)")
                #expect(row["fingerprint"] as String == run.file(path)?.fingerprint)
                // Shorter than 120 s: the lookup fingerprint is the whole one.
                #expect(row["lookupFingerprint"] as String == row["fingerprint"] as String)
            }
            let keyed = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT trackId) FROM fingerprintKey")
            #expect(keyed == rows.count)
            // Album gain for the "Loops" release (three tracks in the fixtures).
            let albumGain = try Double.fetchOne(db, sql: "SELECT albumGainDB FROM release WHERE title = 'Loops'")
            #expect(albumGain != nil)
        }
    }

    @Test("distinct fixtures are never paired as duplicates")
    func noFalseDuplicates() throws {
        let run = try FixtureRun.get()
        #expect(run.report.files.allSatisfy { $0.duplicateOf == nil })
        let database = try DatabaseQueue(path: run.work.appendingPathComponent("catalog.sqlite").path)
        #expect(try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM duplicate") } == 0)
    }
}
