internal import CFFmpeg

/// The delivery codecs of the ladder.
public enum AudioCodec: String, Sendable, Codable, CaseIterable {
    /// AAC-LC with FFmpeg's native `aac` encoder.
    case aac
    /// Opus with libopus.
    case opus
    /// FLAC with FFmpeg's native encoder: the lossless tier.
    case flac

    var encoderName: String {
        switch self {
        case .aac: "aac"
        case .opus: "libopus"
        case .flac: "flac"
        }
    }

    /// Whether the codec gives back exactly the samples it was given.
    public var isLossless: Bool { self == .flac }
}

/// One rung of the ladder: what an encoder is asked to produce.
public struct EncoderSettings: Hashable, Sendable, Codable, CustomStringConvertible {
    public var codec: AudioCodec
    /// Target bit rate in bits per second.
    public var bitrate: Int
    public var sampleRate: Int
    public var channels: Int
    /// Bits per sample a lossless codec stores (16 or 24); 0 for lossy codecs, which take float.
    public var bitDepth: Int

    public init(codec: AudioCodec, bitrate: Int, sampleRate: Int, channels: Int, bitDepth: Int = 0) {
        self.codec = codec
        self.bitrate = bitrate
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitDepth = bitDepth
    }

    public var pcmFormat: PCMFormat { PCMFormat(sampleRate: sampleRate, channels: channels) }
    public var description: String {
        codec.isLossless ? "\(codec.rawValue) \(bitDepth)-bit \(pcmFormat)" : "\(codec.rawValue) \(bitrate / 1000) kb/s \(pcmFormat)"
    }
}

/// One encoded access unit.
public struct EncodedPacket: Sendable {
    public var data: [UInt8]
    /// Samples it decodes to: ``AudioEncoder/frameSize``, or fewer for FLAC's last frame.
    public var duration: Int
}

/// Encodes float PCM with an FFmpeg encoder in bit-exact mode, cutting the input into the encoder's frame size.
/// An instance is not thread-safe; confine it to one thread.
public final class AudioEncoder {
    public let settings: EncoderSettings
    /// Samples per channel in each packet (1024 for AAC, 960 for Opus at 20 ms).
    public private(set) var frameSize: Int
    /// Samples the encoder adds in front of the audio (AAC priming, Opus pre-skip).
    public private(set) var primingSamples: Int
    /// Codec configuration: the AudioSpecificConfig for AAC, the OpusHead for Opus, FLAC's STREAMINFO (after
    /// ``finish()``, with the stream's MD5 and length).
    public private(set) var codecConfiguration: [UInt8]

    private var context: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let planar: Bool
    private let sampleFormat: AVSampleFormat
    private var pending: [Float] = []
    private var pendingStart = 0
    private var samplesSent: Int64 = 0

    public init(settings: EncoderSettings) throws(MediaError) {
        self.settings = settings
        guard let codec = avcodec_find_encoder_by_name(settings.codec.encoderName) else {
            throw .encoding(detail: "FFmpeg has no '\(settings.codec.encoderName)' encoder")
        }
        context = avcodec_alloc_context3(codec)
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        planar = settings.codec == .aac
        sampleFormat = switch settings.codec {
        case .aac: AV_SAMPLE_FMT_FLTP
        case .opus: AV_SAMPLE_FMT_FLT
        case .flac: settings.bitDepth > 16 ? AV_SAMPLE_FMT_S32 : AV_SAMPLE_FMT_S16
        }
        frameSize = 0
        primingSamples = 0
        codecConfiguration = []
        guard let context, let frame, packet != nil else { throw .encoding(detail: "out of memory for \(settings)") }

        context.pointee.sample_fmt = sampleFormat
        context.pointee.sample_rate = Int32(settings.sampleRate)
        context.pointee.time_base = AVRational(num: 1, den: Int32(settings.sampleRate))
        context.pointee.bit_rate = Int64(settings.bitrate)
        if settings.codec.isLossless { context.pointee.bits_per_raw_sample = Int32(settings.bitDepth) }
        context.pointee.flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_GLOBAL_HEADER
        var layout = AVChannelLayout()
        defer { av_channel_layout_uninit(&layout) }
        switch settings.channels {
        case 1: layout = musikk_channel_layout_mono()
        case 2: layout = musikk_channel_layout_stereo()
        default: av_channel_layout_default(&layout, Int32(settings.channels))
        }
        guard av_channel_layout_copy(&context.pointee.ch_layout, &layout) >= 0 else {
            throw .encoding(detail: "\(settings): cannot set the channel layout")
        }
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else { throw .encoding(detail: "opening \(settings): \(ffmpegErrorText(opened))") }

        frameSize = Int(context.pointee.frame_size)
        primingSamples = Int(context.pointee.initial_padding)
        if let extradata = context.pointee.extradata, context.pointee.extradata_size > 0 {
            codecConfiguration = Array(UnsafeBufferPointer(start: extradata, count: Int(context.pointee.extradata_size)))
        }
        guard frameSize > 0 else { throw .encoding(detail: "\(settings): the encoder reports no frame size") }

        frame.pointee.nb_samples = Int32(frameSize)
        frame.pointee.format = context.pointee.sample_fmt.rawValue
        frame.pointee.sample_rate = context.pointee.sample_rate
        guard av_channel_layout_copy(&frame.pointee.ch_layout, &context.pointee.ch_layout) >= 0 else {
            throw .encoding(detail: "\(settings): cannot set the frame's channel layout")
        }
        let allocated = av_frame_get_buffer(frame, 0)
        guard allocated >= 0 else { throw .encoding(detail: "\(settings): \(ffmpegErrorText(allocated))") }
    }

