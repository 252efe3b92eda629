import Fingerprint
import Foundation
import MediaIO
import Protection
import Segmenter
import TOMLKit

/// What to produce and what to accept: the ladder, the packaging, and the validation rules.
/// Defaults are the documented ones; a TOML profile (`--profile FILE`, see `examples/profile.toml`) overrides them.
public struct Profile: Sendable, Equatable {
    /// A rung of the ladder: codec and bit rate; sample rate and channels follow from each master.
    public struct Rung: Sendable, Equatable, Hashable {
        public var codec: AudioCodec
        /// Bits per second; 0 for the lossless rung, which has none.
        public var bitrate: Int
        /// Keep more than two channels as they are (lossless rung only); else they are mixed down to stereo.
        public var keepsSurround: Bool

        public init(codec: AudioCodec, bitrate: Int, keepsSurround: Bool = false) {
            self.codec = codec
            self.bitrate = codec.isLossless ? 0 : bitrate
            self.keepsSurround = codec.isLossless && keepsSurround
        }

        /// The lossless rung: FLAC at the master's rate (up to 192 kHz) and depth (16 or 24 bits).
        public static func lossless(keepsSurround: Bool = false) -> Rung {
            Rung(codec: .flac, bitrate: 0, keepsSurround: keepsSurround)
        }

        /// File and rendition name, e.g. `aac-128k`, or `flac` for the lossless rung.
        public var name: String { codec.isLossless ? codec.rawValue : "\(codec.rawValue)-\(bitrate / 1000)k" }

        /// `lossless` or `lossy`, as the `--json` report and the publication say.
        public var tier: String { codec.isLossless ? "lossless" : "lossy" }
    }

    /// The protected tier: every rendition of the masters it covers is encrypted with `cbcs` under a key per track.
    public struct Protection: Sendable, Equatable {
        /// Where players ask for keys: musikk-server's ClearKey licence endpoint. Root-relative by default, for a
        /// publication served by musikk-server; an absolute URL when a CDN serves the manifests.
        public var licenseURL = Self.defaultLicenseURL
        /// Folders of MASTERS (relative, e.g. `Label/Album`) whose masters are protected; empty for all.
        public var folders: [String] = []

        public static let defaultLicenseURL = LicenseEndpoint.path

        public init() {}

        /// Whether a master at `relativePath` (relative to MASTERS) is protected.
        public func covers(_ relativePath: String) -> Bool {
            folders.isEmpty || folders.contains { relativePath.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }
    }

    /// When a master is rejected.
    public struct Validation: Sendable, Equatable {
        public var minimumDuration = 1.0
        public var sampleRates = 8_000...384_000
        public var maximumChannels = 8
        /// Reject masters that are digital silence from start to end.
        public var rejectSilence = true
        /// Reject masters with damaged or missing data anywhere (decoder errors, timestamp gaps, truncation).
        public var rejectDamaged = true

        public init() {}
    }

    /// Fingerprint, loudness, waveform and signal checks, computed from the same decoded audio as the ladder.
    public struct Analysis: Sendable, Equatable {
        public var enabled = true
        /// Fingerprint similarity (share of agreeing bits, 0-1) from which two tracks count as the same recording.
        public var duplicateThreshold = FingerprintMatcher.defaultThreshold
        /// Leave out a master found to duplicate a track already in the catalog (or ingested earlier in the run).
        public var skipDuplicates = false
        public var waveformPixelsPerSecond = 100
        /// 8 or 16.
        public var waveformBits = 8
        /// One waveform per channel instead of the channels merged.
        public var waveformSplitChannels = false

        public init() {}
    }

    public var ladder: [Rung] = [
        Rung(codec: .aac, bitrate: 64_000), Rung(codec: .aac, bitrate: 128_000), Rung(codec: .aac, bitrate: 256_000),
        Rung(codec: .opus, bitrate: 64_000), Rung(codec: .opus, bitrate: 96_000), Rung(codec: .opus, bitrate: 160_000),
    ]
    public var layout: SegmentLayout = .singleFile
    /// Target fragment duration; fragments are whole frames, so the real one is within a frame of this.
    public var fragmentDuration = 6.0
    public var validation = Validation()
    public var analysis = Analysis()
    /// Nil: nothing is encrypted.
    public var protection: Protection?

    public init() {}

