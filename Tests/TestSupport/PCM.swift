import Foundation

/// Decoded audio as the `ffmpeg` CLI or GStreamer present it: mono float samples at a fixed rate.
public struct DecodedAudio: Sendable {
    public var samples: [Float]
    public var sampleRate: Int

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }

    /// Decodes with the ffmpeg CLI. `respectTimestamps` keeps container timestamps (`-copyts`) and drops samples
    /// before presentation time zero (`atrim=start=0`), i.e. presents the stream as its timing says.
    public static func ffmpeg(_ input: String, sampleRate: Int = 44_100, respectTimestamps: Bool = true) throws -> (DecodedAudio, String) {
        var arguments = ["-nostdin", "-v", "error"]
        if respectTimestamps { arguments.append("-copyts") }
        arguments += ["-i", input, "-vn", "-af", (respectTimestamps ? "atrim=start=0," : "") + "aresample=\(sampleRate)",
                      "-ac", "1", "-f", "f32le", "-"]
        let result = try Command.run("ffmpeg", arguments)
        return (DecodedAudio(samples: floats(result.standardOutput), sampleRate: sampleRate),
                result.status == 0 ? result.standardError : "exit \(result.status): \(result.standardError)")
    }

    /// Plays `uri` with GStreamer's playbin into a file and reads it back (at most a minute: a stalled play ends
    /// with status 124, or 137 or 9 when it had to be killed).
    public static func gstreamer(uri: String, sampleRate: Int = 44_100) throws -> (DecodedAudio, CommandResult) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("gst-\(UUID().uuidString).raw")
        defer { try? FileManager.default.removeItem(at: output) }
        let sink = "audioconvert ! audioresample ! audio/x-raw,format=F32LE,channels=1,rate=\(sampleRate) "
            + "! filesink location=\(output.path)"
        // gst-launch may outlive a SIGTERM while stalled: KILL it 5 s later (exit status 137).
        let result = try Command.run("timeout", ["-k", "5", "60", "gst-launch-1.0", "-q", "playbin", "uri=\(uri)", "audio-sink=\(sink)",
                                                 "video-sink=fakesink"])
        let data = (try? Data(contentsOf: output)) ?? Data()
        return (DecodedAudio(samples: floats(data), sampleRate: sampleRate), result)
    }

    /// The shift, in samples, that best lines `self` up with `reference` (positive: `self` is late), found by
    /// cross-correlation within ±`maximumLag` over `window` samples from where the reference becomes audible.
    public func lag(against reference: DecodedAudio, maximumLag: Int = 1536, window: Int = 16_384) -> Int? {
        let onset = reference.samples.firstIndex { abs($0) > 0.01 } ?? 0
        let start = max(onset, maximumLag)
        let end = min(start + window, reference.samples.count, samples.count - maximumLag)
        guard end > start else { return nil }
        var best = 0
        var bestScore = -Float.infinity
        samples.withUnsafeBufferPointer { decoded in
            reference.samples.withUnsafeBufferPointer { source in
                for shift in -maximumLag...maximumLag {
                    var score: Float = 0
                    for index in start..<end { score += decoded[index + shift] * source[index] }
                    if score > bestScore {
                        bestScore = score
                        best = shift
                    }
                }
            }
        }
        return best
    }

    private static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
