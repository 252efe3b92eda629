internal import CFFmpeg
import Foundation

/// What the container and codec say about the audio stream chosen from a file.
public struct SourceAudioFormat: Sendable, Equatable {
    /// Container, as FFmpeg names its demuxer (e.g. `flac`, `mov,mp4,m4a,3gp,3g2,mj2`).
    public var containerName: String
    /// Codec, as FFmpeg names it (e.g. `flac`, `mp3`, `alac`).
    public var codecName: String
    public var sampleRate: Int
    public var channels: Int
    /// FFmpeg's names of the channels in order (`FL`, `FR`, `FC`, `LFE`, `SL`, ...); the default layout for the
    /// channel count when the file names none.
    public var channelNames: [String] = []
    /// Bits per sample of the stored audio where the codec has one (lossless and PCM); nil for lossy codecs.
    public var bitsPerSample: Int?
    /// Duration the container declares, in seconds, when it declares one reliably (not a bitrate estimate).
    public var declaredDuration: Double?
}

/// Picture embedded in a file (an ID3 APIC frame, a FLAC PICTURE block, an MP4 `covr` atom).
public struct CoverArt: Sendable, Equatable {
    public var data: Data
    /// `image/jpeg` or `image/png`, from the picture's codec.
    public var mimeType: String
    /// File extension matching `mimeType`.
    public var fileExtension: String

    public init(data: Data, mimeType: String, fileExtension: String) {
        self.data = data
        self.mimeType = mimeType
        self.fileExtension = fileExtension
    }
}

/// One decoded frame, valid until the next call to ``AudioDecoder/nextFrame()``.
public struct DecodedFrame {
    let frame: UnsafeMutablePointer<AVFrame>
    /// Samples per channel in this frame.
    public var sampleCount: Int { Int(frame.pointee.nb_samples) }
}

/// Opens a file by probing its content, picks its best audio stream, and decodes it to the end while checking
/// that nothing is missing: decoder errors, a net gap in the timestamps (FFmpeg's parsers resync silently past
/// damaged frames) and a decoded length short of what the container declares all end decoding with ``MediaError``.
///
/// Gaps are judged by drift: how far the timestamps have run ahead of the samples decoded, added up from the first
/// frame. Muxers fed jittery timestamps (ffmpeg re-encoding Vorbis to AAC in MP4) write one packet late and the next
/// early by the same amount; such a gap is paid back within a frame or two and is not damage.
///
/// An instance is not thread-safe; confine it to one thread.
public final class AudioDecoder {
    /// The file being decoded, as given.
    public let path: String
    public private(set) var format = SourceAudioFormat(containerName: "", codecName: "", sampleRate: 0, channels: 0)
    /// Container and stream tags, keys lowercased.
    public private(set) var tags: [String: String] = [:]
    public private(set) var coverArt: CoverArt?
    /// Set when FFmpeg refused the file and its format's reference decoder read it instead: which decoder, and
    /// FFmpeg's reason, for the report.
    public private(set) var fallback: String?
    /// Samples per channel decoded so far.
    public private(set) var decodedSampleCount: Int64 = 0
    /// Whether any decoded sample so far was not digital silence.
    public private(set) var containsSound = false

    /// Largest drift of the timestamps ahead of the decoded samples tolerated before data counts as missing.
    private static let gapToleranceSeconds = 0.005
    /// Frames a drift beyond the tolerance may last before it counts as missing audio rather than jitter.
    private static let paybackFrames = 8
    /// Largest shortfall against the declared duration tolerated at the end, at least: an encoder pads the last
    /// frame, and the container's duration counts that padding.
    private static let minimumShortfallToleranceSeconds = 0.05

    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private var codecContext: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    /// libvorbisfile, when it reads the file in FFmpeg's place.
    private var reference: VorbisFileReader?
    private var streamIndex: Int32 = -1
    private var timeBase = AVRational(num: 1, den: 1)
    /// The shortfall against the declared duration tolerated: ``minimumShortfallToleranceSeconds``, or for a lossy
    /// codec two of its frames (end padding, and the decoder delay the priming does not cover) where that is
    /// longer. An MP3 at 8 kHz pads up to 576 samples, 72 ms.
    private var shortfallToleranceSeconds = AudioDecoder.minimumShortfallToleranceSeconds
    private var firstTimestamp: Int64?
    /// A drift beyond the tolerance not yet paid back: where it began, and the frames decoded since.
    private var unpaidGap: (startSeconds: Double, frames: Int)?
    private var lastPacketSeconds = 0.0
    private let strict: Bool
    /// Whether frame timestamps are exact sample positions (not so for Vorbis, whose per-packet durations
    /// FFmpeg's Ogg demuxer estimates).
    private var timestampsExact = true
    /// Raw elementary-stream demuxers read packets back to back; a jump in byte position means the parser
    /// skipped damaged data.
    private var packetsContiguous = false
    private var nextPacketPosition: Int64?
    private var draining = false
    private var finished = false

