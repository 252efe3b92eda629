internal import CFFmpeg
internal import CLibOpus

/// Turns an FFmpeg return code into readable text (what the `av_err2str` macro does in C).
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard av_strerror(code, &buffer, buffer.count) == 0 else { return "FFmpeg error \(code)" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The library versions that determine encoded bytes; recorded as provenance of every rendition.
public enum EncoderVersions {
    /// e.g. `libavcodec 59.37.100, libavformat 59.27.100, libswresample 4.7.100, libopus 1.3.1`.
    public static let summary: String = {
        func dotted(_ version: UInt32) -> String {
            "\(version >> 16).\((version >> 8) & 0xFF).\(version & 0xFF)"
        }
        // "libopus 1.3.1" as the library names itself.
        let opus = String(cString: opus_get_version_string())
        return "libavcodec \(dotted(avcodec_version())), libavformat \(dotted(avformat_version())), "
            + "libswresample \(dotted(swresample_version())), \(opus)"
    }()
}

/// FFmpeg's own log lines on standard error.
public enum FFmpegLogging {
    /// Silences FFmpeg's logging; Musikk reports every failure itself, with the file and what to do.
    public static func silence() {
        av_log_set_level(AV_LOG_QUIET)
    }
}