    deinit {
        avcodec_free_context(&context)
        av_frame_free(&frame)
        av_packet_free(&packet)
    }

    /// Queues `buffer` and returns the packets for every whole frame now available.
    public func encode(_ buffer: PCMBuffer) throws(MediaError) -> [EncodedPacket] {
        precondition(buffer.format == settings.pcmFormat, "buffer format \(buffer.format) does not match \(settings)")
        pending.append(contentsOf: buffer.samples)
        var packets: [EncodedPacket] = []
        let frameSamples = frameSize * settings.channels
        while pending.count - pendingStart >= frameSamples {
            try send(sampleCount: frameSize, into: &packets)
        }
        if pendingStart > 0 && pendingStart >= pending.count / 2 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        return packets
    }

    /// Encodes what is left (a short last frame) and drains the encoder.
    public func finish() throws(MediaError) -> [EncodedPacket] {
        var packets: [EncodedPacket] = []
        let remaining = (pending.count - pendingStart) / settings.channels
        if remaining > 0 { try send(sampleCount: remaining, into: &packets) }
        let sent = avcodec_send_frame(context, nil)
        guard sent >= 0 else { throw .encoding(detail: "flushing \(settings): \(ffmpegErrorText(sent))") }
        try receive(into: &packets)
        return packets
    }

    private func send(sampleCount: Int, into packets: inout [EncodedPacket]) throws(MediaError) {
        guard let context, let frame else { return }
        let writable = av_frame_make_writable(frame)
        guard writable >= 0 else { throw .encoding(detail: "\(settings): \(ffmpegErrorText(writable))") }
        frame.pointee.nb_samples = Int32(sampleCount)
        frame.pointee.pts = samplesSent
        let channels = settings.channels
        pending.withUnsafeBufferPointer { source in
            let start = pendingStart
            let count = sampleCount * channels
            if sampleFormat == AV_SAMPLE_FMT_S16, let plane = frame.pointee.extended_data[0] {
                let destination = UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Int16.self)
                for index in 0..<count { destination[index] = Self.integer(source[start + index], bits: 16) }
            } else if sampleFormat == AV_SAMPLE_FMT_S32, let plane = frame.pointee.extended_data[0] {
                // 24-bit audio sits in the high bits; the encoder drops the low 8, which are 0 for 24-bit sources.
                let destination = UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Int32.self)
                for index in 0..<count { destination[index] = Self.integer(source[start + index], bits: 32) }
            } else if planar {
                for channel in 0..<channels {
                    guard let plane = frame.pointee.extended_data[channel] else { continue }
                    let destination = UnsafeMutableRawPointer(plane).assumingMemoryBound(to: Float.self)
                    for index in 0..<sampleCount {
                        destination[index] = source[start + index * channels + channel]
                    }
                }
            } else if let plane = frame.pointee.extended_data[0], let base = source.baseAddress {
                UnsafeMutableRawPointer(plane).copyMemory(
                    from: base + start, byteCount: sampleCount * channels * MemoryLayout<Float>.size
                )
            }
        }
        pendingStart += sampleCount * channels
        samplesSent += Int64(sampleCount)
        let sent = avcodec_send_frame(context, frame)
        guard sent >= 0 else { throw .encoding(detail: "encoding \(settings): \(ffmpegErrorText(sent))") }
        try receive(into: &packets)
    }

    /// A float sample as a signed integer of `bits` (16 or 32), clipped: exact for samples that came from integers
    /// of at most 24 bits, which a Float holds without rounding.
    static func integer<Sample: FixedWidthInteger>(_ sample: Float, bits: Int) -> Sample {
        let scaled = (Double(sample) * Double(1 << (bits - 1))).rounded()
        return Sample(clamping: Int64(max(-9.0e18, min(9.0e18, scaled.isFinite ? scaled : 0))))
    }

    private func receive(into packets: inout [EncodedPacket]) throws(MediaError) {
        guard let context, let packet else { return }
        while true {
            let result = avcodec_receive_packet(context, packet)
            if result == musikk_averror_eagain() || result == musikk_averror_eof() { return }
            guard result >= 0 else { throw .encoding(detail: "encoding \(settings): \(ffmpegErrorText(result))") }
            defer { av_packet_unref(packet) }
            // FLAC's last word is its STREAMINFO with the stream's MD5 and length, as side data of an empty packet.
            // (The context's extradata is no substitute: FFmpeg 5.1 finalises the MD5 again on the next call and
            // writes a wrong one there.)
            var size = 0
            if let extradata = av_packet_get_side_data(packet, AV_PKT_DATA_NEW_EXTRADATA, &size), size > 0 {
                codecConfiguration = Array(UnsafeBufferPointer(start: extradata, count: size))
            }
            guard let data = packet.pointee.data, packet.pointee.size > 0 else { continue }
            let duration = packet.pointee.duration > 0 ? Int(clamping: packet.pointee.duration) : frameSize
            packets.append(EncodedPacket(
                data: Array(UnsafeBufferPointer(start: data, count: Int(packet.pointee.size))), duration: min(duration, frameSize)
            ))
        }
    }
}