    /// Opens `path` and prepares its best audio stream for decoding. An Ogg file FFmpeg refuses is read with
    /// libvorbisfile when that takes it (``fallback`` says so); a file both refuse stays unreadable.
    /// - Parameter strict: end decoding with an error at damaged or missing data (the default); when false,
    ///   decode what can be decoded and skip the rest.
    public init(path: String, strict: Bool = true) throws(MediaError) {
        self.path = path
        self.strict = strict
        // From here on, deinit frees whatever was allocated, also when init throws.
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        guard packet != nil, frame != nil else { throw .encoding(detail: "out of memory opening \(path)") }
        do {
            try openWithFFmpeg()
        } catch .unreadable(_, let reason) {
            guard let reader = VorbisFileReader(path: path) else { throw .unreadable(path: path, reason: reason) }
            avcodec_free_context(&codecContext)
            avformat_close_input(&formatContext)
            read(with: reader, becauseFFmpegSaid: reason)
        }
    }

    private func openWithFFmpeg() throws(MediaError) {
        var context: UnsafeMutablePointer<AVFormatContext>?
        let openResult = avformat_open_input(&context, path, nil, nil)
        guard openResult >= 0, let context else {
            throw .unreadable(path: path, reason: ffmpegErrorText(openResult))
        }
        formatContext = context

        // A format guessed from the file name alone (score at or below AVPROBE_SCORE_RETRY) is no recognition.
        guard context.pointee.probe_score > AVPROBE_SCORE_RETRY else {
            throw .unreadable(path: path, reason: "the content matches no audio format FFmpeg knows")
        }
        let infoResult = avformat_find_stream_info(context, nil)
        guard infoResult >= 0 else { throw .unreadable(path: path, reason: ffmpegErrorText(infoResult)) }

        var decoder: UnsafePointer<AVCodec>?
        let bestStream = av_find_best_stream(context, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0)
        if bestStream == musikk_averror_decoder_not_found() {
            let codecName = Self.firstAudioCodecName(context) ?? "unknown"
            throw .unsupportedCodec(path: path, codec: codecName)
        }
        guard bestStream >= 0, let decoder, let stream = context.pointee.streams[Int(bestStream)] else {
            throw .noAudioStream(path: path)
        }
        streamIndex = bestStream
        timeBase = stream.pointee.time_base

        for index in 0..<Int(context.pointee.nb_streams) where index != Int(bestStream) {
            context.pointee.streams[index]?.pointee.discard = AVDISCARD_ALL
        }

        guard let codec = avcodec_alloc_context3(decoder) else {
            throw .encoding(detail: "out of memory opening \(path)")
        }
        codecContext = codec
        let parametersResult = avcodec_parameters_to_context(codec, stream.pointee.codecpar)
        guard parametersResult >= 0 else { throw .unreadable(path: path, reason: ffmpegErrorText(parametersResult)) }
        codec.pointee.pkt_timebase = stream.pointee.time_base
        codec.pointee.thread_count = 1
        if strict {
            // Treat checksum and bitstream errors as errors instead of concealing them.
            codec.pointee.err_recognition |= AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_EXPLODE
        }
        let openCodecResult = avcodec_open2(codec, decoder, nil)
        guard openCodecResult >= 0 else {
            throw .unsupportedCodec(path: path, codec: String(cString: decoder.pointee.name))
        }

        let parameters = stream.pointee.codecpar.pointee
        let rawBits = Int(parameters.bits_per_raw_sample)
        let codedBits = Int(parameters.bits_per_coded_sample)
        let isLossless = avcodec_descriptor_get(parameters.codec_id)
            .map { ($0.pointee.props & AV_CODEC_PROP_LOSSLESS) != 0 } ?? false
        format = SourceAudioFormat(
            containerName: String(cString: context.pointee.iformat.pointee.name),
            codecName: String(cString: decoder.pointee.name),
            sampleRate: Int(parameters.sample_rate),
            channels: Int(parameters.ch_layout.nb_channels),
            bitsPerSample: isLossless ? (rawBits > 0 ? rawBits : (codedBits > 0 ? codedBits : nil)) : nil,
            declaredDuration: Self.declaredDuration(context: context, stream: stream)
        )
        format.channelNames = Self.channelNames(parameters.ch_layout)
        guard format.sampleRate > 0, format.channels > 0 else {
            throw .unreadable(path: path, reason: "the content matches no audio format FFmpeg can decode")
        }
        if !isLossless && parameters.frame_size > 0 {
            shortfallToleranceSeconds = max(
                Self.minimumShortfallToleranceSeconds, 2 * Double(parameters.frame_size) / Double(format.sampleRate)
            )
        }
        timestampsExact = parameters.codec_id != AV_CODEC_ID_VORBIS
        packetsContiguous = ["flac", "mp3", "aac"].contains(format.containerName)
        tags = Self.readTags(context: context, stream: stream)
        coverArt = Self.readCoverArt(context: context)
    }

