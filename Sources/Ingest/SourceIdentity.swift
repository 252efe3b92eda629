import Crypto
import Fingerprint
import Foundation
import Loudness
import MediaIO
import Segmenter
import WorkArea

/// What a master's audio is, read without decoding: the hash of its audio stream's packets (tags, cover art and
/// other metadata are not part of it, so a re-tagged master keeps it), and the metadata read on the way.
struct AudioProbe: Sendable {
    var audioSHA256: String
    var tags: [String: String]
    var coverArt: CoverArt?
}

/// How a run tells one master from another, and whether what it made from one is still what it would make.
enum SourceIdentity {
    /// SHA-256 (hex) of a file, read in 1 MiB blocks.
    static func sha256(of url: URL) throws(Rejection) -> String {
        do {
            return try FileDigest.sha256(of: url)
        } catch {
            throw Rejection(description: error.description)
        }
    }

    /// Reads a master's audio stream without decoding it. The hash covers the codec, rate and channel count and
    /// every packet of the stream FFmpeg picks as the best audio stream, the one the ladder is encoded from.
    static func probeAudio(_ url: URL, strict: Bool) throws(Rejection) -> AudioProbe {
        do {
            let decoder = try AudioDecoder(path: url.path, strict: strict)
            var hasher = SHA256()
            let format = decoder.format
            hasher.update(data: Data("\(format.codecName) \(format.sampleRate) \(format.channels)\n".utf8))
            try decoder.readPayload { hasher.update(bufferPointer: $0) }
            return AudioProbe(audioSHA256: FileDigest.hex(hasher.finalize()), tags: decoder.tags, coverArt: decoder.coverArt)
        } catch {
            throw Rejection(description: error.description)
        }
    }
}

/// The provenance strings recorded beside what a run produces. A later run compares them with what it would
/// produce now and redoes only what differs.
enum Provenance {
    /// A rendition: its source audio, encoder settings, packaging and library versions.
    static func rendition(audioSHA256: String, settings: EncoderSettings, profile: Profile, protection: ProtectionPlan?) -> String {
        rendition(audioSHA256: audioSHA256, making: making(settings, profile: profile, protection: protection))
    }

    /// The part of a rendition's provenance that does not depend on the audio (a rescan builds it once per rung).
    /// - Parameter protection: the protected tier, when it covers the track.
    static func making(_ settings: EncoderSettings, profile: Profile, protection: ProtectionPlan?) -> String {
        let codec = settings.codec.isLossless ? "\(settings.codec.rawValue) \(settings.bitDepth)-bit" : "\(settings.codec.rawValue) \(settings.bitrate) b/s"
        return "\(codec), \(settings.sampleRate) Hz, \(settings.channels) ch; "
            + "\(profile.layout.rawValue), fragments \(profile.fragmentDuration) s; " + EncoderVersions.summary
            + (protection.map { "; " + $0.provenance } ?? "")
    }

    static func rendition(audioSHA256: String, making: String) -> String {
        "audio sha256:" + audioSHA256 + "; " + making
    }

    /// A track's analysis: the libraries and waveform settings (the audio is the track's own).
    static func analysis(_ settings: Profile.Analysis) -> String {
        "\(Fingerprinter.libraryVersion), \(loudnessLibraryVersion), \(EncoderVersions.summary); waveform "
            + "\(settings.waveformPixelsPerSecond) px/s, \(settings.waveformBits)-bit"
            + (settings.waveformSplitChannels ? ", channels split" : "")
    }

    /// A rejection: the validation rules, the tool and the decoding libraries it was judged with.
    static func rejection(_ rules: Profile.Validation) -> String {
        "musikk \(MusikkVersion.current); min \(rules.minimumDuration) s, \(rules.sampleRates.lowerBound)-"
            + "\(rules.sampleRates.upperBound) Hz, max \(rules.maximumChannels) ch, silence "
            + (rules.rejectSilence ? "rejected" : "accepted") + ", damage " + (rules.rejectDamaged ? "rejected" : "accepted")
            + "; \(EncoderVersions.summary)"
    }
}