    /// Reads a TOML profile; keys it does not set keep their defaults. Unknown keys are errors, so a typo
    /// cannot silently fall back to a default.
    public static func load(path: String) throws(ProfileError) -> Profile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, detail: error.localizedDescription)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .unreadable(path: path, detail: "\(error.description) at \(error.source.begin)")
        } catch {
            throw .unreadable(path: path, detail: "\(error)")
        }
        return try ProfileParser(path: path).parse(table)
    }

    /// The settings of `rung` for a master of `source` rate, channels and bits per sample: AAC at 44.1 kHz for
    /// 44.1 kHz-family sources and 48 kHz otherwise, Opus always at 48 kHz; FLAC at the source's rate up to
    /// 192 kHz (176.4 kHz for the 44.1 kHz family above it) and 16 bits for sources of up to 16 (and lossy ones),
    /// else 24. Mono stays mono; more than two channels become stereo unless the rung keeps surround.
    public static func encoderSettings(
        for rung: Rung, sourceSampleRate: Int, sourceChannels: Int, sourceBitDepth: Int? = nil
    ) -> EncoderSettings {
        let rate: Int
        switch rung.codec {
        case .aac: rate = sourceSampleRate % 11_025 == 0 ? 44_100 : 48_000
        case .opus: rate = 48_000
        case .flac: rate = sourceSampleRate <= 192_000 ? sourceSampleRate : (sourceSampleRate % 11_025 == 0 ? 176_400 : 192_000)
        }
        let channels = sourceChannels <= 2 || rung.keepsSurround ? sourceChannels : 2
        return EncoderSettings(
            codec: rung.codec, bitrate: rung.bitrate, sampleRate: rate, channels: channels,
            bitDepth: rung.codec.isLossless ? ((sourceBitDepth ?? 16) > 16 ? 24 : 16) : 0
        )
    }
}

/// Why a profile could not be used.
public enum ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    case invalid(path: String, key: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, detail):
            return "\(path): cannot read the profile (\(detail)); see examples/profile.toml for the format"
        case let .invalid(path, key, detail):
            return "\(path): '\(key)' \(detail); see examples/profile.toml for the accepted keys and values"
        }
    }
}

private struct ProfileParser {
    let path: String

    func parse(_ table: TOMLTable) throws(ProfileError) -> Profile {
        var profile = Profile()
        try onlyKnownKeys(table, ["layout", "fragment_duration", "rendition", "validation", "analysis", "protection"], prefix: "")
        if let value = table["layout"] {
            switch value.string {
            case "single-file": profile.layout = .singleFile
            case "segment-files": profile.layout = .segmentFiles
            default: throw invalid("layout", "must be \"single-file\" or \"segment-files\"")
            }
        }
        if let value = table["fragment_duration"] {
            guard let seconds = number(value), (1.0...30.0).contains(seconds) else {
                throw invalid("fragment_duration", "must be a number of seconds from 1 to 30")
            }
            profile.fragmentDuration = seconds
        }
        if let value = table["rendition"] {
            guard let array = value.array, !array.isEmpty else {
                throw invalid("rendition", "must be a non-empty array of tables ([[rendition]])")
            }
            var ladder: [Profile.Rung] = []
            for (index, element) in array.enumerated() {
                ladder.append(try rung(element.table, key: "rendition[\(index)]"))
            }
            guard Set(ladder).count == ladder.count else { throw invalid("rendition", "lists the same rung twice") }
            profile.ladder = ladder
        }
        if let value = table["validation"] {
            guard let validation = value.table else { throw invalid("validation", "must be a table") }
            profile.validation = try self.validation(validation)
        }
        if let value = table["analysis"] {
            guard let analysis = value.table else { throw invalid("analysis", "must be a table") }
            profile.analysis = try self.analysis(analysis)
        }
        if let value = table["protection"] {
            guard let protection = value.table else { throw invalid("protection", "must be a table") }
            profile.protection = try self.protection(protection)
        }
        return profile
    }

