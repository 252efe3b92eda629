internal import CFFmpeg
internal import CVorbisFile

/// Ogg Vorbis read through libvorbisfile, the format's reference decoder: the fallback for files FFmpeg's Ogg
/// demuxer refuses but libvorbis plays, such as those whose identification header is longer than the 30 bytes
/// FFmpeg 5.1 insists on (some old encoders padded it). Decoded audio is written into FFmpeg frames, planar float
/// in FFmpeg's channel order, so the rest of the pipeline does not know which decoder ran.
final class VorbisFileReader {
    /// The decoder's provenance, e.g. `libvorbisfile (Xiph.Org libVorbis 1.3.7)`.
    static var libraryVersion: String { "libvorbisfile (" + String(cString: vorbis_version_string()) + ")" }

    let sampleRate: Int
    let channels: Int
    /// Vorbis comments, keys lowercased, the first value of each key.
    let tags: [String: String]

    private let file: UnsafeMutablePointer<OggVorbis_File>
    /// FFmpeg's plane for each Vorbis channel (Vorbis orders 5.1 as FL FC FR BL BR LFE, FFmpeg as FL FR FC LFE BL BR).
    private let planeOfChannel: [Int]
    private var layout = AVChannelLayout()
    private var bitstream: Int32 = 0

    /// Opens `path` as a stream (read from start to end: no length is declared, and a file cut short is told by
    /// its missing end-of-stream page, ``ContainerEnd``); nil when libvorbisfile does not take it either (then
    /// FFmpeg's reason stands).
    init?(path: String) {
        file = UnsafeMutablePointer<OggVorbis_File>.allocate(capacity: 1)
        guard musikk_ov_open_stream(path, file) == 0 else {
            file.deallocate()
            return nil
        }
        guard let info = ov_info(file, -1), info.pointee.rate > 0,
              (1...Self.vorbisOrder.count).contains(Int(info.pointee.channels)) else {
            ov_clear(file)
            file.deallocate()
            return nil
        }
        sampleRate = Int(info.pointee.rate)
        channels = Int(info.pointee.channels)
        tags = Self.readComments(ov_comment(file, -1))

        let names = Self.vorbisOrder[channels - 1]
        let mask = names.reduce(UInt64(0)) { $0 | (1 << UInt64(av_channel_from_string($1).rawValue)) }
        var ordered = AVChannelLayout()
        let planes = av_channel_layout_from_mask(&ordered, mask) < 0 ? [] : names.map {
            Int(av_channel_layout_index_from_channel(&ordered, av_channel_from_string($0)))
        }
        let channelCount = channels
        guard planes.count == channelCount, planes.allSatisfy({ (0..<channelCount).contains($0) }) else {
            ov_clear(file)
            file.deallocate()
            return nil
        }
        layout = ordered
        planeOfChannel = planes
    }

    deinit {
        ov_clear(file)
        file.deallocate()
        av_channel_layout_uninit(&layout)
    }

    /// The layout frames carry, for a resampler.
    var channelLayout: AVChannelLayout { layout }

    /// Decodes the next block into `frame` (unreferenced first). Returns false at the end of the stream.
    /// - Throws: ``MediaError/corrupt(path:seconds:detail:)`` at a hole in the data (missing or damaged pages)
    ///   when `strict`, and at a link of a chained file with another rate or channel count.
    func read(into frame: UnsafeMutablePointer<AVFrame>, path: String, at seconds: Double, strict: Bool) throws(MediaError) -> Bool {
        av_frame_unref(frame)
        var pcm: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>?
        var count = Int(ov_read_float(file, &pcm, 4096, &bitstream))
        // Tolerant decoding reads on past holes; each read moves forward, so this ends with the file.
        while count == Int(OV_HOLE) && !strict {
            count = Int(ov_read_float(file, &pcm, 4096, &bitstream))
        }
        if count == 0 { return false }
        guard count > 0, let pcm else {
            throw .corrupt(path: path, seconds: seconds, detail: "libvorbisfile: " + Self.errorText(Int32(count)))
        }
        guard let info = ov_info(file, bitstream), Int(info.pointee.rate) == sampleRate,
              Int(info.pointee.channels) == channels else {
            throw .corrupt(path: path, seconds: seconds, detail: "the sample rate or channel count changes mid-stream")
        }
        frame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        frame.pointee.sample_rate = Int32(sampleRate)
        frame.pointee.nb_samples = Int32(count)
        var source = layout
        guard av_channel_layout_copy(&frame.pointee.ch_layout, &source) >= 0,
              av_frame_get_buffer(frame, 0) >= 0, let planes = frame.pointee.extended_data else {
            throw .encoding(detail: "out of memory decoding \(path)")
        }
        for (channel, plane) in planeOfChannel.enumerated() {
            guard let samples = pcm[channel], let destination = planes[plane] else { continue }
            UnsafeMutableRawPointer(destination).copyMemory(from: samples, byteCount: count * MemoryLayout<Float>.size)
        }
        return true
    }

    /// Channel names in Vorbis order for 1 to 8 channels (Vorbis I specification, section 4.3.9).
    private static let vorbisOrder: [[String]] = [
        ["FC"], ["FL", "FR"], ["FL", "FC", "FR"], ["FL", "FR", "BL", "BR"], ["FL", "FC", "FR", "BL", "BR"],
        ["FL", "FC", "FR", "BL", "BR", "LFE"], ["FL", "FC", "FR", "SL", "SR", "BC", "LFE"],
        ["FL", "FC", "FR", "SL", "SR", "BL", "BR", "LFE"],
    ]

    private static func readComments(_ comment: UnsafeMutablePointer<vorbis_comment>?) -> [String: String] {
        guard let comment, let entries = comment.pointee.user_comments, let lengths = comment.pointee.comment_lengths else {
            return [:]
        }
        var tags: [String: String] = [:]
        for index in 0..<Int(max(comment.pointee.comments, 0)) {
            guard let entry = entries[index], lengths[index] > 0 else { continue }
            let bytes = UnsafeRawBufferPointer(start: entry, count: Int(lengths[index]))
            let text = String(decoding: bytes, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            let key = text[..<equals].lowercased()
            if tags[key] == nil { tags[key] = String(text[text.index(after: equals)...]) }
        }
        return tags
    }

    private static func errorText(_ code: Int32) -> String {
        switch code {
        case OV_HOLE: "a hole in the data (missing or damaged pages)"
        case OV_EBADLINK: "a damaged link in a chained stream"
        case OV_EINVAL: "the file could not be read"
        default: "error \(code)"
        }
    }
}
