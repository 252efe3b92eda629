import Foundation
import Manifest
import Segmenter
import Testing
import TestSupport

/// A synthetic AAC track: fragment sizes vary so that peak, average and leaky-bucket rates all differ.
private func track(fragmentSizes: [Int], layout: SegmentLayout = .singleFile, framesPerFragment: Int = 258) -> SegmentedTrack {
    let format = TrackFormat(
        sampleEntry: .aac(audioSpecificConfig: [0x12, 0x10]), sampleRate: 44_100, channels: 2, frameSize: 1024,
        primingSamples: 1024
    )
    var fragments: [Fragment] = []
    var offset = 1000
    for (index, size) in fragmentSizes.enumerated() {
        let duration = Int64(framesPerFragment * 1024)
        fragments.append(Fragment(
            startTime: Int64(index) * duration, duration: duration, size: size,
            byteRange: layout == .singleFile ? ByteRange(offset: offset, length: size) : nil,
            fileName: layout == .segmentFiles ? "aac-128k/seg-\(index + 1).m4s" : nil
        ))
        offset += size
    }
    let samples = Int64(fragmentSizes.count * framesPerFragment * 1024 - 1024 - 500)
    return SegmentedTrack(
        format: format, layout: layout, initializationFile: layout == .singleFile ? "aac-128k.mp4" : "aac-128k/init.mp4",
        initialization: ByteRange(offset: 0, length: 700),
        index: layout == .singleFile ? ByteRange(offset: 700, length: 300) : nil,
        fragments: fragments, presentationSamples: samples, totalSize: offset
    )
}

@Suite("DASH MPD")
struct DASHManifestTests {
    /// Simulates ISO/IEC 23009-1's definition directly: deliver at `bandwidth` from a fragment start, start
    /// playing after `minBufferTime`, and see whether any fragment arrives after it is due.
    private func underruns(_ track: SegmentedTrack, bandwidth: Double, minBufferTime: Double) -> Bool {
        let rate = Double(track.format.sampleRate)
        for start in track.fragments.indices {
            var arrived = 0.0
            for fragment in track.fragments[start...] {
                arrived += Double(fragment.size * 8) / bandwidth
                let due = minBufferTime + Double(fragment.startTime - track.fragments[start].startTime) / rate
                if arrived > due + 1e-9 { return true }
            }
        }
        return false
    }

    @Test("@bandwidth is the least rate that never underruns with minBufferTime of buffering",
          arguments: [[100_000, 90_000, 120_000, 80_000], [50_000, 200_000, 50_000], [70_000]])
    func bandwidthIsTheLeakyBucketRate(sizes: [Int]) {
        let track = track(fragmentSizes: sizes)
        let bandwidth = DASHManifest.bandwidth(of: track, minBufferTime: DASHManifest.minBufferTime)
        #expect(!underruns(track, bandwidth: Double(bandwidth), minBufferTime: DASHManifest.minBufferTime))
        #expect(underruns(track, bandwidth: Double(bandwidth) * 0.99, minBufferTime: DASHManifest.minBufferTime))
    }

    @Test("on-demand and live MPDs validate against the ISO schema", arguments: [SegmentLayout.singleFile, .segmentFiles])
    func validatesAgainstSchema(layout: SegmentLayout) throws {
        let renditions = [
            PackagedRendition(name: "aac-128k", codec: .aacLC, track: track(fragmentSizes: [96_000, 97_000, 40_000], layout: layout)),
            PackagedRendition(name: "aac-64k", codec: .aacLC, track: track(fragmentSizes: [48_000, 49_000, 20_000], layout: layout)),
        ]
        let mpd = try DASHManifest.mpd(for: renditions)
        let url = try Repository.temporaryDirectory("mpd").appendingPathComponent("manifest.mpd")
        try Data(mpd.utf8).write(to: url)
        let result = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path, url.path])
        #expect(result.status == 0, "\(result.standardError)\n\(mpd)")
        let profile = layout == .singleFile ? "isoff-on-demand:2011" : "isoff-live:2011"
        #expect(mpd.contains(profile))
        // Millisecond precision: 3 fragments of 258 frames less 1524 samples of priming and padding.
        let seconds = Double(3 * 258 * 1024 - 1524) / 44_100
        #expect(mpd.contains("mediaPresentationDuration=\"PT\(String(format: "%.3f", seconds))S\""))
        #expect(mpd.contains("segmentAlignment=\"true\""))
        #expect(mpd.contains("schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\""))
    }

    @Test("segmentAlignment is claimed only when fragments really line up")
    func alignmentOnlyWhenTrue() throws {
        let renditions = [
            PackagedRendition(name: "a", codec: .aacLC, track: track(fragmentSizes: [1000, 1000])),
            PackagedRendition(name: "b", codec: .aacLC, track: track(fragmentSizes: [1000, 1000], framesPerFragment: 200)),
        ]
        let mpd = try DASHManifest.mpd(for: renditions)
        #expect(!mpd.contains("segmentAlignment"))
    }
}

@Suite("HLS playlists")
struct HLSPlaylistTests {
    @Test("a media playlist passes the RFC 8216 checker and presents the priming-free duration")
    func mediaPlaylist() throws {
        let track = track(fragmentSizes: [96_000, 97_000, 40_000])
        let text = HLSPlaylists.mediaPlaylist(for: PackagedRendition(name: "aac-128k", codec: .aacLC, track: track))
        let durations = text.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            .compactMap { Double($0.dropFirst(8).dropLast()) }
        #expect(durations.count == 3)
        #expect(abs(durations.reduce(0, +) - Double(track.presentationSamples) / 44_100) < 0.00001)
        #expect(abs(durations[0] - Double(258 * 1024 - 1024) / 44_100) < 0.000001)
        #expect(text.contains("#EXT-X-TARGETDURATION:6\n"))
        #expect(text.contains("#EXT-X-VERSION:6\n"))
        #expect(text.contains("#EXT-X-MAP:URI=\"aac-128k.mp4\",BYTERANGE=\"700@0\""))
        #expect(text.contains("#EXT-X-BYTERANGE:96000@1000\n"))
        #expect(text.hasSuffix("#EXT-X-ENDLIST\n"))
    }

    @Test("the master names every rendition with its codec, peak and average bandwidth")
    func masterPlaylist() {
        let aac = PackagedRendition(name: "aac-128k", codec: .aacLC, track: track(fragmentSizes: [96_000, 120_000, 40_000]))
        let opus = PackagedRendition(name: "opus-96k", codec: .opus, track: track(fragmentSizes: [70_000, 72_000]))
        let text = HLSPlaylists.masterPlaylist(for: [aac, opus]) { $0.name + ".m3u8" }
        #expect(text.contains("CODECS=\"mp4a.40.2\""))
        #expect(text.contains("CODECS=\"Opus\""))
        // Peak: the 120 000-byte fragment over its 5.99 s is the largest rate of any window of 3 to 9 s.
        let peak = Int((120_000.0 * 8 / (Double(258 * 1024) / 44_100)).rounded(.up))
        #expect(text.contains("BANDWIDTH=\(peak),"))
        #expect(HLSPlaylists.peakSegmentBitrate(of: aac.track) == peak)
    }
}
