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
