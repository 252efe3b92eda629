import Foundation
import Segmenter
import Testing
import TestSupport

/// AAC access units taken from an ADTS stream that the ffmpeg CLI encodes, so the packets do not come from
/// Musikk's own encoder.
struct ADTSFixture {
    var packets: [[UInt8]]
    var adts: URL

    /// `seconds` of a 44.1 kHz stereo chirp.
    static func make(seconds: Double) throws -> ADTSFixture {
        let directory = try Repository.temporaryDirectory("adts")
        let adts = directory.appendingPathComponent("input.aac")
        let result = try Command.run("ffmpeg", [
            "-nostdin", "-v", "error", "-f", "lavfi",
            "-i", "aevalsrc=0.5*sin(2*PI*(300*t+200*t*t)):s=44100:d=\(seconds):c=stereo",
            "-c:a", "aac", "-b:a", "128k", "-f", "adts", adts.path,
        ])
        guard result.status == 0 else { throw FixtureFailure(result.standardError) }
        let bytes = [UInt8](try Data(contentsOf: adts))
        var packets: [[UInt8]] = []
        var position = 0
        while position + 7 <= bytes.count {
            guard bytes[position] == 0xFF, bytes[position + 1] & 0xF0 == 0xF0 else { throw FixtureFailure("lost ADTS sync") }
            let headerLength = bytes[position + 1] & 0x01 == 1 ? 7 : 9
            let frameLength = Int(bytes[position + 3] & 0x03) << 11 | Int(bytes[position + 4]) << 3
                | Int(bytes[position + 5]) >> 5
            packets.append(Array(bytes[(position + headerLength)..<(position + frameLength)]))
            position += frameLength
        }
        return ADTSFixture(packets: packets, adts: adts)
    }

    /// AAC-LC, 44.1 kHz, stereo (ISO/IEC 14496-3 AudioSpecificConfig).
    static let audioSpecificConfig: [UInt8] = [0x12, 0x10]

    static let format = TrackFormat(
        sampleEntry: .aac(audioSpecificConfig: audioSpecificConfig), sampleRate: 44_100, channels: 2,
        frameSize: 1024, primingSamples: 1024
    )
}

struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("CMAF writer")
struct CMAFWriterTests {
    private func write(_ packets: [[UInt8]], layout: SegmentLayout, presentation: Int64) throws -> (SegmentedTrack, URL) {
        let directory = try Repository.temporaryDirectory("cmaf")
        let writer = try CMAFWriter(format: ADTSFixture.format, layout: layout, directory: directory, name: "aac")
        for packet in packets { try writer.append(packet) }
        return (try writer.finish(presentationSamples: presentation), directory)
    }

