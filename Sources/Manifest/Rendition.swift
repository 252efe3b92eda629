import Segmenter

/// One packaged rendition as the manifests describe it.
public struct PackagedRendition: Sendable {
    /// Identifier used in file names, HLS playlist names and DASH `Representation@id`, e.g. `aac-128k`.
    public var name: String
    /// Codec as it belongs in a CODECS attribute (RFC 6381): `mp4a.40.2`, or for Opus see ``Codec``.
    public var codec: Codec
    public var track: SegmentedTrack
    /// Prefix of the rendition's media URIs relative to the manifests (empty when the media sit beside them),
    /// e.g. `../media/audio/3f2a…/`; the segment table's file names follow it.
    public var mediaBase: String

    public init(name: String, codec: Codec, track: SegmentedTrack, mediaBase: String = "") {
        self.name = name
        self.codec = codec
        self.track = track
        self.mediaBase = mediaBase
    }

    /// Codecs the manifests know how to name.
    public enum Codec: String, Sendable {
        case aacLC
        case opus
        case flac

        /// The codec of a catalog rendition row (`aac`, `opus`, `flac`: the ingest's codec names).
        public init(catalogName: String) {
            switch catalogName {
            case "opus": self = .opus
            case "flac": self = .flac
            default: self = .aacLC
            }
        }

        /// HLS CODECS value. For Opus and FLAC the sample-entry name (`Opus`, `fLaC`; RFC 6381), which Safari requires.
        public var hlsName: String {
            switch self {
            case .aacLC: "mp4a.40.2"
            case .opus: "Opus"
            case .flac: "fLaC"
            }
        }

        /// DASH `@codecs` value, also what `MediaSource.isTypeSupported` takes: browsers and DASH players expect
        /// lowercase `opus` and `flac`.
        public var dashName: String {
            switch self {
            case .aacLC: "mp4a.40.2"
            case .opus: "opus"
            case .flac: "flac"
            }
        }

        /// Whether the codec is the lossless tier.
        public var isLossless: Bool { self == .flac }
    }
}

/// A media segment in presentation terms: what a playlist lists.
struct PresentedSegment {
    /// Seconds presented from this segment (the edit list removes priming and end padding).
    var duration: Double
    var size: Int
    var fragment: Fragment
}

extension SegmentedTrack {
    /// Fragments with the durations a player presents: the priming cut from the first, padding from the last.
    var presentedSegments: [PresentedSegment] {
        let presentationStart = Int64(format.primingSamples)
        let presentationEnd = presentationStart + presentationSamples
        return fragments.map { fragment in
            let start = max(fragment.startTime, presentationStart)
            let end = min(fragment.startTime + fragment.duration, presentationEnd)
            let ticks = max(0, end - start)
            return PresentedSegment(
                duration: Double(ticks) / Double(format.sampleRate), size: fragment.size, fragment: fragment
            )
        }
    }
}
