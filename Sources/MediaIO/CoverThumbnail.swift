internal import CFFmpeg
import Foundation

/// Smaller copies of cover art for lists, search results and players, so that a row of 40 px covers does not fetch
/// full-size images. Decoded with libavcodec, scaled with libswscale (Lanczos), written as baseline JPEG; the same
/// cover and size give the same bytes.
public enum CoverThumbnail {
    /// The longest side of an image that is decoded at all; a bigger one is refused (a picture bomb in a tag). At
    /// 8192 px a decoded RGBA picture takes at most 256 MiB; real covers are 3000 px or less.
    public static let maximumSide: Int32 = 8_192
    /// JPEG quantiser (2 best … 31 worst): 3 keeps artwork sharp at a few kilobytes per 96 px thumbnail.
    static let quality: Int32 = 3

    /// What determines a thumbnail's bytes besides its cover and size: a cache of thumbnails keyed by it is
    /// refreshed when FFmpeg or the settings change.
    public static let recipe: String = {
        func dotted(_ version: UInt32) -> String { "\(version >> 16).\((version >> 8) & 0xFF).\(version & 0xFF)" }
        return "jpeg q\(quality) lanczos yuvj420p, libavcodec \(dotted(avcodec_version())), libswscale \(dotted(swscale_version()))"
    }()

    /// Width and height of the image at `source`.
    public static func dimensions(of source: URL) throws(MediaError) -> (width: Int, height: Int) {
        let picture = try decode(source)
        defer { free(picture) }
        return (Int(picture.pointee.width), Int(picture.pointee.height))
    }

