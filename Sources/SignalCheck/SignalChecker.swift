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

    /// Adds interleaved samples (whole frames).
    public mutating func add(_ samples: [Float]) {
        let count = samples.count / channels
        samples.withUnsafeBufferPointer { buffer in
            for frame in 0..<count {
                var sound = false
                for channel in 0..<channels {
                    let sample = buffer[frame * channels + channel]
                    sums[channel] += Double(sample)
                    let magnitude = abs(sample)
                    peak = max(peak, magnitude)
                    if magnitude >= Self.silenceThreshold { sound = true }
                    if magnitude >= Self.fullScale {
                        runs[channel] += 1
                    } else if runs[channel] > 0 {
                        endRun(channel)
                    }
                }
                if sound {
                    if firstSound == nil { firstSound = frames }
                    lastSound = frames
                }
                frames += 1
            }
        }
    }

    /// The findings for everything added.
    public mutating func finish() -> SignalReport {
        for channel in 0..<channels { endRun(channel) }
        let rate = Double(max(sampleRate, 1))
        let leading = firstSound ?? frames
        let trailing = lastSound.map { frames - 1 - $0 } ?? 0
        return SignalReport(
            clippedRuns: clippedRuns, clippedSamples: clippedSamples,
            dcOffset: sums.map { frames > 0 ? $0 / Double(frames) : 0 }, samplePeak: Double(peak),
            leadingSilenceSeconds: Double(leading) / rate, trailingSilenceSeconds: Double(trailing) / rate
        )
    }

    private mutating func endRun(_ channel: Int) {
        if runs[channel] >= Self.clipRunLength {
            clippedRuns += 1
            clippedSamples += runs[channel]
        }
        runs[channel] = 0
    }
}
