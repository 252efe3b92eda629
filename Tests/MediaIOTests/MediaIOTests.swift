import Foundation
import MediaIO
import Testing
import TestSupport

@Suite("MediaIO")
struct MediaIOTests {
    private func generate(_ name: String, _ arguments: [String]) throws -> URL {
        let url = try Repository.temporaryDirectory("mediaio").appendingPathComponent(name)
        let result = try Command.run("ffmpeg", ["-nostdin", "-v", "error"] + arguments + [url.path])
        #expect(result.status == 0, "\(result.standardError)")
        return url
    }

    private func decodeAll(_ decoder: AudioDecoder) throws(MediaError) {
        while try decoder.nextFrame() != nil {}
    }

    @Test("encoders report the priming FFmpeg documents: 1024 for aac, the 312-sample pre-skip for libopus")
    func priming() throws {
        let aac = try AudioEncoder(settings: EncoderSettings(codec: .aac, bitrate: 128_000, sampleRate: 44_100, channels: 2))
        #expect(aac.frameSize == 1024)
        #expect(aac.primingSamples == 1024)
        // AAC-LC, 44.1 kHz, stereo; FFmpeg appends an explicit "no SBR" sync extension (0x2B7) after it.
        #expect(aac.codecConfiguration.starts(with: [0x12, 0x10]))
        let opus = try AudioEncoder(settings: EncoderSettings(codec: .opus, bitrate: 96_000, sampleRate: 48_000, channels: 2))
        #expect(opus.frameSize == 960)
        #expect(opus.primingSamples == 312)
        #expect(opus.codecConfiguration.starts(with: Array("OpusHead".utf8)))
    }

    @Test("a clean MP3 decodes; one with damaged bytes in the middle is rejected at that time")
    func damagedMP3() throws {
        let clean = try generate("clean.mp3", ["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*(300*t+100*t*t)):s=44100:d=6",
                                               "-c:a", "libmp3lame", "-b:a", "128k"])
        let cleanDecoder = try AudioDecoder(path: clean.path)
        try decodeAll(cleanDecoder)
        #expect(abs(cleanDecoder.decodedSeconds - 6) < 0.03)

        var bytes = [UInt8](try Data(contentsOf: clean))
        let middle = bytes.count / 2
        for index in middle..<(middle + 2000) { bytes[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
        let damaged = clean.deletingLastPathComponent().appendingPathComponent("damaged.mp3")
        try Data(bytes).write(to: damaged)
        let decoder = try AudioDecoder(path: damaged.path)
        #expect {
            try decodeAll(decoder)
        } throws: { error in
            guard case let MediaError.corrupt(path, seconds, _) = error else { return false }
            return path == damaged.path && seconds > 2 && seconds < 4
        }
        // Told to tolerate damage, the same file decodes to the end.
        let tolerant = try AudioDecoder(path: damaged.path, strict: false)
        try decodeAll(tolerant)
        #expect(tolerant.decodedSeconds > 5)
    }

    /// ffmpeg re-encoding Ogg Vorbis to AAC in M4A writes packets 448 samples late and the next one early
    /// (FFmpeg estimates Vorbis packet durations); FFmpeg's `setts` filter makes the same shape on purpose, and its
    /// opposite, every packet from one on late: a net gap in the timeline, as lost data leaves.
    @Test("AAC in M4A: a packet 10 ms late and the next early is jitter and decodes; a net 100 ms gap is rejected there")
    func timestampDrift() throws {
        let clean = try generate("clean.m4a", ["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*(300*t+100*t*t)):s=44100:d=6",
                                               "-c:a", "aac", "-b:a", "128k"])
        func shifted(_ name: String, _ expression: String) throws -> URL {
            try generate(name, ["-i", clean.path, "-c:a", "copy", "-bsf:a", "setts=ts=\(expression)"])
        }
        let jitter = try shifted("jitter.m4a", "TS+if(eq(N\\,100)\\,441\\,0)+if(eq(N\\,180)\\,300\\,0)")
        let jitterDecoder = try AudioDecoder(path: jitter.path)
        try decodeAll(jitterDecoder)
        #expect(abs(jitterDecoder.decodedSeconds - 6) < 0.03)

        // Packet 100 starts at 2.32 s; from it on every packet is 100 ms late.
        let gap = try shifted("gap.m4a", "TS+if(gte(N\\,100)\\,4410\\,0)")
        let gapDecoder = try AudioDecoder(path: gap.path)
        #expect {
            try decodeAll(gapDecoder)
        } throws: { error in
            guard case let MediaError.corrupt(path, seconds, detail) = error else { return false }
            return path == gap.path && abs(seconds - 2.3) < 0.1 && detail.hasPrefix("100 ms of audio missing")
        }
    }

