import Fingerprint
import Foundation
import Loudness
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import Synchronization

/// A rendition as written for one master.
struct WrittenRendition: Sendable {
    var rung: Profile.Rung
    var settings: EncoderSettings
    var track: SegmentedTrack
    /// The media file or segment folder, relative to the track directory.
    var mediaPath: String
    /// The rendition's HLS media playlist, relative to the track directory.
    var playlistPath: String
    /// Kept from an earlier run (its files carried over) rather than encoded now.
    var reused: Bool
}

/// What a master's pipeline produced, in the track's (still temporary) directory.
struct PipelineOutput: Sendable {
    /// Nil when nothing was decoded (only manifests were written).
    var durationSeconds: Double?
    /// Every rendition of the ladder, encoded now or reused, in ladder order.
    var renditions: [WrittenRendition]
    /// Nil when the profile turns analysis off.
    var analysis: TrackAnalysis?
}

/// What the decoding thread hands to an encoder or analysis thread.
enum BlockInput: Sendable {
    case audio(PCMBuffer)
    /// End of the audio, with the number of samples to present at the consumer's rate.
    case end(presentationSamples: Int64)
}

extension BoundedQueue where Element == BlockInput {
    /// A consumer thread's loop: hands every block to `audio` and the end to `end`, holding one of the run's CPU
    /// tokens while either works (see ``MasterPipeline/cpuTokens``). Nil when the queue was cancelled.
    func consume<Output, Failure: Error>(
        cpuTokens: DispatchSemaphore, audio: (PCMBuffer) throws(Failure) -> Void,
        end: (_ presentationSamples: Int64) throws(Failure) -> Output
    ) throws(Failure) -> Output? {
        while let input = pop() {
            cpuTokens.wait()
            defer { cpuTokens.signal() }
            switch input {
            case let .audio(buffer): try audio(buffer)
            case let .end(presentationSamples): return try end(presentationSamples)
            }
        }
        return nil
    }
}

/// Why a master was turned down: one line naming the file and what to do.
struct Rejection: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// A failure to write into WORK_DIR while packaging a master: not the master's fault, so it stops the run.
struct WriteFailure: Error, Sendable, CustomStringConvertible {
    var path: String
    var description: String
}

/// The first failure of any thread of a master's pipeline, kept typed across threads.
enum PipelineFailure: Error, Sendable {
    case rejected(Rejection)
    case writeFailed(WriteFailure)

    /// Rethrows the failure as what it is.
    func raise() throws -> Never {
        switch self {
        case let .rejected(rejection): throw rejection
        case let .writeFailed(failure): throw failure
        }
    }
}

/// What a master's pipeline is to produce: the whole ladder and analysis for a new master, or, for a track an
/// earlier run made, only what is missing or out of date.
struct PipelineWork: Sendable {
    /// The rungs to encode.
    var rungs: [Profile.Rung]
    /// Renditions an earlier run wrote (files already in the directory), by rung name, for the manifests.
    var reused: [String: SegmentedTrack] = [:]
    var analyse: Bool

    /// Whether the master has to be decoded at all (else only the manifests are written).
    var decodes: Bool { !rungs.isEmpty || analyse }
}

/// Runs one master through the ladder: decodes it once on the calling thread, converts the PCM once per output
/// format, and feeds every encoder and the three analysis tasks (fingerprint; loudness; waveform and signal checks)
/// on their own threads through bounded queues (constant memory whatever the length), each encoder writing its
/// CMAF rendition as it goes. Then writes the HLS and DASH manifests of the whole ladder.
struct MasterPipeline {
    let profile: Profile
    /// Where the renditions and manifests go (a temporary directory the caller renames into place).
    let directory: URL
    /// One token per core, shared by every encoder of the run: an encoder holds one while it encodes a block,
    /// so no more encoders run than there are cores and none is preempted mid-block by another.
    let cpuTokens: DispatchSemaphore
    /// Encrypts every rendition when the protected tier covers the master.
    var protection: ProtectionPlan?
    /// The track's id, from which its key is derived.
    var trackID = ""

    /// Frames per block handed to the encoders (about 6 s; 2 MB of stereo float). An encoder thread then works
    /// for a long stretch between waits: few sleeps and wake-ups (costly on virtual machines) and its state stays
    /// in cache. Measured against blocks of 0.75 s and 3 s: each step up cut CPU and wall time.
    static let blockFrames = 262_144
    /// Blocks waiting per encoder: memory is bounded by blocks, whatever the track length.
    static let queueCapacity = 2

