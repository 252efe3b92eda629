internal import CEBUR128
import Foundation

/// Why a loudness measurement failed.
public struct LoudnessError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// How a channel counts in EBU R128 / ITU-R BS.1770 loudness.
public enum ChannelRole: Sendable, Equatable {
    case left, right, center
    /// Surround channels weigh +1.5 dB.
    case leftSurround, rightSurround
    /// Left out of the measurement (the LFE channel).
    case unused
}

/// The linked libebur128, e.g. `libebur128 1.2.6`: part of a measurement's provenance.
public var loudnessLibraryVersion: String {
    var (major, minor, patch): (Int32, Int32, Int32) = (0, 0, 0)
    ebur128_get_version(&major, &minor, &patch)
    return "libebur128 \(major).\(minor).\(patch)"
}

/// EBU R128 loudness of one track, with what ReplayGain 2.0 derives from it.
public struct LoudnessMeasurement: Sendable, Equatable {
    /// Integrated (gated) loudness in LUFS; nil when every block is below the -70 LUFS gate (silence).
    public var integratedLUFS: Double?
    /// Loudness range in LU.
    public var rangeLU: Double
    /// Highest sample, linear (1.0 = full scale).
    public var samplePeak: Double
    /// Highest true (inter-sample) peak, linear.
    public var truePeak: Double
    /// The 400 ms gating blocks, kept so an album's loudness can be computed later from its tracks.
    public var blocks: GatingBlocks

    /// ReplayGain 2.0's reference loudness.
    public static let replayGainReference = -18.0

    public init(integratedLUFS: Double?, rangeLU: Double, samplePeak: Double, truePeak: Double, blocks: GatingBlocks) {
        self.integratedLUFS = integratedLUFS
        self.rangeLU = rangeLU
        self.samplePeak = samplePeak
        self.truePeak = truePeak
        self.blocks = blocks
    }

    /// Sample peak in dBFS.
    public var samplePeakDBFS: Double { Self.decibels(samplePeak) }
    /// True peak in dBTP.
    public var truePeakDBTP: Double { Self.decibels(truePeak) }
    /// ReplayGain 2.0 track gain: the change that brings the track to -18 LUFS; nil for silence.
    public var trackGainDB: Double? { integratedLUFS.map { Self.replayGainReference - $0 } }

    static func decibels(_ linear: Double) -> Double { linear > 0 ? 20 * log10(linear) : -.infinity }
}

/// Measures loudness with libebur128 (integrated, range, sample and true peak), fed interleaved float samples.
/// Memory stays constant: libebur128 keeps a histogram of blocks, and ``GatingBlocks`` one too.
///
/// An instance is not thread-safe; confine it to one thread.
public final class LoudnessMeter {
    public let sampleRate: Int
    public let channels: Int
    private var state: UnsafeMutablePointer<ebur128_state>?
    /// Frames per 100 ms step, as libebur128 counts them: one gating block ends after each step.
    private let stepFrames: Int
    /// Samples not yet fed, fewer than one step.
    private var pending: [Float] = []
    private var stepsFed = 0
    private var blocks = GatingBlocks()

    /// - Parameter roles: one per channel, in order.
    public init(sampleRate: Int, roles: [ChannelRole]) throws(LoudnessError) {
        self.sampleRate = sampleRate
        self.channels = roles.count
        stepFrames = (sampleRate + 5) / 10
        let mode = musikk_ebur128_mode_all() | Int32(EBUR128_MODE_HISTOGRAM.rawValue)
        guard !roles.isEmpty, sampleRate > 0,
              let state = ebur128_init(UInt32(roles.count), UInt(sampleRate), mode) else {
            throw LoudnessError(description: "libebur128 cannot measure \(roles.count) channels at \(sampleRate) Hz")
        }
        self.state = state
        for (index, role) in roles.enumerated() {
            guard ebur128_set_channel(state, UInt32(index), Self.channelCode(role)) == Int32(EBUR128_SUCCESS.rawValue) else {
                throw LoudnessError(description: "libebur128 refused channel \(index)")
            }
        }
    }

    deinit { ebur128_destroy(&state) }

    /// Adds interleaved samples (any count of whole frames).
    public func add(_ samples: [Float]) throws(LoudnessError) {
        let step = stepFrames * channels
        var start = 0
        // Complete a step left over from the last call, then feed whole steps straight from `samples`.
        if !pending.isEmpty {
            start = min(step - pending.count, samples.count)
            pending.append(contentsOf: samples[..<start])
            guard pending.count == step else { return }
            try feed(pending[...])
            pending.removeAll(keepingCapacity: true)
        }
        while samples.count - start >= step {
            try feed(samples[start..<(start + step)])
            start += step
        }
        pending.append(contentsOf: samples[start...])
    }

    /// Feeds what is left and returns the measurement.
    public func finish() throws(LoudnessError) -> LoudnessMeasurement {
        if !pending.isEmpty {
            try feed(pending[...])
            pending.removeAll()
        }
        var integrated = 0.0, range = 0.0
        try check(ebur128_loudness_global(state, &integrated), "integrated loudness")
        try check(ebur128_loudness_range(state, &range), "loudness range")
        var samplePeak = 0.0, truePeak = 0.0
        for channel in 0..<channels {
            var peak = 0.0
            try check(ebur128_sample_peak(state, UInt32(channel), &peak), "sample peak")
            samplePeak = max(samplePeak, peak)
            try check(ebur128_true_peak(state, UInt32(channel), &peak), "true peak")
            truePeak = max(truePeak, peak)
        }
        return LoudnessMeasurement(
            integratedLUFS: integrated.isFinite ? integrated : nil, rangeLU: range.isFinite ? range : 0,
            samplePeak: samplePeak, truePeak: truePeak, blocks: blocks
        )
    }

    /// Feeds at most one 100 ms step; after a whole step from the fourth on, the momentary loudness is the loudness
    /// of the 400 ms gating block that just ended.
    private func feed(_ samples: ArraySlice<Float>) throws(LoudnessError) {
        let frames = samples.count / channels
        let result = samples.withUnsafeBufferPointer { ebur128_add_frames_float(state, $0.baseAddress, frames) }
        try check(result, "adding audio")
        guard frames == stepFrames else { return }
        stepsFed += 1
        guard stepsFed >= 4 else { return }
        var momentary = 0.0
        try check(ebur128_loudness_momentary(state, &momentary), "momentary loudness")
        blocks.add(loudness: momentary)
    }

    private func check(_ result: Int32, _ what: String) throws(LoudnessError) {
        guard result == Int32(EBUR128_SUCCESS.rawValue) else {
            throw LoudnessError(description: "libebur128 failed computing \(what) (error \(result))")
        }
    }

    private static func channelCode(_ role: ChannelRole) -> Int32 {
        let code = switch role {
        case .left: EBUR128_LEFT
        case .right: EBUR128_RIGHT
        case .center: EBUR128_CENTER
        case .leftSurround: EBUR128_LEFT_SURROUND
        case .rightSurround: EBUR128_RIGHT_SURROUND
        case .unused: EBUR128_UNUSED
        }
        return Int32(code.rawValue)
    }
}
