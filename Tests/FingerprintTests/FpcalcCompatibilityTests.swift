import Fingerprint
import Foundation
import MediaIO
import Testing
import TestSupport

/// What `fpcalc` prints for a file: raw and compressed.
private struct FpcalcOutput {
    var raw: [UInt32]
    var compressed: String

    static func of(_ path: String, length: Int) throws -> FpcalcOutput? {
        guard let raw = try Fpcalc.raw(path, length: length),
              let compressed = try Fpcalc.printed(path, length: length, raw: false) else { return nil }
        return FpcalcOutput(raw: raw, compressed: compressed)
    }
}

/// A short account of how two raw fingerprints differ, for failure messages (the arrays run to thousands of items).
private func difference(_ ours: [UInt32]?, _ reference: [UInt32]?) -> String {
    guard let ours, let reference else { return "ours \(ours?.count ?? -1) items, fpcalc's \(reference?.count ?? -1)" }
    let differing = zip(ours, reference).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
    return "ours \(ours.count) items, fpcalc's \(reference.count); \(differing.count) differ"
        + (differing.first.map { ", first at \($0)" } ?? "")
}

/// Decodes a file with MediaIO and fingerprints it with the Fingerprint module, in one pass, as the ingest does.
private func fingerprints(of path: String) throws -> (full: Fingerprint?, lookup: Fingerprint?) {
    let decoder = try AudioDecoder(path: path)
    let resampler = try Resampler(
        decoder: decoder, output: PCMFormat(sampleRate: Fingerprinter.sampleRate, channels: 1, conversion: .fpcalc)
    )
    let full = try Fingerprinter()
    let lookup = try Fingerprinter(limitSeconds: Fingerprinter.lookupSeconds)
    while let frame = try decoder.nextFrame() {
        let samples = try resampler.convert(frame).samples
        try full.feed(samples)
        try lookup.feed(samples)
    }
    let rest = try resampler.flush().samples
    try full.feed(rest)
    try lookup.feed(rest)
    return (try full.finish(), try lookup.finish())
}

/// Longer inputs made at test time from a committed fixture, one per kind of source the ingest accepts, so the
/// 120-second limit and every decoder and channel layout are exercised.
private enum LongInputs {
    static let directory: URL = {
        let directory = (try? Repository.temporaryDirectory("fingerprint-inputs"))
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("musikk-fingerprint-inputs")
        let source = Repository.goodMasters.appendingPathComponent("Sonic Pi/Loops/01 Tabla.flac").path
        for (name, arguments) in recipes {
            let output = directory.appendingPathComponent(name).path
            _ = try? Command.run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-stream_loop", "14", "-i", source]
                + arguments + ["-t", "150", output])
        }
        return directory
    }()

    static let recipes: [(String, [String])] = [
        ("cd-150s.flac", ["-c:a", "flac"]),
        ("surround-5.1.flac", ["-af", "pan=5.1|c0=c0|c1=c1|c2=0.5*c0+0.5*c1|c3=0.1*c0|c4=0.7*c0|c5=0.7*c1,aresample=48000",
                               "-c:a", "flac"]),
        ("mono-22k.wav", ["-ac", "1", "-ar", "22050", "-c:a", "pcm_s16le"]),
        ("hires-96k-24bit.flac", ["-af", "aresample=96000", "-sample_fmt", "s32", "-c:a", "flac"]),
        ("lame-192k.mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
        ("aac-256k.m4a", ["-c:a", "aac", "-b:a", "256k"]),
        ("opus-128k.opus", ["-c:a", "libopus", "-b:a", "128k"]),
    ]

    /// Sources whose decoder gives 16-bit samples.
    static var sixteenBit: [String] { recipes.prefix(3).map { directory.appendingPathComponent($0.0).path } }
    /// Sources whose decoder gives float or 32-bit samples.
    static var wideSamples: [String] { recipes.dropFirst(3).map { directory.appendingPathComponent($0.0).path } }
}

@Suite("Fingerprints against fpcalc")
struct FpcalcCompatibilityTests {
    static var fixtures: [String] {
        let enumerator = FileManager.default.enumerator(at: Repository.goodMasters, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? [])
            .filter { ["flac", "wav", "aiff", "mp3", "ogg", "opus", "m4a", "mp4"].contains($0.pathExtension) }
            .map(\.path).sorted()
    }

    /// Most committed fixtures are loops of 1-3 s, shorter than Chromaprint needs: fpcalc then prints no
    /// fingerprint ("Empty fingerprint"), and neither must we.
    @Test("every fixture: the same fingerprint as fpcalc -length 0, or none when fpcalc finds none", arguments: fixtures)
    func fixtureMatchesFpcalc(path: String) throws {
        let ours = try fingerprints(of: path)
        let reference = try FpcalcOutput.of(path, length: 0)
        #expect(ours.full?.raw == reference?.raw, "\(difference(ours.full?.raw, reference?.raw))")
        #expect(ours.full?.compressed == reference?.compressed)
    }

    @Test("150 s, 16-bit sources (CD FLAC, 5.1 FLAC, mono WAV): raw and compressed equal fpcalc's, full and 120 s",
          arguments: LongInputs.sixteenBit)
    func sixteenBitMatchesFpcalc(path: String) throws {
        let ours = try fingerprints(of: path)
        let full = try #require(try FpcalcOutput.of(path, length: 0), "fpcalc printed nothing for \(path)")
        let lookup = try #require(try FpcalcOutput.of(path, length: 120))
        // About 8 sub-fingerprints per second: the limit must have cut the second one.
        #expect(full.raw.count > 1_150)
        #expect(lookup.raw.count < 975)
        #expect(ours.full?.raw == full.raw, "\(difference(ours.full?.raw, full.raw))")
        #expect(ours.full?.compressed == full.compressed)
        #expect(ours.lookup?.raw == lookup.raw, "\(difference(ours.lookup?.raw, lookup.raw))")
        #expect(ours.lookup?.compressed == lookup.compressed)
    }

    /// Float and 24-bit decoders are where a conversion that is not fpcalc's shows: libswresample must pick its
    /// internal sample format as fpcalc leaves it to (float here), not be told 16-bit.
    @Test("150 s, float and 24-bit sources (MP3, AAC, Opus, 24-bit FLAC): raw and compressed equal fpcalc's, full and 120 s",
          arguments: LongInputs.wideSamples)
    func wideSamplesMatchFpcalc(path: String) throws {
        let ours = try fingerprints(of: path)
        for (length, fingerprint) in [(0, ours.full), (120, ours.lookup)] {
            let reference = try #require(try FpcalcOutput.of(path, length: length), "fpcalc printed nothing for \(path)")
            #expect(fingerprint?.raw == reference.raw, "\(difference(fingerprint?.raw, reference.raw))")
            #expect(fingerprint?.compressed == reference.compressed)
        }
    }

    @Test("a compressed fingerprint decodes back to its raw form")
    func compressedRoundTrip() throws {
        let path = LongInputs.sixteenBit[0]
        let reference = try #require(try FpcalcOutput.of(path, length: 120))
        let decoded = try Fingerprint(compressed: reference.compressed)
        #expect(decoded.raw == reference.raw)
        #expect(Fingerprint.raw(fromBytes: try Fingerprint(raw: reference.raw).rawBytes) == reference.raw)
    }
}
