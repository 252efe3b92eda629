import Fingerprint
import Foundation
import Loudness
import MediaIO
import SignalCheck
import Waveform

/// What the analysis of one master found, from the same decoded audio as its renditions.
struct TrackAnalysis: Sendable {
    /// Nil when the audio is too short for Chromaprint (about 3 s).
    var fingerprint: Fingerprint?
    /// The first 120 s, as `fpcalc` computes by default and AcoustID looks up.
    var lookupFingerprint: Fingerprint?
    var loudness: LoudnessMeasurement
    var signal: SignalReport
    var waveform: WaveformFiles
}

/// How the waveform files (``TrackFiles/waveformJSON``, ``TrackFiles/waveformData``) were made.
struct WaveformFiles: Sendable {
    var pixelsPerSecond: Int
    var samplesPerPixel: Int
    var bits: Int
    var channels: Int
}

/// The three analysis consumers of decoded audio, each run on its own thread like an encoder.
enum AnalysisTasks {
    /// Chromaprint's input, converted as `fpcalc` converts it.
    static let fingerprintFormat = PCMFormat(sampleRate: Fingerprinter.sampleRate, channels: 1, conversion: .fpcalc)

    /// The source's own rate and channels, for the waveform and signal checks.
    static func measurementFormat(_ source: SourceAudioFormat) -> PCMFormat {
        PCMFormat(sampleRate: source.sampleRate, channels: source.channels)
    }

    /// The source's channels at 48 kHz, for loudness. BS.1770 defines the K-weighting filter by its coefficients
    /// at 48 kHz; libebur128 derives the filter for other rates from an analog prototype, which departs from that
    /// definition (+0.05 dB at 22.05 kHz, +0.4 dB at 8 kHz, -0.03 dB at 192 kHz: docs/loudness-at-any-rate.md), and
    /// so does FFmpeg 5.1's `ebur128` filter, which runs at the source rate. Measured at 48 kHz, the filter is the
    /// standard's own at every rate.
    static func loudnessFormat(_ source: SourceAudioFormat) -> PCMFormat {
        PCMFormat(sampleRate: loudnessSampleRate, channels: source.channels)
    }

    /// The one rate BS.1770 gives K-weighting coefficients for.
    static let loudnessSampleRate = 48_000

    /// Fingerprints the stream: the full length and the first 120 s. Nil when the queue was cancelled.
    static func fingerprint(
        queue: BoundedQueue<BlockInput>, cpuTokens: DispatchSemaphore
    ) throws -> (full: Fingerprint?, lookup: Fingerprint?)? {
        let full = try Fingerprinter()
        let lookup = try Fingerprinter(limitSeconds: Fingerprinter.lookupSeconds)
        return try queue.consume(cpuTokens: cpuTokens) { buffer in
            try full.feed(buffer.samples)
            if !lookup.isFull { try lookup.feed(buffer.samples) }
        } end: { _ in
            (try full.finish(), try lookup.finish())
        }
    }

    /// Measures EBU R128 loudness from audio in ``loudnessFormat(_:)``. Nil when cancelled.
    static func loudness(
        queue: BoundedQueue<BlockInput>, source: SourceAudioFormat, cpuTokens: DispatchSemaphore
    ) throws -> LoudnessMeasurement? {
        let meter = try LoudnessMeter(sampleRate: loudnessSampleRate, roles: source.channelNames.map(role))
        return try queue.consume(cpuTokens: cpuTokens) { buffer in
            try meter.add(buffer.samples)
        } end: { _ in
            try meter.finish()
        }
    }

    /// Checks the signal and writes the waveform files into `directory`, from audio at the source's own rate.
    /// Nil when cancelled.
    static func signalAndWaveform(
        queue: BoundedQueue<BlockInput>, source: SourceAudioFormat, settings: Profile.Analysis, directory: URL,
        cpuTokens: DispatchSemaphore
    ) throws(WriteFailure) -> (SignalReport, WaveformFiles)? {
        var checker = SignalChecker(sampleRate: source.sampleRate, channels: source.channels)
        var waveform = WaveformBuilder(
            sampleRate: source.sampleRate, channels: source.channels, pixelsPerSecond: settings.waveformPixelsPerSecond,
            bits: settings.waveformBits, mergeChannels: !settings.waveformSplitChannels
        )
        return try queue.consume(cpuTokens: cpuTokens) { (buffer: PCMBuffer) throws(WriteFailure) in
            checker.add(buffer.samples)
            waveform.add(buffer.samples)
        } end: { (_: Int64) throws(WriteFailure) -> (SignalReport, WaveformFiles) in
            let data = waveform.finish()
            do {
                try data.json.write(to: directory.appendingPathComponent(TrackFiles.waveformJSON))
                try data.binary.write(to: directory.appendingPathComponent(TrackFiles.waveformData))
            } catch {
                throw WriteFailure(path: directory.path, description: "\(directory.path): cannot write the "
                    + "waveform (\(error.localizedDescription)); check free space and permissions of the work folder")
            }
            let files = WaveformFiles(
                pixelsPerSecond: settings.waveformPixelsPerSecond, samplesPerPixel: data.samplesPerPixel,
                bits: data.bits, channels: data.channels
            )
            return (checker.finish(), files)
        }
    }

    /// How BS.1770 weighs a channel FFmpeg names: surrounds +1.5 dB, LFE not at all, others (front, centre) 1.
    static func role(_ channelName: String) -> ChannelRole {
        switch channelName {
        case "FL": .left
        case "FR": .right
        case "LFE", "LFE2": .unused
        case "BL", "SL": .leftSurround
        case "BR", "SR": .rightSurround
        default: .center
        }
    }
}