    /// Decodes, validates, encodes, analyses and packages the master `decoder` has open, as far as `work` asks.
    func run(decoder: AudioDecoder, work: PipelineWork, displayPath: String) throws -> PipelineOutput {
        let source = decoder.format
        let settingsOf = { (rung: Profile.Rung) in
            Profile.encoderSettings(
                for: rung, sourceSampleRate: source.sampleRate, sourceChannels: source.channels, sourceBitDepth: source.bitsPerSample
            )
        }
        let reused = profile.ladder.compactMap { rung in
            work.reused[rung.name].map { track in
                WrittenRendition(
                    rung: rung, settings: settingsOf(rung), track: track, mediaPath: Self.mediaPath(of: track, rung: rung),
                    playlistPath: TrackFiles.mediaPlaylist(for: rung.name), reused: true
                )
            }
        }
        guard work.decodes else {
            try writeManifests(reused, displayPath: displayPath)
            return PipelineOutput(durationSeconds: nil, renditions: reused, analysis: nil)
        }
        try validateBeforeDecoding(source, displayPath: displayPath)

        let rungs = work.rungs
        let settings = rungs.map(settingsOf)
        let analysing = work.analyse
        // Consumer formats: one per encoder, then the fingerprint's, the loudness meter's and the signal checks'.
        let formats = settings.map(\.pcmFormat) + (analysing ? [
            AnalysisTasks.fingerprintFormat, AnalysisTasks.loudnessFormat(source), AnalysisTasks.measurementFormat(source),
        ] : [])
        var resamplers: [PCMFormat: Resampler] = [:]
        do {
            for format in Set(formats) {
                resamplers[format] = try Resampler(decoder: decoder, output: format)
            }
        } catch {
            throw Rejection(description: error.description)
        }

        let queues = formats.map { _ in BoundedQueue<BlockInput>(capacity: Self.queueCapacity) }
        let outcome = Mutex<Outcome>(Outcome())
        let cancelAll: @Sendable (PipelineFailure) -> Void = { failure in
            outcome.withLock { if $0.failure == nil { $0.failure = failure } }
            queues.forEach { $0.cancel() }
        }
        let profile = self.profile
        let directory = self.directory
        let cpuTokens = self.cpuTokens
        let (protection, trackID) = (self.protection, self.trackID)
        var tasks: [@Sendable () -> Void] = zip(rungs, settings).enumerated().map { index, pair in
            let (rung, setting) = pair
            let queue = queues[index]
            return {
                do {
                    if let track = try Self.encode(
                        queue: queue, rung: rung, settings: setting, profile: profile, directory: directory,
                        cpuTokens: cpuTokens, encryptor: protection?.encryptor(trackID: trackID, rendition: rung.name)
                    ) {
                        outcome.withLock { $0.tracks[index] = track }
                    }
                } catch let error as SegmenterError {
                    if case let .io(path, _) = error {
                        cancelAll(.writeFailed(WriteFailure(path: path, description: error.description)))
                    } else {
                        cancelAll(.rejected(Rejection(description: error.description)))
                    }
                } catch {
                    cancelAll(.rejected(Rejection(description: "\(displayPath): \(rung.name): \(error)")))
                }
            }
        }
        if analysing {
            let fingerprintQueue = queues[settings.count]
            let loudnessQueue = queues[settings.count + 1]
            let signalQueue = queues[settings.count + 2]
            tasks.append {
                do {
                    if let prints = try AnalysisTasks.fingerprint(queue: fingerprintQueue, cpuTokens: cpuTokens) {
                        outcome.withLock { $0.fingerprints = prints }
                    }
                } catch {
                    cancelAll(.rejected(Rejection(description: "\(displayPath): fingerprint: \(error)")))
                }
            }
            tasks.append {
                do {
                    if let loudness = try AnalysisTasks.loudness(queue: loudnessQueue, source: source, cpuTokens: cpuTokens) {
                        outcome.withLock { $0.loudness = loudness }
                    }
                } catch {
                    cancelAll(.rejected(Rejection(description: "\(displayPath): loudness: \(error)")))
                }
            }
            tasks.append {
                do throws(WriteFailure) {
                    if let measured = try AnalysisTasks.signalAndWaveform(
                        queue: signalQueue, source: source, settings: profile.analysis, directory: directory,
                        cpuTokens: cpuTokens
                    ) {
                        outcome.withLock { $0.signalAndWaveform = measured }
                    }
                } catch {
                    cancelAll(.writeFailed(error))
                }
            }
        }
        let running = startThreads(tasks)

        do {
            try decode(decoder, resamplers: resamplers, formats: formats, queues: queues, displayPath: displayPath)
        } catch {
            cancelAll(.rejected(error))
        }
        running.wait()

        let result = outcome.withLock { $0 }
        try result.failure?.raise()
        let encoded = zip(rungs, settings).enumerated().compactMap { index, pair -> WrittenRendition? in
            guard let track = result.tracks[index] else { return nil }
            return WrittenRendition(
                rung: pair.0, settings: pair.1, track: track, mediaPath: Self.mediaPath(of: track, rung: pair.0),
                playlistPath: TrackFiles.mediaPlaylist(for: pair.0.name), reused: false
            )
        }
        var analysis: TrackAnalysis?
        if analysing {
            guard let prints = result.fingerprints, var loudness = result.loudness,
                  let (signal, waveform) = result.signalAndWaveform else {
                throw Rejection(description: "\(displayPath): an analysis stopped without output (an internal error); please report it")
            }
            // The meter saw the audio at 48 kHz; the master's own samples are what its sample peak is of.
            loudness.samplePeak = signal.samplePeak
            analysis = TrackAnalysis(
                fingerprint: prints.full, lookupFingerprint: prints.lookup, loudness: loudness, signal: signal,
                waveform: waveform
            )
        }
        guard encoded.count == settings.count else {
            throw Rejection(description: "\(displayPath): an encoder stopped without output (an internal error); please report it")
        }
        let all = profile.ladder.compactMap { rung in
            encoded.first { $0.rung == rung } ?? reused.first { $0.rung == rung }
        }
        try writeManifests(all, displayPath: displayPath)
        return PipelineOutput(durationSeconds: decoder.decodedSeconds, renditions: all, analysis: analysis)
    }