    private func read(with reader: VorbisFileReader, becauseFFmpegSaid reason: String) {
        reference = reader
        fallback = "decoded with \(VorbisFileReader.libraryVersion): FFmpeg refused the file (\(reason))"
        format = SourceAudioFormat(
            containerName: "ogg", codecName: "vorbis", sampleRate: reader.sampleRate, channels: reader.channels
        )
        format.channelNames = Self.channelNames(reader.channelLayout)
        tags = reader.tags
        // Vorbis frames carry no timestamps of their own here; libvorbisfile reports holes in the data instead.
        timestampsExact = false
    }

    deinit {
        avcodec_free_context(&codecContext)
        avformat_close_input(&formatContext)
        av_packet_free(&packet)
        av_frame_free(&frame)
    }

    /// Duration decoded so far, in seconds.
    public var decodedSeconds: Double {
        format.sampleRate > 0 ? Double(decodedSampleCount) / Double(format.sampleRate) : 0
    }

    /// Decodes the next frame; nil at the end of a complete stream.
    /// - Throws: ``MediaError/corrupt(path:seconds:detail:)``, ``MediaError/truncated(path:decodedSeconds:declaredSeconds:)``
    ///   or ``MediaError/unterminated(path:decodedSeconds:mark:)``.
    public func nextFrame() throws(MediaError) -> DecodedFrame? {
        guard !finished, let frame else { return nil }
        if let reference {
            guard try reference.read(into: frame, path: path, at: decodedSeconds, strict: strict) else {
                finished = true
                try checkComplete()
                return nil
            }
            try check(frame)
            return DecodedFrame(frame: frame)
        }
        guard let codecContext, let formatContext, let packet else { return nil }
        while true {
            let received = avcodec_receive_frame(codecContext, frame)
            if received == 0 {
                try check(frame)
                return DecodedFrame(frame: frame)
            }
            if received == musikk_averror_eof() {
                finished = true
                try checkComplete()
                return nil
            }
            if received != musikk_averror_eagain() && strict {
                throw corrupt(received)
            }
            if draining {
                finished = true
                try checkComplete()
                return nil
            }
            let read = av_read_frame(formatContext, packet)
            if read == musikk_averror_eof() {
                draining = true
                let sent = avcodec_send_packet(codecContext, nil)
                if sent < 0 && sent != musikk_averror_eof() { throw corrupt(sent) }
                continue
            }
            guard read >= 0 else { throw corrupt(read) }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            if packet.pointee.pts != musikk_nopts_value() {
                lastPacketSeconds = seconds(fromTimestamp: packet.pointee.pts)
            }
            if strict && (packet.pointee.flags & AV_PKT_FLAG_CORRUPT) != 0 {
                throw .corrupt(path: path, seconds: lastPacketSeconds, detail: "the demuxer flagged damaged data")
            }
            if strict && packetsContiguous && packet.pointee.pos >= 0 {
                if let expected = nextPacketPosition, packet.pointee.pos != expected {
                    throw .corrupt(
                        path: path, seconds: decodedSeconds,
                        detail: "\(packet.pointee.pos - expected) bytes of damaged data skipped"
                    )
                }
                nextPacketPosition = packet.pointee.pos + Int64(packet.pointee.size)
            }
            let sent = avcodec_send_packet(codecContext, packet)
            if sent < 0 && sent != musikk_averror_eagain() && strict { throw corrupt(sent) }
        }
    }