    private func protection(_ table: TOMLTable) throws(ProfileError) -> Profile.Protection {
        let prefix = "protection."
        try onlyKnownKeys(table, ["scheme", "license_url", "folders"], prefix: prefix)
        guard table["scheme"]?.string == "cbcs" else {
            throw invalid(prefix + "scheme", "must be \"cbcs\" (CMAF common encryption, which every DRM and ClearKey decrypt)")
        }
        var protection = Profile.Protection()
        if let value = table["license_url"] {
            guard let url = value.string, url.hasPrefix("/") || url.hasPrefix("https://") || url.hasPrefix("http://"),
                  url.utf8.count <= 2048, !url.contains("\""), !url.contains(where: \.isWhitespace) else {
                throw invalid(prefix + "license_url", "must be a root-relative path or an http(s) URL, without quotes or spaces")
            }
            protection.licenseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let value = table["folders"] {
            guard let array = value.array else { throw invalid(prefix + "folders", "must be an array of folder paths relative to MASTERS") }
            var folders: [String] = []
            for element in array {
                guard let folder = element.string, !folder.isEmpty, !folder.hasPrefix("/") else {
                    throw invalid(prefix + "folders", "must list folder paths relative to MASTERS, e.g. \"Label/Album\"")
                }
                folders.append(folder)
            }
            protection.folders = folders
        }
        return protection
    }

    private func analysis(_ table: TOMLTable) throws(ProfileError) -> Profile.Analysis {
        let prefix = "analysis."
        try onlyKnownKeys(table, [
            "enabled", "duplicate_threshold", "skip_duplicates", "waveform_pixels_per_second", "waveform_bits",
            "waveform_split_channels",
        ], prefix: prefix)
        var analysis = Profile.Analysis()
        try readFlags(table, prefix: prefix, into: &analysis, [
            ("enabled", \.enabled), ("skip_duplicates", \.skipDuplicates),
            ("waveform_split_channels", \.waveformSplitChannels),
        ])
        if let value = table["duplicate_threshold"] {
            guard let threshold = number(value), (0.5...1.0).contains(threshold) else {
                throw invalid(prefix + "duplicate_threshold", "must be a number from 0.5 to 1")
            }
            analysis.duplicateThreshold = threshold
        }
        if let value = table["waveform_pixels_per_second"] {
            guard let pixels = value.int, (1...1_000).contains(pixels) else {
                throw invalid(prefix + "waveform_pixels_per_second", "must be a whole number from 1 to 1000")
            }
            analysis.waveformPixelsPerSecond = pixels
        }
        if let value = table["waveform_bits"] {
            guard let bits = value.int, bits == 8 || bits == 16 else {
                throw invalid(prefix + "waveform_bits", "must be 8 or 16")
            }
            analysis.waveformBits = bits
        }
        return analysis
    }

    private func rung(_ table: TOMLTable?, key: String) throws(ProfileError) -> Profile.Rung {
        guard let table else { throw invalid(key, "must be a table with codec and bitrate") }
        guard let name = table["codec"]?.string, let codec = AudioCodec(rawValue: name) else {
            throw invalid(key + ".codec", "must be \"aac\", \"opus\" or \"flac\"")
        }
        if codec.isLossless {
            try onlyKnownKeys(table, ["codec", "surround"], prefix: key + ".")
            let surround = table["surround"]?.string ?? "downmix"
            guard table["surround"] == nil || ["keep", "downmix"].contains(surround) else {
                throw invalid(key + ".surround", "must be \"keep\" or \"downmix\"")
            }
            return .lossless(keepsSurround: surround == "keep")
        }
        try onlyKnownKeys(table, ["codec", "bitrate"], prefix: key + ".")
        guard let kilobits = table["bitrate"]?.int, (16...512).contains(kilobits) else {
            throw invalid(key + ".bitrate", "must be a whole number of kb/s from 16 to 512")
        }
        return Profile.Rung(codec: codec, bitrate: kilobits * 1000)
    }

    private func validation(_ table: TOMLTable) throws(ProfileError) -> Profile.Validation {
        let prefix = "validation."
        try onlyKnownKeys(table, [
            "min_duration_seconds", "min_sample_rate", "max_sample_rate", "max_channels", "reject_silence",
            "reject_damaged",
        ], prefix: prefix)
        var validation = Profile.Validation()
        if let value = table["min_duration_seconds"] {
            guard let seconds = number(value), seconds >= 0 else {
                throw invalid(prefix + "min_duration_seconds", "must be a number of seconds, 0 or more")
            }
            validation.minimumDuration = seconds
        }
        let lowest = table["min_sample_rate"].map { $0.int } ?? validation.sampleRates.lowerBound
        let highest = table["max_sample_rate"].map { $0.int } ?? validation.sampleRates.upperBound
        guard let lowest, let highest, lowest > 0, lowest <= highest else {
            throw invalid(prefix + "min_sample_rate", "and max_sample_rate must be whole numbers of Hz, min <= max")
        }
        validation.sampleRates = lowest...highest
        if let value = table["max_channels"] {
            guard let channels = value.int, channels >= 1 else {
                throw invalid(prefix + "max_channels", "must be a whole number, 1 or more")
            }
            validation.maximumChannels = channels
        }
        try readFlags(table, prefix: prefix, into: &validation, [
            ("reject_silence", \.rejectSilence), ("reject_damaged", \.rejectDamaged),
        ])
        return validation
    }

    /// Sets each boolean the table has among `keys`.
    private func readFlags<Settings>(
        _ table: TOMLTable, prefix: String, into settings: inout Settings,
        _ keys: [(String, WritableKeyPath<Settings, Bool>)]
    ) throws(ProfileError) {
        for (key, path) in keys {
            guard let value = table[key] else { continue }
            guard let flag = value.bool else { throw invalid(prefix + key, "must be true or false") }
            settings[keyPath: path] = flag
        }
    }

    private func number(_ value: any TOMLValueConvertible) -> Double? {
        value.double ?? value.int.map(Double.init)
    }

    private func onlyKnownKeys(_ table: TOMLTable, _ known: Set<String>, prefix: String) throws(ProfileError) {
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid(prefix + unknown, "is not a known key")
        }
    }

    private func invalid(_ key: String, _ detail: String) -> ProfileError {
        .invalid(path: path, key: key, detail: detail)
    }
}
