import Foundation

/// What a master's signal shows that a content owner may want to fix or know: clipping, DC offset, and silence
/// at the ends (which gapless playback and crossfades need to know).
public struct SignalReport: Sendable, Equatable {
    /// Runs of at least ``SignalChecker/clipRunLength`` consecutive full-scale samples in one channel.
    public var clippedRuns: Int
    /// Samples inside those runs.
    public var clippedSamples: Int
    /// Mean of each channel, as a fraction of full scale.
    public var dcOffset: [Double]
    /// Highest sample magnitude, linear (1.0 = full scale), at the master's own rate.
    public var samplePeak: Double
    /// Silence (every channel below ``SignalChecker/silenceThreshold``) at the start and the end, in seconds.
    public var leadingSilenceSeconds: Double
    public var trailingSilenceSeconds: Double

    /// One line per finding worth a warning.
    public var warnings: [String] {
        var warnings: [String] = []
        if clippedRuns > 0 {
            warnings.append("clipping: \(clippedRuns) run\(clippedRuns == 1 ? "" : "s") of full-scale samples "
                + "(\(clippedSamples) samples); check the master's level")
        }
        if let worst = dcOffset.map(abs).max(), worst >= SignalChecker.dcOffsetWarning {
            warnings.append("DC offset of \(String(format: "%.2f", worst * 100)) % of full scale; "
                + "apply a high-pass filter to the master")
        }
        return warnings
    }
}

/// Accumulates ``SignalReport`` from interleaved float samples fed in pieces, in constant memory.
public struct SignalChecker: Sendable {
    /// A sample at or beyond this magnitude counts as full scale (the largest 16-bit value, 32767/32768).
    public static let fullScale: Float = 32767.0 / 32768.0
    /// Consecutive full-scale samples that count as clipping (fewer happen in loud, unclipped masters).
    public static let clipRunLength = 3
    /// -60 dBFS: quieter counts as silence.
    public static let silenceThreshold: Float = 0.001
    /// A channel mean from this fraction of full scale up (-60 dBFS) is reported.
    public static let dcOffsetWarning = 0.001

    public let sampleRate: Int
    public let channels: Int
    private var sums: [Double]
    private var runs: [Int]
    private var clippedRuns = 0
    private var clippedSamples = 0
    private var peak: Float = 0
    private var frames = 0
    private var firstSound: Int?
    private var lastSound: Int?

    public init(sampleRate: Int, channels: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
        sums = Array(repeating: 0, count: channels)
        runs = Array(repeating: 0, count: channels)
    }

    /// Adds interleaved samples (whole frames). Each channel is walked on its own with its tallies in locals, and
    /// silence is looked for only where it can still change the findings: from the start until the first sound,
    /// and from the end back to the last.
    public mutating func add(_ samples: [Float]) {
        let count = samples.count / channels
        guard count > 0 else { return }
        samples.withUnsafeBufferPointer { buffer in
            for channel in 0..<channels {
                var sum = 0.0
                var channelPeak = peak
                var run = runs[channel]
                var index = channel
                for _ in 0..<count {
                    let magnitude = abs(buffer[index])
                    sum += Double(buffer[index])
                    channelPeak = max(channelPeak, magnitude)
                    if magnitude >= Self.fullScale {
                        run += 1
                    } else if run > 0 {
                        endRun(length: run)
                        run = 0
                    }
                    index += channels
                }
                sums[channel] += sum
                runs[channel] = run
                peak = channelPeak
            }
            func hasSound(_ frame: Int) -> Bool {
                (0..<channels).contains { abs(buffer[frame * channels + $0]) >= Self.silenceThreshold }
            }
            if firstSound == nil, let first = (0..<count).first(where: hasSound) {
                firstSound = frames + first
            }
            if let last = (0..<count).reversed().first(where: hasSound) {
                lastSound = frames + last
            }
        }
        frames += count
    }

    /// The findings for everything added.
    public mutating func finish() -> SignalReport {
        for channel in 0..<channels {
            endRun(length: runs[channel])
            runs[channel] = 0
        }
        let rate = Double(max(sampleRate, 1))
        let leading = firstSound ?? frames
        let trailing = lastSound.map { frames - 1 - $0 } ?? 0
        return SignalReport(
            clippedRuns: clippedRuns, clippedSamples: clippedSamples,
            dcOffset: sums.map { frames > 0 ? $0 / Double(frames) : 0 }, samplePeak: Double(peak),
            leadingSilenceSeconds: Double(leading) / rate, trailingSilenceSeconds: Double(trailing) / rate
        )
    }

    /// Counts a run of full-scale samples that just ended, if it is long enough to be clipping.
    private mutating func endRun(length: Int) {
        guard length >= Self.clipRunLength else { return }
        clippedRuns += 1
        clippedSamples += length
    }
}