    /// Hands the bytes of every remaining packet of the audio stream to `body`, in order, without decoding:
    /// the audio payload, which tags, cover art and other metadata are not part of. Afterwards the decoder is
    /// at the end of the file. Read by the reference decoder, whose packets are not exposed, the payload is the
    /// decoded audio.
    public func readPayload(_ body: (UnsafeRawBufferPointer) -> Void) throws(MediaError) {
        if reference != nil {
            while let decoded = try nextFrame() {
                let bytes = decoded.sampleCount * MemoryLayout<Float>.size
                for channel in 0..<format.channels {
                    guard let plane = decoded.frame.pointee.extended_data?[channel] else { continue }
                    body(UnsafeRawBufferPointer(start: plane, count: bytes))
                }
            }
            return
        }
        guard let formatContext, let packet else { return }
        while true {
            let read = av_read_frame(formatContext, packet)
            if read == musikk_averror_eof() { break }
            guard read >= 0 else { throw corrupt(read) }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex, let data = packet.pointee.data else { continue }
            body(UnsafeRawBufferPointer(start: data, count: Int(packet.pointee.size)))
        }
        finished = true
    }

    /// The sample format of decoded frames, for a ``Resampler``.
    var decodedLayout: (format: AVSampleFormat, sampleRate: Int32, layout: AVChannelLayout)? {
        if let reference { return (AV_SAMPLE_FMT_FLTP, Int32(reference.sampleRate), reference.channelLayout) }
        guard let codecContext else { return nil }
        return (codecContext.pointee.sample_fmt, codecContext.pointee.sample_rate, codecContext.pointee.ch_layout)
    }

    // MARK: Checks

    private func check(_ frame: UnsafeMutablePointer<AVFrame>) throws(MediaError) {
        let here = Double(decodedSampleCount) / Double(max(format.sampleRate, 1))
        if Int(frame.pointee.sample_rate) != format.sampleRate || Int(frame.pointee.ch_layout.nb_channels) != format.channels {
            throw .corrupt(path: path, seconds: here, detail: "the sample rate or channel count changes mid-stream")
        }
        let timestamp = frame.pointee.best_effort_timestamp
        if strict && timestampsExact && timestamp != musikk_nopts_value() {
            if let firstTimestamp {
                let drift = seconds(fromTimestamp: timestamp) - seconds(fromTimestamp: firstTimestamp) - here
                try judge(drift: drift, at: here)
            } else {
                firstTimestamp = timestamp
            }
        }
        if !containsSound { containsSound = Self.containsSound(frame) }
        decodedSampleCount += Int64(frame.pointee.nb_samples)
    }

    /// Lets a drift beyond the tolerance stand for ``paybackFrames`` frames (jitter pays it back), then calls it
    /// missing audio. A gap still open at the end is left to ``checkComplete()``: missing audio there shortens
    /// the stream against its declared duration.
    private func judge(drift: Double, at here: Double) throws(MediaError) {
        guard drift > Self.gapToleranceSeconds else {
            unpaidGap = nil
            return
        }
        guard let gap = unpaidGap else {
            unpaidGap = (here, 0)
            return
        }
        guard gap.frames < Self.paybackFrames else {
            throw .corrupt(
                path: path, seconds: gap.startSeconds,
                detail: "\(Int((min(drift, Timecode.longestSeconds) * 1000).rounded())) ms of audio missing, "
                    + "the data there is damaged"
            )
        }
        unpaidGap = (gap.startSeconds, gap.frames + 1)
    }

    private func checkComplete() throws(MediaError) {
        guard strict else { return }
        if let mark = ContainerEnd.missingMark(path: path, container: format.containerName) {
            throw .unterminated(path: path, decodedSeconds: decodedSeconds, mark: mark)
        }
        guard let declared = format.declaredDuration else { return }
        if declared - decodedSeconds > shortfallToleranceSeconds {
            throw .truncated(path: path, decodedSeconds: decodedSeconds, declaredSeconds: declared)
        }
    }

    /// The error for a failed FFmpeg call: truncation when the failure is at the end of a file that declares
    /// more audio than was decoded, damage otherwise.
    private func corrupt(_ code: Int32) -> MediaError {
        let atEnd = formatContext.map { $0.pointee.pb == nil || $0.pointee.pb.pointee.eof_reached != 0 } ?? false
        if atEnd, let declared = format.declaredDuration,
           declared - decodedSeconds > shortfallToleranceSeconds {
            return .truncated(path: path, decodedSeconds: decodedSeconds, declaredSeconds: declared)
        }
        return .corrupt(path: path, seconds: max(lastPacketSeconds, decodedSeconds), detail: ffmpegErrorText(code))
    }

    private func seconds(fromTimestamp timestamp: Int64) -> Double {
        Double(timestamp) * Double(timeBase.num) / Double(timeBase.den)
    }

