/// Why a media file could not be read, decoded or encoded. Every case names the file (where there is one)
/// and its description says what a user can do about it.
public enum MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or is not a media file FFmpeg recognises.
    case unreadable(path: String, reason: String)
    /// The file is a media file but carries no audio stream.
    case noAudioStream(path: String)
    /// The audio stream uses a codec this build of FFmpeg cannot decode.
    case unsupportedCodec(path: String, codec: String)
    /// Decoding failed, or data was missing, at a time position in the file.
    case corrupt(path: String, seconds: Double, detail: String)
    /// The file decodes to less audio than its container declares.
    case truncated(path: String, decodedSeconds: Double, declaredSeconds: Double)
    /// The file stops without the mark its format writes at the end (`mark`), so audio after it was lost.
    case unterminated(path: String, decodedSeconds: Double, mark: String)
    /// An encoder or resampler could not be set up or failed.
    case encoding(detail: String)
    /// A cover image could not be read or made smaller.
    case image(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): not a readable audio file (\(reason)); check that it is a complete audio master"
        case let .noAudioStream(path):
            return "\(path): contains no audio stream; supply a file with an audio track"
        case let .unsupportedCodec(path, codec):
            return "\(path): audio codec '\(codec)' cannot be decoded by this FFmpeg build; convert it to FLAC or WAV"
        case let .corrupt(path, seconds, detail):
            return "\(path): corrupt audio at \(Timecode.format(seconds)) (\(detail)); re-export or re-rip the master"
        case let .truncated(path, decoded, declared):
            return "\(path): truncated: decodes to \(Timecode.format(decoded)) but declares \(Timecode.format(declared)); "
                + "the file was probably cut short in transfer, copy it again"
        case let .unterminated(path, decoded, mark):
            return "\(path): truncated: stops at \(Timecode.format(decoded)) without its \(mark); "
                + "the file was probably cut short in transfer, copy it again"
        case let .encoding(detail):
            return "encoder failure: \(detail); check the FFmpeg installation (scripts/setup)"
        case let .image(path, reason):
            return "\(path): cover art that cannot be resized (\(reason)); replace it with a PNG or JPEG image and ingest again"
        }
    }
}

/// Formats time positions the way people read them in error messages.
public enum Timecode {
    /// Longest time formatted as it is: a thousand years. Longer ones, and non-numbers, come from damaged
    /// headers, and converting them to an integer would trap.
    static let longestSeconds = 1000.0 * 365 * 86_400

    /// `m:ss.mmm`, e.g. `1:02.345`.
    public static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?:??.???" }
        let totalMilliseconds = Int((min(max(0, seconds), longestSeconds) * 1000).rounded())
        let minutes = totalMilliseconds / 60_000
        let remainder = totalMilliseconds % 60_000
        let secondsPart = remainder / 1000
        let milliseconds = remainder % 1000
        let paddedSeconds = secondsPart < 10 ? "0\(secondsPart)" : "\(secondsPart)"
        let paddedMilliseconds = String(repeating: "0", count: 3 - String(milliseconds).count) + String(milliseconds)
        return "\(minutes):\(paddedSeconds).\(paddedMilliseconds)"
    }
}
