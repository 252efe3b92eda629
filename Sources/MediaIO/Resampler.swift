internal import CFFmpeg

/// Interleaved 32-bit float PCM at a given rate and channel count: the one format decoded audio is handed on in.
public struct PCMFormat: Hashable, Sendable, CustomStringConvertible {
    public var sampleRate: Int
    /// The source's channel count keeps its layout; a smaller count is a downmix to mono (1) or stereo (2).
    public var channels: Int
    public var conversion: Conversion

    /// How libswresample is set up.
    public enum Conversion: Hashable, Sendable {
        /// swresample's defaults, in float throughout.
        case standard
        /// The settings of Chromaprint's `fpcalc` (a 16-tap filter with linear interpolation and cutoff 0.8,
        /// libswresample's own choice of internal sample format, 16-bit output rounded by libswresample), so a
        /// fingerprint matches fpcalc's bit for bit. Every value is a 16-bit sample / 32768.
        case fpcalc
    }

    public init(sampleRate: Int, channels: Int, conversion: Conversion = .standard) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.conversion = conversion
    }

    public var description: String {
        let layout = switch channels {
        case 1: "mono"
        case 2: "stereo"
        default: "\(channels) channels"
        }
        return "\(sampleRate) Hz \(layout)" + (conversion == .fpcalc ? " (fpcalc conversion)" : "")
    }
}

/// A block of interleaved float samples.
public struct PCMBuffer: Sendable {
    public let format: PCMFormat
    public var samples: [Float]

    public init(format: PCMFormat, samples: [Float]) {
        self.format = format
        self.samples = samples
    }

    /// Samples per channel.
    public var frameCount: Int { samples.count / format.channels }
}

/// Converts decoded frames to one ``PCMFormat`` with libswresample: sample format, rate, and a downmix to mono or
/// stereo (FFmpeg's standard matrix) when the format asks for fewer channels than the source has. One instance per
/// output format per master.
public final class Resampler {
    public let output: PCMFormat
    private var context: OpaquePointer?

    /// Prepares a conversion from what `decoder` produces to `output`.
    public init(decoder: AudioDecoder, output: PCMFormat) throws(MediaError) {
        self.output = output
        guard let input = decoder.decodedLayout else {
            throw .encoding(detail: "resampler for \(decoder.path): the decoder is closed")
        }
        var inputLayout = AVChannelLayout()
        defer { av_channel_layout_uninit(&inputLayout) }
        if input.layout.order == AV_CHANNEL_ORDER_UNSPEC {
            av_channel_layout_default(&inputLayout, input.layout.nb_channels)
        } else {
            var source = input.layout
            guard av_channel_layout_copy(&inputLayout, &source) >= 0 else {
                throw .encoding(detail: "resampler for \(decoder.path): cannot copy the channel layout")
            }
        }
        var outputLayout = AVChannelLayout()
        defer { av_channel_layout_uninit(&outputLayout) }
        if output.channels == Int(inputLayout.nb_channels) {
            guard av_channel_layout_copy(&outputLayout, &inputLayout) >= 0 else {
                throw .encoding(detail: "resampler for \(decoder.path): cannot copy the channel layout")
            }
        } else {
            outputLayout = output.channels == 1 ? musikk_channel_layout_mono() : musikk_channel_layout_stereo()
        }
        let result = swr_alloc_set_opts2(
            &context, &outputLayout, output.conversion == .fpcalc ? AV_SAMPLE_FMT_S16 : AV_SAMPLE_FMT_FLT,
            Int32(output.sampleRate),
            &inputLayout, input.format, input.sampleRate, 0, nil
        )
        guard result >= 0, context != nil else {
            throw .encoding(detail: "resampler for \(decoder.path): \(ffmpegErrorText(result))")
        }
        if output.conversion == .fpcalc {
            // chromaprint/src/audio/ffmpeg_audio_processor_swresample.h, SetCompatibleMode().
            let options: [(String, Int64)] = [
                ("resampler", Int64(SWR_ENGINE_SWR.rawValue)), ("filter_size", 16), ("phase_shift", 8),
                ("linear_interp", 1),
            ]
            for (name, value) in options where av_opt_set_int(UnsafeMutableRawPointer(context), name, value, 0) < 0 {
                throw .encoding(detail: "resampler for \(decoder.path): cannot set \(name)")
            }
            guard av_opt_set_double(UnsafeMutableRawPointer(context), "cutoff", 0.8, 0) >= 0 else {
                throw .encoding(detail: "resampler for \(decoder.path): cannot set cutoff")
            }
        }
        let initResult = swr_init(context)
        guard initResult >= 0 else {
            throw .encoding(detail: "resampler for \(decoder.path) to \(output): \(ffmpegErrorText(initResult))")
        }
    }

    deinit { swr_free(&context) }

    /// Converts one decoded frame. The result may hold fewer or more samples than the frame (resampler delay).
    public func convert(_ frame: DecodedFrame) throws(MediaError) -> PCMBuffer {
        let input = UnsafeMutableRawPointer(frame.frame.pointee.extended_data)?
            .assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        return try run(input: input, count: Int32(frame.sampleCount))
    }

    /// Returns the samples still held in the resampler's delay line, at the end of the stream.
    public func flush() throws(MediaError) -> PCMBuffer {
        try run(input: nil, count: 0)
    }

    private func run(input: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, count: Int32) throws(MediaError) -> PCMBuffer {
        let capacity = Int(swr_get_out_samples(context, count))
        guard capacity > 0 else { return PCMBuffer(format: output, samples: []) }
        switch output.conversion {
        case .standard:
            var samples = [Float](repeating: 0, count: capacity * output.channels)
            let produced = try convert(input: input, count: count, into: &samples, capacity: capacity)
            samples.removeLast((capacity - produced) * output.channels)
            return PCMBuffer(format: output, samples: samples)
        case .fpcalc:
            var samples = [Int16](repeating: 0, count: capacity * output.channels)
            let produced = try convert(input: input, count: count, into: &samples, capacity: capacity)
            return PCMBuffer(format: output, samples: samples.prefix(produced * output.channels).map { Float($0) / 32768 })
        }
    }

    /// Runs swr_convert into `samples` (interleaved, room for `capacity` frames); returns the frames written.
    private func convert<Sample>(
        input: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, count: Int32, into samples: inout [Sample], capacity: Int
    ) throws(MediaError) -> Int {
        let produced = samples.withUnsafeMutableBytes { raw -> Int32 in
            var plane: UnsafeMutablePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return swr_convert(context, &plane, Int32(capacity), input, count)
        }
        guard produced >= 0 else { throw .encoding(detail: "resampling to \(output): \(ffmpegErrorText(produced))") }
        return Int(produced)
    }
}