    /// The Xing/LAME header declares every frame, priming and end padding included; at 576 samples a frame
    /// (MPEG-2 and 2.5 layer III) the padding alone is longer than 50 ms.
    @Test("MP3s at 8, 11.025, 16 and 22.05 kHz from lame decode whole; cut short in transfer, they are truncated",
          arguments: [8_000, 11_025, 16_000, 22_050])
    func lowRateMP3(sampleRate: Int) throws {
        let wave = try generate("source-\(sampleRate).wav", [
            "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*(300*t+100*t*t)):s=\(sampleRate):d=8", "-c:a", "pcm_s16le",
        ])
        let mp3 = wave.deletingPathExtension().appendingPathExtension("mp3")
        let lame = try Command.run("lame", ["--quiet", "-V", "5", wave.path, mp3.path])
        #expect(lame.status == 0, "\(lame.standardError)")
        let decoder = try AudioDecoder(path: mp3.path)
        try decodeAll(decoder)
        #expect(abs(decoder.decodedSeconds - 8) < 0.01)

        let bytes = try Data(contentsOf: mp3)
        let cut = mp3.deletingLastPathComponent().appendingPathComponent("cut-\(sampleRate).mp3")
        try bytes.prefix(bytes.count * 7 / 10).write(to: cut)
        let cutDecoder = try AudioDecoder(path: cut.path)
        #expect {
            try decodeAll(cutDecoder)
        } throws: { error in
            guard case let MediaError.truncated(path, decoded, declared) = error else { return false }
            return path == cut.path && decoded < 6 && abs(declared - 8) < 0.2
        }
    }

    @Test("time positions format as m:ss.mmm, and values from damaged headers neither trap nor mislead")
    func timecodes() {
        #expect(Timecode.format(62.345) == "1:02.345")
        #expect(Timecode.format(-3) == "0:00.000")
        #expect(Timecode.format(.nan) == "?:??.???")
        #expect(Timecode.format(.infinity) == "?:??.???")
        // 2^63 ticks of a 1/1 time base: an Int64 duration FFmpeg can report for a damaged header.
        #expect(Timecode.format(9.2e18) == Timecode.format(1000.0 * 365 * 86_400))
    }

    @Test("digital silence is told apart from very quiet sound (-60 dB, a few LSBs in 16 bits)")
    func silence() throws {
        let silent = try generate("silent.wav", ["-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "2", "-c:a", "pcm_s16le"])
        let decoder = try AudioDecoder(path: silent.path)
        try decodeAll(decoder)
        #expect(!decoder.containsSound)
        let quiet = try generate("quiet.wav", ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=2", "-af", "volume=-60dB", "-c:a", "pcm_s16le"])
        let quietDecoder = try AudioDecoder(path: quiet.path)
        try decodeAll(quietDecoder)
        #expect(quietDecoder.containsSound)
    }

    @Test("the resampler converts rate and downmixes 5.1 to stereo, keeping the length")
    func resample() throws {
        let surround = try generate("surround.flac", ["-f", "lavfi", "-i", "sine=f=440:r=44100:d=3", "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "flac"])
        let decoder = try AudioDecoder(path: surround.path)
        #expect(decoder.format.channels == 6)
        let resampler = try Resampler(decoder: decoder, output: PCMFormat(sampleRate: 48_000, channels: 2))
        var frames = 0
        while let frame = try decoder.nextFrame() {
            let buffer = try resampler.convert(frame)
            #expect(buffer.format.channels == 2)
            frames += buffer.frameCount
        }
        frames += try resampler.flush().frameCount
        #expect(abs(frames - 144_000) <= 1)
    }

    @Test("tags, cover art and the declared format are read from the container")
    func containerFacts() throws {
        let url = Repository.goodMasters.appendingPathComponent("Sonic Pi/Ambient/01 Piano.mp3")
        let decoder = try AudioDecoder(path: url.path)
        #expect(decoder.tags["title"] == "Piano")
        #expect(decoder.tags["album"] == "Ambient")
        #expect(decoder.coverArt?.mimeType == "image/png")
        #expect(decoder.format.codecName == "mp3float" || decoder.format.codecName == "mp3")
        #expect(decoder.format.bitsPerSample == nil)
        let flac = try AudioDecoder(path: Repository.goodMasters.appendingPathComponent("Sonic Pi/Loops/01 Tabla.flac").path)
        #expect(flac.format.bitsPerSample == 16)
        #expect(flac.format.declaredDuration.map { abs($0 - 10.674) < 0.001 } == true)
    }
}
