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

/// The two analysis consumers of decoded audio, each run on its own thread like an encoder.
enum AnalysisTasks {
    /// Chromaprint's input, converted as `fpcalc` converts it.
    static let fingerprintFormat = PCMFormat(sampleRate: Fingerprinter.sampleRate, channels: 1, conversion: .fpcalc)

    /// The source's own rate and channels, for loudness, waveform and signal checks.
    static func measurementFormat(_ source: SourceAudioFormat) -> PCMFormat {
        PCMFormat(sampleRate: source.sampleRate, channels: source.channels)
    }

    /// Fingerprints the stream: the full length and the first 120 s. Nil when the queue was cancelled.
    static func fingerprint(
        queue: BoundedQueue<BlockInput>, cpuTokens: DispatchSemaphore
    ) throws -> (full: Fingerprint?, lookup: Fingerprint?)? {
        let full = try Fingerprinter()
        let lookup = try Fingerprinter(limitSeconds: Fingerprinter.lookupSeconds)
        while let input = queue.pop() {
            cpuTokens.wait()
            defer { cpuTokens.signal() }
            switch input {
            case let .audio(buffer):
                try full.feed(buffer.samples)
                if !lookup.isFull { try lookup.feed(buffer.samples) }
            case .end:
                return (try full.finish(), try lookup.finish())
            }
        }
        return nil
    }

    /// Measures loudness and the signal, and writes the waveform files into `directory`. Nil when cancelled.
    static func measure(
        queue: BoundedQueue<BlockInput>, source: SourceAudioFormat, settings: Profile.Analysis, directory: URL,
        cpuTokens: DispatchSemaphore
    ) throws -> (LoudnessMeasurement, SignalReport, WaveformFiles)? {
        let meter = try LoudnessMeter(sampleRate: source.sampleRate, roles: source.channelNames.map(role))
        var checker = SignalChecker(sampleRate: source.sampleRate, channels: source.channels)
        var waveform = WaveformBuilder(
            sampleRate: source.sampleRate, channels: source.channels, pixelsPerSecond: settings.waveformPixelsPerSecond,
            bits: settings.waveformBits, mergeChannels: !settings.waveformSplitChannels
        )
        while let input = queue.pop() {
            cpuTokens.wait()
            defer { cpuTokens.signal() }
            switch input {
            case let .audio(buffer):
                try meter.add(buffer.samples)
                checker.add(buffer.samples)
                waveform.add(buffer.samples)
            case .end:
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
                return (try meter.finish(), checker.finish(), files)
            }
        }
        return nil
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
