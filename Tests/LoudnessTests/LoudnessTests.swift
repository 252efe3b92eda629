import Foundation
import Loudness
import Testing
import TestSupport

/// Interleaved float samples of a lavfi source or a file, decoded by the ffmpeg CLI.
private func decode(_ input: [String], channels: Int) throws -> [Float] {
    let result = try Command.run("ffmpeg", ["-nostdin", "-v", "error"] + input + ["-ac", "\(channels)", "-f", "f32le", "-"])
    #expect(result.status == 0, "\(result.standardError)")
    return result.standardOutput.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

private func measure(_ samples: [Float], sampleRate: Int = 48_000) throws -> LoudnessMeasurement {
    let meter = try LoudnessMeter(sampleRate: sampleRate, roles: [.left, .right])
    // Fed in uneven pieces, as decoded blocks arrive.
    var start = 0
    var piece = 1_000
    while start < samples.count {
        let end = min(samples.count, start + piece * 2)
        try meter.add(Array(samples[start..<end]))
        start = end
        piece = piece * 7 % 10_007 + 1
    }
    return try meter.finish()
}

@Suite("loudness")
struct LoudnessTests {
    /// Pink noise at three levels for 20 s each: a loudness range of about 20 LU, well defined.
    static let stepped = ["-f", "lavfi", "-i",
                          "anoisesrc=c=pink:r=48000:a=0.5:d=60:seed=3,volume='if(lt(t,20),1,if(lt(t,40),0.1,0.3))':eval=frame",
                          "-ac", "2"]

    @Test("integrated loudness and loudness range of a minute of stepped noise agree with ffmpeg's ebur128")
    func agreesWithFFmpeg() throws {
        let measured = try measure(try decode(Self.stepped, channels: 2))
        let reference = try FFmpegLoudness.measure(Self.stepped)
        let integrated = try #require(measured.integratedLUFS)
        #expect(abs(integrated - reference.integrated) <= 0.1, "ours \(integrated), ffmpeg \(reference.integrated)")
        #expect(reference.range > 10)
        #expect(abs(measured.rangeLU - reference.range) <= 0.5, "ours \(measured.rangeLU), ffmpeg \(reference.range)")
        #expect(abs(try #require(measured.trackGainDB) - (-18 - integrated)) < 1e-9)
    }

    @Test("album loudness gated over two tracks' blocks agrees with ffmpeg on the tracks played back to back")
    func albumLoudness() throws {
        let loud = ["-f", "lavfi", "-i", "anoisesrc=c=pink:r=48000:a=0.6:d=25:seed=1", "-ac", "2"]
        let quiet = ["-f", "lavfi", "-i", "anoisesrc=c=brown:r=48000:a=0.05:d=35:seed=2", "-ac", "2"]
        let first = try measure(try decode(loud, channels: 2))
        let second = try measure(try decode(quiet, channels: 2))
        let album = try #require(GatingBlocks.integratedLoudness(of: [first.blocks, second.blocks]))
        let together = ["-f", "lavfi", "-i", "anoisesrc=c=pink:r=48000:a=0.6:d=25:seed=1[a];"
                        + "anoisesrc=c=brown:r=48000:a=0.05:d=35:seed=2[b];[a][b]concat=n=2:v=0:a=1[out0]", "-ac", "2"]
        let reference = try FFmpegLoudness.measure(together)
        // Only the three blocks that straddle the join differ; the gating is the same.
        #expect(abs(album - reference.integrated) <= 0.1, "ours \(album), ffmpeg \(reference.integrated)")
        // The album is not the mean of the track loudnesses: the gate drops much of the quiet track.
        let trackMean = ((first.integratedLUFS ?? 0) + (second.integratedLUFS ?? 0)) / 2
        #expect(abs(album - trackMean) > 1)
        // A track's own blocks give back its integrated loudness.
        let alone = try #require(GatingBlocks.integratedLoudness(of: [first.blocks]))
        #expect(abs(alone - (first.integratedLUFS ?? 0)) < 0.02)
        #expect(GatingBlocks(encoded: first.blocks.encoded) == first.blocks)
    }

    @Test("digital silence has no integrated loudness and no gain, and peaks of zero")
    func silence() throws {
        let measured = try measure([Float](repeating: 0, count: 48_000 * 2 * 3))
        #expect(measured.integratedLUFS == nil)
        #expect(measured.trackGainDB == nil)
        #expect(measured.truePeak == 0)
        #expect(GatingBlocks.integratedLoudness(of: [measured.blocks]) == nil)
    }

    @Test("a full-scale square wave has a sample peak of 0 dBFS and a true peak above it")
    func truePeakAboveSamplePeak() throws {
        let square = "if(lt(mod(t*11025\\,2)\\,1)\\,1\\,-1)"
        let input = ["-f", "lavfi", "-i", "aevalsrc=\(square)|\(square):s=44100:d=3"]
        let samples = try decode(input, channels: 2)
        let meter = try LoudnessMeter(sampleRate: 44_100, roles: [.left, .right])
        try meter.add(samples)
        let measured = try meter.finish()
        #expect(abs(measured.samplePeakDBFS) < 0.01)
        #expect(measured.truePeakDBTP > 0.5)
    }
}