    /// The media file (single-file layout) or segment folder of a rendition, relative to the track directory.
    private static func mediaPath(of track: SegmentedTrack, rung: Profile.Rung) -> String {
        track.layout == .singleFile ? track.initializationFile : rung.name
    }

    /// What the consumer threads left behind.
    private struct Outcome: Sendable {
        var failure: PipelineFailure?
        var tracks: [Int: SegmentedTrack] = [:]
        var fingerprints: (full: Fingerprint?, lookup: Fingerprint?)?
        var loudness: LoudnessMeasurement?
        var signalAndWaveform: (SignalReport, WaveformFiles)?
    }

    // MARK: Decoding

    /// Decodes to the end, converting each frame once per format and handing blocks to every consumer of that
    /// format; `formats[i]` is what `queues[i]` takes.
    private func decode(
        _ decoder: AudioDecoder, resamplers: [PCMFormat: Resampler], formats: [PCMFormat],
        queues: [BoundedQueue<BlockInput>], displayPath: String
    ) throws(Rejection) {
        let consumers = Dictionary(grouping: queues.indices, by: { formats[$0] })
        // Consumers get blocks of `blockFrames` rather than every decoded frame (see there).
        var blocks = Dictionary(uniqueKeysWithValues: resamplers.keys.map { ($0, PCMBuffer(format: $0, samples: [])) })
        func deliver(_ buffer: PCMBuffer, flush: Bool) -> Bool {
            var block = blocks[buffer.format] ?? PCMBuffer(format: buffer.format, samples: [])
            block.samples.append(contentsOf: buffer.samples)
            guard flush || block.frameCount >= Self.blockFrames else {
                blocks[buffer.format] = block
                return true
            }
            blocks[buffer.format] = PCMBuffer(format: buffer.format, samples: [])
            guard block.frameCount > 0 else { return true }
            for index in consumers[buffer.format] ?? [] where !queues[index].push(.audio(block)) {
                return false
            }
            return true
        }
        do {
            while let frame = try decoder.nextFrame() {
                for resampler in resamplers.values where !deliver(try resampler.convert(frame), flush: false) {
                    return  // a consumer failed; its error is already recorded
                }
            }
            try validateAfterDecoding(decoder, displayPath: displayPath)
            for resampler in resamplers.values where !deliver(try resampler.flush(), flush: true) {
                return
            }
        } catch let error as MediaError {
            throw Rejection(description: error.description)
        } catch let rejection as Rejection {
            throw rejection
        } catch {
            throw Rejection(description: "\(displayPath): \(error)")
        }
        let sourceRate = Double(decoder.format.sampleRate)
        for (index, queue) in queues.enumerated() {
            let rate = Double(formats[index].sampleRate)
            let samples = Int64((Double(decoder.decodedSampleCount) * rate / sourceRate).rounded())
            queue.push(.end(presentationSamples: samples))
            queue.close()
        }
    }

    private func validateBeforeDecoding(_ source: SourceAudioFormat, displayPath: String) throws(Rejection) {
        let rules = profile.validation
        guard rules.sampleRates.contains(source.sampleRate) else {
            throw Rejection(description: "\(displayPath): sample rate \(source.sampleRate) Hz is outside "
                + "\(rules.sampleRates.lowerBound)-\(rules.sampleRates.upperBound) Hz; resample the master "
                + "or change validation.min_sample_rate/max_sample_rate")
        }
        guard (1...rules.maximumChannels).contains(source.channels) else {
            throw Rejection(description: "\(displayPath): \(source.channels) channels, more than "
                + "\(rules.maximumChannels); supply a stereo mix or raise validation.max_channels")
        }
        if let declared = source.declaredDuration, declared < rules.minimumDuration {
            throw tooShort(declared, displayPath: displayPath)
        }
    }

