import Foundation
import FuzzingDriver
import Lyrics
import MediaIO

/// The fuzz harness for reading masters: probes and decodes bytes the way musikk-ingest reads a master (strict
/// checks, tags and cover art, the audio payload hash, every frame through the resamplers to the formats the
/// pipeline uses). See ``FuzzingDriver`` for how it runs.
enum FuzzDecode {
    /// Decoding stops after this many samples per channel: a fuzzed header can declare hours of audio.
    static let sampleLimit: Int64 = 4_000_000
    /// Where each input is written for FFmpeg and libvorbisfile to open by path: tmpfs, so no disk is touched.
    static let inputPath = "/dev/shm/musikk-fuzz-decode-\(getpid())"

    static func run(_ bytes: Data) {
        FFmpegLogging.silence()
        guard FileManager.default.createFile(atPath: inputPath, contents: bytes) else { return }
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        // Lyrics: the bytes as LRC text, and the file's ID3 SYLT frames and tags.
        for lyrics in [MasterLyrics.parse(String(decoding: bytes, as: UTF8.self))].compactMap({ $0 }) + MasterLyrics.syncedFrames(inID3Of: URL(fileURLWithPath: inputPath)) {
            let starts = lyrics.lines.compactMap(\.start)
            precondition(starts == starts.sorted() && starts.allSatisfy { $0 >= 0 }, "synced lines out of order or before the start")
            precondition(lyrics.synced == (starts.count == lyrics.lines.count) && !lyrics.lines.isEmpty)
        }
        for strict in [true, false] {
            if let probe = try? AudioDecoder(path: inputPath, strict: strict) {
                var payloadBytes = 0
                try? probe.readPayload { payloadBytes += $0.count }
                _ = MasterLyrics.of(master: URL(fileURLWithPath: inputPath), tags: probe.tags)
            }
            guard let decoder = try? AudioDecoder(path: inputPath, strict: strict) else { continue }
            let source = decoder.format
            let formats = [
                PCMFormat(sampleRate: 11_025, channels: 1, conversion: .fpcalc),
                PCMFormat(sampleRate: 48_000, channels: min(source.channels, 2)),
                PCMFormat(sampleRate: max(source.sampleRate, 1), channels: max(source.channels, 1)),
            ]
            let resamplers = formats.compactMap { try? Resampler(decoder: decoder, output: $0) }
            do {
                while decoder.decodedSampleCount < sampleLimit, let frame = try decoder.nextFrame() {
                    for resampler in resamplers { _ = try resampler.convert(frame) }
                }
                for resampler in resamplers { _ = try resampler.flush() }
            } catch {
                _ = error.description
            }
        }
    }
}

@main
struct Main {
    static func main() {
        FuzzingDriver.main("musikk-fuzz-decode", FuzzDecode.run)
    }
}
