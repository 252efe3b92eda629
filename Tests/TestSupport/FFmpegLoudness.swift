import Foundation

/// ffmpeg's own EBU R128 measurement (the `ebur128` filter), read from the metadata of its last frame.
///
/// The audio is resampled to 48 kHz first: BS.1770 defines K-weighting by its coefficients at 48 kHz, and FFmpeg
/// 5.1's filter, like libebur128, derives a filter for any other rate from an analog prototype, which departs from
/// the standard's by up to 0.4 dB at 8 kHz (docs/loudness-at-any-rate.md).
public enum FFmpegLoudness {
    public struct Result: Sendable {
        public var integrated: Double
        public var range: Double
        public var truePeakDBTP: Double
    }

    /// Measures `input`: ffmpeg input arguments, e.g. `["-i", path]` or a lavfi source.
    public static func measure(_ input: [String]) throws -> Result {
        let result = try Command.run("ffmpeg", ["-nostdin", "-v", "error"] + input + [
            "-af", "aresample=48000,ebur128=peak=true:metadata=1,ametadata=mode=print:file=-", "-f", "null", "-",
        ])
        var values: [String: Double] = [:]
        for line in result.text.split(separator: "\n") where line.hasPrefix("lavfi.r128.") {
            let parts = line.dropFirst(11).split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        guard let integrated = values["I"], let range = values["LRA"], let peak = values["true_peak"] else {
            throw SetupError(description: "ffmpeg ebur128 gave no measurement for \(input): \(result.standardError)")
        }
        return Result(integrated: integrated, range: range, truePeakDBTP: 20 * log10(peak))
    }

    public static func measure(_ file: URL) throws -> Result { try measure(["-i", file.path]) }
}