    private func validateAfterDecoding(_ decoder: AudioDecoder, displayPath: String) throws(Rejection) {
        if decoder.decodedSeconds < profile.validation.minimumDuration {
            throw tooShort(decoder.decodedSeconds, displayPath: displayPath)
        }
        if profile.validation.rejectSilence && !decoder.containsSound {
            throw Rejection(description: "\(displayPath): digital silence from start to end; "
                + "check the export, or set validation.reject_silence = false")
        }
    }

    private func tooShort(_ seconds: Double, displayPath: String) -> Rejection {
        Rejection(description: "\(displayPath): only \(Timecode.format(seconds)) long, shorter than the "
            + "\(profile.validation.minimumDuration) s minimum; supply the full master or lower "
            + "validation.min_duration_seconds (--min-duration)")
    }

    // MARK: Encoding

    /// Encoder thread body; nil when the queue was cancelled.
    private static func encode(
        queue: BoundedQueue<BlockInput>, rung: Profile.Rung, settings: EncoderSettings, profile: Profile,
        directory: URL, cpuTokens: DispatchSemaphore, encryptor: SampleEncryptor?
    ) throws -> SegmentedTrack? {
        let encoder = try AudioEncoder(settings: settings)
        let format = TrackFormat(
            sampleEntry: try sampleEntry(of: encoder), sampleRate: settings.sampleRate, channels: settings.channels,
            frameSize: encoder.frameSize, primingSamples: encoder.primingSamples
        )
        let writer = try CMAFWriter(
            format: format, layout: profile.layout, directory: directory, name: rung.name,
            targetFragmentDuration: profile.fragmentDuration, encryptor: encryptor
        )
        // FLAC's last frame is short; the lossy codecs' packets all count as whole frames (the edit list trims).
        let durations = settings.codec.isLossless
        return try queue.consume(cpuTokens: cpuTokens) { buffer in
            for packet in try encoder.encode(buffer) { try writer.append(packet.data, duration: durations ? packet.duration : nil) }
        } end: { presentationSamples in
            for packet in try encoder.finish() { try writer.append(packet.data, duration: durations ? packet.duration : nil) }
            return try writer.finish(presentationSamples: presentationSamples, sampleEntry: try sampleEntry(of: encoder))
        }
    }

    /// The sample entry of what `encoder` makes, from its codec configuration.
    private static func sampleEntry(of encoder: AudioEncoder) throws -> AudioSampleEntry {
        switch encoder.settings.codec {
        case .aac:
            return .aac(audioSpecificConfig: encoder.codecConfiguration)
        case .opus:
            guard let configuration = OpusConfiguration(opusHead: encoder.codecConfiguration) else {
                throw MediaError.encoding(detail: "libopus returned no OpusHead")
            }
            return .opus(configuration)
        case .flac:
            guard encoder.codecConfiguration.count == 34 else {
                throw MediaError.encoding(detail: "FFmpeg's FLAC encoder returned no STREAMINFO")
            }
            return .flac(streamInfo: encoder.codecConfiguration)
        }
    }

    // MARK: Manifests

    private func writeManifests(_ renditions: [WrittenRendition], displayPath: String) throws(WriteFailure) {
        let packaged = renditions.map { rendition in
            PackagedRendition(
                name: rendition.rung.name, codec: PackagedRendition.Codec(catalogName: rendition.settings.codec.rawValue),
                track: rendition.track
            )
        }
        do {
            // A reused rendition's playlist is already there, hard-linked to the live track's: never write to it.
            for (rendition, package) in zip(renditions, packaged) where !rendition.reused {
                try write(HLSPlaylists.mediaPlaylist(for: package), to: rendition.playlistPath)
            }
            try write(HLSPlaylists.masterPlaylist(for: packaged) { TrackFiles.mediaPlaylist(for: $0.name) }, to: TrackFiles.hlsMaster)
            try write(try DASHManifest.mpd(for: packaged), to: TrackFiles.dashManifest)
        } catch {
            throw WriteFailure(path: directory.path, description: "\(directory.path): cannot write manifests (\(error)); "
                + "check free space and permissions of the work folder")
        }
    }

    private func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }
}

/// Fixed names inside a track's directory.
enum TrackFiles {
    static let hlsMaster = "master.m3u8"

    /// A rendition's HLS media playlist, e.g. `aac-128k.m3u8`.
    static func mediaPlaylist(for renditionName: String) -> String { renditionName + ".m3u8" }
    static let dashManifest = "manifest.mpd"
    /// Waveform peaks, audiowaveform's JSON and binary forms.
    static let waveformJSON = "waveform.json"
    static let waveformData = "waveform.dat"
}
