import Foundation
import SignalCheck
import Testing
import TestSupport
import Waveform

@Suite("waveform data")
struct WaveformTests {
    @Test("16-bit, channels split: per-channel min/max, a short last pixel, and the binary layout of DataFormat.md")
    func splitSixteenBit() {
        // Two channels at 1000 Hz, 10 pixels per second (100 samples per pixel), 250 frames: pixels of 100, 100, 50.
        var samples: [Float] = []
        for frame in 0..<250 {
            samples.append(Float(frame) / 32768)          // rising ramp: min = first, max = last of each pixel
            samples.append(-Float(frame) / 32768)
        }
        var builder = WaveformBuilder(sampleRate: 1000, channels: 2, pixelsPerSecond: 10, bits: 16, mergeChannels: false)
        builder.add(Array(samples[0..<122]))              // pieces (whole frames) need not align with pixels
        builder.add(Array(samples[122...]))
        let data = builder.finish()
        #expect(data.samplesPerPixel == 100)
        #expect(data.length == 3)
        #expect(data.values == [0, 99, -99, 0, 100, 199, -199, -100, 200, 249, -249, -200])
        let binary = [UInt8](data.binary)
        #expect(binary.count == 24 + 12 * 2)
        #expect(Array(binary[0..<8]) == [2, 0, 0, 0, 0, 0, 0, 0])   // version 2, flags 0 (16-bit)
        #expect(Array(binary[20..<24]) == [2, 0, 0, 0])             // channels
        #expect(Array(binary[24..<28]) == [0, 0, 99, 0])            // first min, max (int16 little-endian)
    }

    @Test("8-bit merged: channels averaged with integer division, values divided by 256")
    func mergedEightBit() {
        let samples: [Float] = [32767, -32768, 1000, 3000, -513, -511].map { $0 / 32768 }
        var builder = WaveformBuilder(sampleRate: 200, channels: 2, pixelsPerSecond: 100)
        builder.add(samples)
        let data = builder.finish()
        // Frames average to 0 (truncated from -0.5), 2000, -512; pixels of two frames: [0, 2000] and [-512, -512].
        #expect(data.values == [0, 2000 / 256, -2, -2])
        #expect(data.channels == 1)
        #expect([UInt8](data.binary)[4] == 1)                          // 8-bit flag
    }
}

@Suite("signal checks")
struct SignalCheckTests {
    @Test("silence at the ends is measured to the sample; a quiet middle is not silence at the ends")
    func silenceAtEnds() {
        var checker = SignalChecker(sampleRate: 1000, channels: 1)
        checker.add([Float](repeating: 0, count: 500))          // 0.5 s of digital silence
        checker.add([Float](repeating: 0.0005, count: 100))    // below -60 dBFS: still silence
        checker.add([0.5, -0.5, 0.5])
        checker.add([Float](repeating: 0, count: 200))
        checker.add([0.25])
        checker.add([Float](repeating: 0.0001, count: 250))
        let report = checker.finish()
        #expect(report.leadingSilenceSeconds == 0.6)
        #expect(report.trailingSilenceSeconds == 0.25)
        #expect(report.clippedRuns == 0)
        #expect(report.warnings.isEmpty)
    }

    @Test("runs of three or more full-scale samples count as clipping; shorter runs and DC are reported as such")
    func clippingAndDC() {
        var checker = SignalChecker(sampleRate: 1000, channels: 2)
        // Left: a run of 4 at +full scale, then 2 (not a run), then 3 at -1. Right: constant 0.01 (a DC offset).
        let left: [Float] = [0, 1, 1, 1, 1, 0, 1, 1, 0, -1, -1, -1, 0]
        checker.add(left.flatMap { [$0, 0.01] })
        let report = checker.finish()
        #expect(report.clippedRuns == 2)
        #expect(report.clippedSamples == 7)
        #expect(abs(report.dcOffset[1] - 0.01) < 1e-6)
        #expect(report.warnings.count == 2)
        #expect(report.warnings[0].contains("clipping"))
        #expect(report.warnings[1].contains("DC offset"))
    }
}