    @Test("ffprobe reads back every access unit, in order, with sample-rate timestamps")
    func packetsRoundTrip() throws {
        let fixture = try ADTSFixture.make(seconds: 10)
        let (_, directory) = try write(fixture.packets, layout: .singleFile, presentation: 441_000)
        let probe = try Command.run("ffprobe", [
            "-v", "error", "-select_streams", "a", "-show_entries", "packet=dts,duration,size", "-of", "csv=p=0",
            directory.appendingPathComponent("aac.mp4").path,
        ])
        #expect(probe.status == 0, "\(probe.standardError)")
        let rows = probe.text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == fixture.packets.count)
        for (index, row) in rows.enumerated() where row.count == 3 {
            // The edit list shifts presentation by the priming: the first access unit sits at -1024.
            #expect(Int(row[0]) == index * 1024 - 1024)
            // FFmpeg gives the priming packet, which lies before the edit, no duration.
            #expect(row[1] == (index == 0 ? "N/A" : "1024"))
            #expect(Int(row[2]) == fixture.packets[index].count)
        }
    }

    @Test("decoding the CMAF file gives the same PCM as decoding the ADTS stream it was made from")
    func decodesLikeTheSource() throws {
        let fixture = try ADTSFixture.make(seconds: 4)
        let (_, directory) = try write(fixture.packets, layout: .singleFile, presentation: 176_400)
        let (adts, adtsErrors) = try DecodedAudio.ffmpeg(fixture.adts.path, respectTimestamps: false)
        let (cmaf, cmafErrors) = try DecodedAudio.ffmpeg(directory.appendingPathComponent("aac.mp4").path, respectTimestamps: false)
        #expect(adtsErrors.isEmpty && cmafErrors.isEmpty, "\(adtsErrors) \(cmafErrors)")
        #expect(adts.samples == cmaf.samples)
    }

    @Test("fragments hold whole frames near the target; a remainder under half a fragment joins the last one",
          arguments: [3.0, 7.0, 10.0, 12.0, 20.0])
    func fragmentPlan(seconds: Double) throws {
        let fixture = try ADTSFixture.make(seconds: seconds)
        let (track, _) = try write(fixture.packets, layout: .singleFile, presentation: Int64(seconds * 44_100))
        // 6 s at 44.1 kHz is 258.4 frames of 1024 samples: 258 per fragment.
        let total = fixture.packets.count
        var expected = Array(repeating: 258, count: total / 258)
        let remainder = total % 258
        if remainder * 2 >= 258 || expected.isEmpty {
            expected.append(remainder)
        } else {
            expected[expected.count - 1] += remainder
        }
        #expect(track.fragments.map { Int($0.duration / 1024) } == expected)
        #expect(track.fragments.map { Int($0.duration / 1024) }.reduce(0, +) == total)
        #expect(track.fragments.dropLast().allSatisfy { $0.duration == 258 * 1024 })
    }

    @Test("the sidx indexes every fragment, each starting with a moof, up to the end of the file")
    func segmentIndex() throws {
        let fixture = try ADTSFixture.make(seconds: 20)
        let (track, directory) = try write(fixture.packets, layout: .singleFile, presentation: 882_000)
        let file = directory.appendingPathComponent("aac.mp4")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
        let index = try #require(track.index)
        #expect(HLSChecker.boxTypes(in: file, offset: 0, length: track.initialization.length) == ["ftyp", "moov"])
        #expect(HLSChecker.boxTypes(in: file, offset: index.offset, length: index.length) == ["sidx"])
        #expect(track.fragments.first?.byteRange?.offset == index.offset + index.length)
        for fragment in track.fragments {
            let range = try #require(fragment.byteRange)
            #expect(HLSChecker.boxTypes(in: file, offset: range.offset, length: range.length) == ["moof", "mdat"])
        }
        #expect(track.fragments.last?.byteRange.map { $0.offset + $0.length } == size)
        #expect(track.totalSize == size)
    }

    @Test("segment files concatenated after the init segment play like the single file")
    func segmentFiles() throws {
        let fixture = try ADTSFixture.make(seconds: 13)
        let (track, directory) = try write(fixture.packets, layout: .segmentFiles, presentation: 573_300)
        #expect(track.initializationFile == "aac/init.mp4")
        #expect(track.fragments.map(\.fileName) == ["aac/seg-1.m4s", "aac/seg-2.m4s"])
        var joined = try Data(contentsOf: directory.appendingPathComponent("aac/init.mp4"))
        for fragment in track.fragments {
            joined += try Data(contentsOf: directory.appendingPathComponent(try #require(fragment.fileName)))
        }
        let joinedURL = directory.appendingPathComponent("joined.mp4")
        try joined.write(to: joinedURL)
        let (decoded, errors) = try DecodedAudio.ffmpeg(joinedURL.path, respectTimestamps: false)
        #expect(errors.isEmpty, "\(errors)")
        #expect(decoded.samples.count == fixture.packets.count * 1024)
    }

    @Test("the same packets give the same bytes")
    func deterministic() throws {
        let fixture = try ADTSFixture.make(seconds: 8)
        let (_, first) = try write(fixture.packets, layout: .singleFile, presentation: 352_800)
        let (_, second) = try write(fixture.packets, layout: .singleFile, presentation: 352_800)
        let a = try Data(contentsOf: first.appendingPathComponent("aac.mp4"))
        let b = try Data(contentsOf: second.appendingPathComponent("aac.mp4"))
        #expect(a == b)
        #expect(!a.isEmpty)
    }

    @Test("an OpusHead (RFC 7845 §5.1) becomes the dOps fields")
    func opusHead() throws {
        // "OpusHead", version 1, 2 channels, pre-skip 312, 48000 Hz, gain -256 (Q7.8 -1 dB), mapping family 0.
        let head: [UInt8] = Array("OpusHead".utf8) + [1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0x00, 0xFF, 0]
        let configuration = try #require(OpusConfiguration(opusHead: head))
        #expect(configuration.outputChannelCount == 2)
        #expect(configuration.preSkip == 312)
        #expect(configuration.inputSampleRate == 48_000)
        #expect(configuration.outputGain == -256)
        #expect(configuration.channelMappingFamily == 0)
        #expect(OpusConfiguration(opusHead: Array("OpusTags".utf8) + head.dropFirst(8)) == nil)
    }
}
