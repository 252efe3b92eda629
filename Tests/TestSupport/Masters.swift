import Foundation

/// Masters generated at test time with ffmpeg's lavfi sources, so nothing big is committed.
public enum Masters {
    /// Writes a tagged master: a tone over quiet pink noise (so it is not silence), stereo 44.1 kHz.
    public static func makeTone(
        at url: URL, frequency: Int, seconds: Double, title: String, album: String = "Album",
        artist: String = "Test Artist", format: String = "flac"
    ) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = try Command.run("ffmpeg", [
            "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=\(frequency):duration=\(seconds):sample_rate=44100",
            "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:duration=\(seconds):sample_rate=44100:seed=\(frequency)",
            "-filter_complex", "[0][1]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo",
            "-metadata", "title=\(title)", "-metadata", "artist=\(artist)", "-metadata", "album=\(album)",
            "-f", format, url.path,
        ])
        guard result.status == 0 else {
            throw SetupError(description: "ffmpeg could not write \(url.path): \(result.standardError)")
        }
    }
}
