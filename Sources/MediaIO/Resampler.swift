internal import CFFmpeg

/// Interleaved 32-bit float PCM at a given rate and channel count: the one format decoded audio is handed on in.
public struct PCMFormat: Hashable, Sendable, CustomStringConvertible {
    public var sampleRate: Int
    /// 1 (mono) or 2 (stereo).
    public var channels: Int

    public init(sampleRate: Int, channels: Int) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    public var description: String { "\(sampleRate) Hz \(channels == 1 ? "mono" : "stereo")" }
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

/// Converts decoded frames to one ``PCMFormat`` with libswresample: sample format, rate, and a downmix of more
/// than two channels to stereo (FFmpeg's standard matrix). One instance per output format per master.
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
        var outputLayout = output.channels == 1 ? musikk_channel_layout_mono() : musikk_channel_layout_stereo()
        let result = swr_alloc_set_opts2(
            &context, &outputLayout, AV_SAMPLE_FMT_FLT, Int32(output.sampleRate),
            &inputLayout, input.format, input.sampleRate, 0, nil
        )
        guard result >= 0, context != nil else {
            throw .encoding(detail: "resampler for \(decoder.path): \(ffmpegErrorText(result))")
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
        var samples = [Float](repeating: 0, count: capacity * output.channels)
        let produced = samples.withUnsafeMutableBytes { raw -> Int32 in
            var plane: UnsafeMutablePointer<UInt8>? = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return swr_convert(context, &plane, Int32(capacity), input, count)
        }
        guard produced >= 0 else { throw .encoding(detail: "resampling to \(output): \(ffmpegErrorText(produced))") }
        samples.removeLast((capacity - Int(produced)) * output.channels)
        return PCMBuffer(format: output, samples: samples)
    }
}
