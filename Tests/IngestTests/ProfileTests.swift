import Foundation
import Ingest
import Testing
import TestSupport

@Suite("profiles")
struct ProfileTests {
    @Test("examples/profile.toml spells out exactly the defaults")
    func exampleIsDefault() throws {
        let profile = try Profile.load(path: Repository.root.appendingPathComponent("examples/profile.toml").path)
        #expect(profile == Profile())
    }

    @Test("a profile overrides the ladder, layout, validation and analysis")
    func overrides() throws {
        let url = try Repository.temporaryDirectory("profile").appendingPathComponent("p.toml")
        try Data("""
            layout = "segment-files"
            fragment_duration = 4
            [[rendition]]
            codec = "opus"
            bitrate = 48
            [validation]
            min_duration_seconds = 0.5
            reject_silence = false
            [analysis]
            skip_duplicates = true
            duplicate_threshold = 0.9
            waveform_bits = 16
            waveform_pixels_per_second = 50
            waveform_split_channels = true
            """.utf8).write(to: url)
        let profile = try Profile.load(path: url.path)
        #expect(profile.layout == .segmentFiles)
        #expect(profile.fragmentDuration == 4)
        #expect(profile.ladder == [Profile.Rung(codec: .opus, bitrate: 48_000)])
        #expect(profile.validation.minimumDuration == 0.5)
        #expect(!profile.validation.rejectSilence)
        #expect(profile.validation.rejectDamaged)
        #expect(profile.analysis.enabled)
        #expect(profile.analysis.skipDuplicates)
        #expect(profile.analysis.duplicateThreshold == 0.9)
        #expect(profile.analysis.waveformBits == 16)
        #expect(profile.analysis.waveformPixelsPerSecond == 50)
        #expect(profile.analysis.waveformSplitChannels)
    }

    @Test("bad values are refused with the key named", arguments: [
        ("layout = \"tiles\"", "layout"),
        ("[[rendition]]\ncodec = \"mp3\"\nbitrate = 128", "rendition[0].codec"),
        ("[[rendition]]\ncodec = \"aac\"\nbitrate = 4", "rendition[0].bitrate"),
        ("[validation]\nmax_channel = 2", "validation.max_channel"),
        ("fragment_duration = 0.1", "fragment_duration"),
        ("[analysis]\nduplicate_threshold = 0.2", "analysis.duplicate_threshold"),
        ("[analysis]\nwaveform_bits = 12", "analysis.waveform_bits"),
        ("[analysis]\nfingerprint = true", "analysis.fingerprint"),
        ("[[rendition]]\ncodec = \"flac\"\nbitrate = 900", "rendition[0].bitrate"),
        ("[[rendition]]\ncodec = \"flac\"\nsurround = \"maybe\"", "rendition[0].surround"),
        ("[protection]\nscheme = \"cenc\"", "protection.scheme"),
        ("[protection]\nlicense_url = \"/x\"", "protection.scheme"),
        ("[protection]\nscheme = \"cbcs\"\nlicense_url = \"ftp://x\"", "protection.license_url"),
        ("[protection]\nscheme = \"cbcs\"\nfolders = [\"/abs\"]", "protection.folders"),
        ("[protection]\nscheme = \"cbcs\"\nkey = \"00\"", "protection.key"),
    ])
    func refused(text: String, key: String) throws {
        let url = try Repository.temporaryDirectory("profile").appendingPathComponent("p.toml")
        try Data(text.utf8).write(to: url)
        #expect {
            _ = try Profile.load(path: url.path)
        } throws: { error in
            guard case let ProfileError.invalid(_, named, _) = error else { return false }
            return named == key
        }
    }

    @Test("the lossless rung and the protected tier: names, tiers, and which masters protection covers")
    func tiers() throws {
        let url = try Repository.temporaryDirectory("profile").appendingPathComponent("p.toml")
        try Data("""
            [[rendition]]
            codec = "aac"
            bitrate = 128
            [[rendition]]
            codec = "flac"
            surround = "keep"
            [protection]
            scheme = "cbcs"
            license_url = "https://keys.example.com/api/drm/clearkey/"
            folders = ["Label/Album"]
            """.utf8).write(to: url)
        let profile = try Profile.load(path: url.path)
        #expect(profile.ladder.map(\.name) == ["aac-128k", "flac"])
        #expect(profile.ladder.map(\.tier) == ["lossy", "lossless"])
        #expect(profile.ladder[1] == .lossless(keepsSurround: true))
        let protection = try #require(profile.protection)
        #expect(protection.licenseURL == "https://keys.example.com/api/drm/clearkey")
        #expect(protection.covers("Label/Album/01.flac"))
        #expect(!protection.covers("Label/Album 2/01.flac"))
        #expect(!protection.covers("Other/01.flac"))
        #expect(Profile.Protection().covers("anything.flac"))
    }

    @Test("FLAC keeps the source's rate up to 192 kHz and its depth as 16 or 24 bits; surround is kept only when asked")
    func losslessSettings() {
        let lossless = Profile.Rung.lossless()
        let keep = Profile.Rung.lossless(keepsSurround: true)
        let cases: [(Profile.Rung, Int, Int, Int?, (rate: Int, channels: Int, bits: Int))] = [
            (lossless, 44_100, 2, 16, (44_100, 2, 16)),
            (lossless, 96_000, 2, 24, (96_000, 2, 24)),
            (lossless, 192_000, 1, 24, (192_000, 1, 24)),
            (lossless, 352_800, 2, 24, (176_400, 2, 24)),
            (lossless, 384_000, 2, 32, (192_000, 2, 24)),
            (lossless, 48_000, 6, 24, (48_000, 2, 24)),
            (keep, 48_000, 6, 24, (48_000, 6, 24)),
            (lossless, 44_100, 2, nil, (44_100, 2, 16)),
            (lossless, 22_050, 2, 8, (22_050, 2, 16)),
        ]
        for (rung, rate, channels, bits, expected) in cases {
            let settings = Profile.encoderSettings(for: rung, sourceSampleRate: rate, sourceChannels: channels, sourceBitDepth: bits)
            #expect(settings.sampleRate == expected.rate && settings.channels == expected.channels && settings.bitDepth == expected.bits,
                    "\(rate) Hz \(channels) ch \(bits ?? 0)-bit: \(settings)")
        }
    }

    @Test("AAC follows the source's rate family; Opus is always 48 kHz; channels are capped at stereo")
    func encoderSettings() {
        let aac = Profile.Rung(codec: .aac, bitrate: 128_000)
        let opus = Profile.Rung(codec: .opus, bitrate: 96_000)
        #expect(Profile.encoderSettings(for: aac, sourceSampleRate: 88_200, sourceChannels: 2).sampleRate == 44_100)
        #expect(Profile.encoderSettings(for: aac, sourceSampleRate: 96_000, sourceChannels: 2).sampleRate == 48_000)
        #expect(Profile.encoderSettings(for: aac, sourceSampleRate: 32_000, sourceChannels: 1).channels == 1)
        #expect(Profile.encoderSettings(for: opus, sourceSampleRate: 44_100, sourceChannels: 6).channels == 2)
        #expect(Profile.encoderSettings(for: opus, sourceSampleRate: 44_100, sourceChannels: 6).sampleRate == 48_000)
    }
}