    /// Writes the image at `source` scaled to fit within `side` × `side` pixels (aspect kept) as a JPEG at
    /// `destination`, replacing it in one step. Returns the thumbnail's width and height.
    @discardableResult
    public static func write(_ source: URL, fittingIn side: Int, to destination: URL) throws(MediaError) -> (width: Int, height: Int) {
        guard side > 0, side <= Int(maximumSide) else { throw .image(path: source.path, reason: "thumbnail side \(side) is out of range") }
        let picture = try decode(source)
        defer { free(picture) }
        let (width, height) = fitted(width: picture.pointee.width, height: picture.pointee.height, within: Int32(side))
        let scaled = try scale(picture, width: width, height: height, path: source.path)
        defer { free(scaled) }
        let jpeg = try encodeJPEG(scaled, path: source.path)
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".partial-\(UUID().uuidString)")
        do {
            try jpeg.write(to: temporary)
            if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: temporary, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .image(path: destination.path, reason: "cannot write the thumbnail: \(error.localizedDescription)")
        }
        return (Int(width), Int(height))
    }

    /// The size of a `width` × `height` image scaled to fit within `side` × `side`, never enlarged, at least 1 px.
    static func fitted(width: Int32, height: Int32, within side: Int32) -> (Int32, Int32) {
        let longest = max(width, height)
        guard longest > side else { return (width, height) }
        let scale = Double(side) / Double(longest)
        return (max(1, Int32((Double(width) * scale).rounded())), max(1, Int32((Double(height) * scale).rounded())))
    }

    private static func free(_ frame: UnsafeMutablePointer<AVFrame>) {
        var owned: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&owned)
    }

    /// The first picture of the image file.
    private static func decode(_ source: URL) throws(MediaError) -> UnsafeMutablePointer<AVFrame> {
        let path = source.path
        var format: UnsafeMutablePointer<AVFormatContext>?
        var code = avformat_open_input(&format, path, nil, nil)
        guard code >= 0, let format else { throw .image(path: path, reason: ffmpegErrorText(code)) }
        defer {
            var owned: UnsafeMutablePointer<AVFormatContext>? = format
            avformat_close_input(&owned)
        }
        code = avformat_find_stream_info(format, nil)
        guard code >= 0 else { throw .image(path: path, reason: ffmpegErrorText(code)) }
        let index = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard index >= 0, let stream = format.pointee.streams[Int(index)], let parameters = stream.pointee.codecpar else {
            throw .image(path: path, reason: "no picture in it")
        }
        let (width, height) = (parameters.pointee.width, parameters.pointee.height)
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide else {
            throw .image(path: path, reason: "\(width) × \(height) pixels; covers may be at most \(maximumSide) pixels a side")
        }
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else { throw .image(path: path, reason: "no decoder for its format") }
        guard let context = avcodec_alloc_context3(codec) else { throw .image(path: path, reason: "out of memory") }
        defer {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
        }
        code = avcodec_parameters_to_context(context, parameters)
        guard code >= 0 else { throw .image(path: path, reason: ffmpegErrorText(code)) }
        code = avcodec_open2(context, codec, nil)
        guard code >= 0 else { throw .image(path: path, reason: ffmpegErrorText(code)) }
        guard let packet = av_packet_alloc() else { throw .image(path: path, reason: "out of memory") }
        defer {
            var owned: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&owned)
        }
        guard let frame = av_frame_alloc() else { throw .image(path: path, reason: "out of memory") }
        var flushed = false
        while true {
            let received = avcodec_receive_frame(context, frame)
            if received == 0 { return frame }
            guard received == musikk_averror_eagain(), !flushed else {
                free(frame)
                throw .image(path: path, reason: received == musikk_averror_eof() ? "no picture in it" : ffmpegErrorText(received))
            }
            let read = av_read_frame(format, packet)
            if read < 0 {
                flushed = true
                code = avcodec_send_packet(context, nil)
            } else {
                code = packet.pointee.stream_index == index ? avcodec_send_packet(context, packet) : 0
                av_packet_unref(packet)
            }
            guard code >= 0 || code == musikk_averror_eagain() || code == musikk_averror_eof() else {
                free(frame)
                throw .image(path: path, reason: ffmpegErrorText(code))
            }
        }
    }

    private static func scale(_ picture: UnsafeMutablePointer<AVFrame>, width: Int32, height: Int32, path: String) throws(MediaError) -> UnsafeMutablePointer<AVFrame> {
        guard let scaler = sws_getContext(
            picture.pointee.width, picture.pointee.height, AVPixelFormat(picture.pointee.format),
            width, height, AV_PIX_FMT_YUVJ420P, musikk_sws_quality_flags(), nil, nil, nil)
        else { throw .image(path: path, reason: "cannot convert its pixel format") }
        defer { sws_freeContext(scaler) }
        guard let scaled = av_frame_alloc() else { throw .image(path: path, reason: "out of memory") }
        scaled.pointee.width = width
        scaled.pointee.height = height
        scaled.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        var code = av_frame_get_buffer(scaled, 0)
        if code >= 0 { code = sws_scale_frame(scaler, scaled, picture) }
        guard code >= 0 else {
            free(scaled)
            throw .image(path: path, reason: ffmpegErrorText(code))
        }
        return scaled
    }

    private static func encodeJPEG(_ picture: UnsafeMutablePointer<AVFrame>, path: String) throws(MediaError) -> Data {
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG) else { throw .encoding(detail: "this FFmpeg has no JPEG encoder") }
        guard let context = avcodec_alloc_context3(codec) else { throw .image(path: path, reason: "out of memory") }
        defer {
            var owned: UnsafeMutablePointer<AVCodecContext>? = context
            avcodec_free_context(&owned)
        }
        context.pointee.width = picture.pointee.width
        context.pointee.height = picture.pointee.height
        context.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        context.pointee.time_base = AVRational(num: 1, den: 1)
        context.pointee.flags |= musikk_codec_flag_qscale()
        context.pointee.global_quality = quality * musikk_qp2lambda()
        var code = avcodec_open2(context, codec, nil)
        guard code >= 0 else { throw .encoding(detail: "JPEG encoder: \(ffmpegErrorText(code))") }
        picture.pointee.quality = context.pointee.global_quality
        picture.pointee.pts = 0
        code = avcodec_send_frame(context, picture)
        if code >= 0 { code = avcodec_send_frame(context, nil) }
        guard code >= 0 else { throw .image(path: path, reason: ffmpegErrorText(code)) }
        guard let packet = av_packet_alloc() else { throw .image(path: path, reason: "out of memory") }
        defer {
            var owned: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&owned)
        }
        code = avcodec_receive_packet(context, packet)
        guard code >= 0, let bytes = packet.pointee.data, packet.pointee.size > 0 else {
            throw .image(path: path, reason: "the JPEG encoder gave nothing (\(ffmpegErrorText(code)))")
        }
        return Data(bytes: bytes, count: Int(packet.pointee.size))
    }
}