    /// True when any sample in the frame differs from digital silence.
    private static func containsSound(_ frame: UnsafeMutablePointer<AVFrame>) -> Bool {
        let sampleFormat = AVSampleFormat(rawValue: frame.pointee.format)
        let bytesPerSample = Int(av_get_bytes_per_sample(sampleFormat))
        let channels = Int(frame.pointee.ch_layout.nb_channels)
        let planar = av_sample_fmt_is_planar(sampleFormat) != 0
        let planes = planar ? channels : 1
        let bytesPerPlane = Int(frame.pointee.nb_samples) * bytesPerSample * (planar ? 1 : channels)
        let silentByte: UInt8 = (sampleFormat == AV_SAMPLE_FMT_U8 || sampleFormat == AV_SAMPLE_FMT_U8P) ? 0x80 : 0
        guard let data = frame.pointee.extended_data else { return false }
        for plane in 0..<planes {
            guard let bytes = data[plane] else { continue }
            for offset in 0..<bytesPerPlane where bytes[offset] != silentByte {
                return true
            }
        }
        return false
    }

    // MARK: Container facts

    private static func declaredDuration(
        context: UnsafeMutablePointer<AVFormatContext>, stream: UnsafeMutablePointer<AVStream>
    ) -> Double? {
        // Durations estimated from the bit rate (e.g. MP3 without a Xing header) are guesses, not declarations.
        guard context.pointee.duration_estimation_method != AVFMT_DURATION_FROM_BITRATE else { return nil }
        let duration = stream.pointee.duration
        guard duration != musikk_nopts_value(), duration > 0 else { return nil }
        // A start after zero is priming the decoder drops (the LAME tag's encoder delay, which FFmpeg's MP3 demuxer
        // reports as the start time), while the duration counts every frame: the audio declared is what follows it.
        let start = stream.pointee.start_time
        let primed = start != musikk_nopts_value() && start > 0 && start < duration ? start : 0
        return Double(duration - primed) * Double(stream.pointee.time_base.num) / Double(stream.pointee.time_base.den)
    }

    private static func readTags(
        context: UnsafeMutablePointer<AVFormatContext>, stream: UnsafeMutablePointer<AVStream>
    ) -> [String: String] {
        var tags: [String: String] = [:]
        for dictionary in [context.pointee.metadata, stream.pointee.metadata] {
            var entry: UnsafeMutablePointer<AVDictionaryEntry>?
            while let next = av_dict_get(dictionary, "", entry, AV_DICT_IGNORE_SUFFIX) {
                entry = next
                let key = String(cString: next.pointee.key).lowercased()
                let value = String(cString: next.pointee.value)
                if tags[key] == nil { tags[key] = value }
            }
        }
        return tags
    }

    private static func readCoverArt(context: UnsafeMutablePointer<AVFormatContext>) -> CoverArt? {
        for index in 0..<Int(context.pointee.nb_streams) {
            guard let stream = context.pointee.streams[index],
                  (stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0,
                  let bytes = stream.pointee.attached_pic.data,
                  stream.pointee.attached_pic.size > 0 else { continue }
            let data = Data(bytes: bytes, count: Int(stream.pointee.attached_pic.size))
            switch stream.pointee.codecpar.pointee.codec_id {
            case AV_CODEC_ID_PNG: return CoverArt(data: data, mimeType: "image/png", fileExtension: "png")
            case AV_CODEC_ID_MJPEG: return CoverArt(data: data, mimeType: "image/jpeg", fileExtension: "jpg")
            default: continue
            }
        }
        return nil
    }

    private static func channelNames(_ declared: AVChannelLayout) -> [String] {
        var layout = AVChannelLayout()
        defer { av_channel_layout_uninit(&layout) }
        var source = declared
        if declared.order == AV_CHANNEL_ORDER_UNSPEC || av_channel_layout_copy(&layout, &source) < 0 {
            av_channel_layout_default(&layout, declared.nb_channels)
        }
        return (0..<layout.nb_channels).map { index in
            var name = [CChar](repeating: 0, count: 32)
            let channel = av_channel_layout_channel_from_index(&layout, UInt32(index))
            guard av_channel_name(&name, name.count, channel) >= 0 else { return "?" }
            return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    private static func firstAudioCodecName(_ context: UnsafeMutablePointer<AVFormatContext>) -> String? {
        for index in 0..<Int(context.pointee.nb_streams) {
            guard let parameters = context.pointee.streams[index]?.pointee.codecpar,
                  parameters.pointee.codec_type == AVMEDIA_TYPE_AUDIO else { continue }
            return String(cString: avcodec_get_name(parameters.pointee.codec_id))
        }
        return nil
    }
}

