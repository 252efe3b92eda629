import Foundation
import MediaIO

/// The fuzz harness for reading masters: probes and decodes bytes the way musikk-ingest reads a master (strict
/// checks, tags and cover art, the audio payload hash, every frame through the resamplers to the formats the
/// pipeline uses). Built with `-DFUZZING` and `-sanitize=fuzzer,address` (scripts/fuzz-decode) it is a libFuzzer
/// target; built plainly it replays the files it is given, so a finding reproduces without sanitizers.
enum FuzzDecode {
    /// Decoding stops after this many samples per channel: a fuzzed header can declare hours of audio.
    static let sampleLimit: Int64 = 4_000_000
    /// Where each input is written for FFmpeg and libvorbisfile to open by path: tmpfs, so no disk is touched.
    static let inputPath = "/dev/shm/musikk-fuzz-decode-\(getpid())"

    static func run(_ bytes: Data) {
        FFmpegLogging.silence()
        guard FileManager.default.createFile(atPath: inputPath, contents: bytes) else { return }
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        for strict in [true, false] {
            if let probe = try? AudioDecoder(path: inputPath, strict: strict) {
                var payloadBytes = 0
                try? probe.readPayload { payloadBytes += $0.count }
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

#if FUZZING
/// What libFuzzer calls for each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzDecode.run(Data(bytes: data, count: size))
    return 0
}

/// libFuzzer's entry for programs that have a `main` of their own (SwiftPM links executables through one).
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzTestOneInput))
    }
}
#else
@main
struct Replay {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: musikk-fuzz-decode FILE...  (replays fuzzer inputs)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("musikk-fuzz-decode: cannot read \(path)\n".utf8))
                exit(1)
            }
            FuzzDecode.run(bytes)
            print("replayed \(path)")
        }
    }
}
#endif
