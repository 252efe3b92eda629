/// The `--json` report. Field names are a stable interface for CI pipelines: add, never rename.
public struct IngestReport: Codable, Sendable, Equatable {
    public var tool: String
    public var version: String
    public var summary: Summary
    public var files: [FileReport]

    public struct Summary: Codable, Sendable, Equatable {
        /// New tracks.
        public var ingested: Int
        /// Tracks changed in any way (see `FileReport.changes`).
        public var updated: Int
        /// Masters and their tracks as the last run left them.
        public var unchanged: Int
        /// Tracks whose master disappeared.
        public var removed: Int
        public var rejected: Int
        /// Duplicates left out (`--skip-duplicates`).
        public var skipped: Int

        public init(ingested: Int, updated: Int, unchanged: Int, removed: Int, rejected: Int, skipped: Int) {
            (self.ingested, self.updated, self.unchanged) = (ingested, updated, unchanged)
            (self.removed, self.rejected, self.skipped) = (removed, rejected, skipped)
        }

        init(_ files: [FileReport]) {
            // Counted, not grouped: grouping copied every report of a 100,000-master rescan.
            var counts: [FileReport.Status: Int] = [:]
            for file in files { counts[file.status, default: 0] += 1 }
            ingested = counts[.ingested] ?? 0
            updated = counts[.updated] ?? 0
            unchanged = counts[.unchanged] ?? 0
            removed = counts[.removed] ?? 0
            rejected = counts[.rejected] ?? 0
            skipped = counts[.skipped] ?? 0
        }
    }

    /// Exit status a run with this report ends with: 0 all ingested (or skipped as asked), 3 some rejected.
    public var exitCode: Int32 { summary.rejected > 0 ? 3 : 0 }
}

/// One master's outcome.
public struct FileReport: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// A new track.
        case ingested
        /// An existing track changed: see ``FileReport/changes``.
        case updated
        /// Nothing to do: the master and the track's files are as the last run left them.
        case unchanged
        /// The master disappeared; its track is marked removed (its files stay until published away).
        case removed
        case rejected
        /// A duplicate of a track already in the catalog, left out as `--skip-duplicates` asks.
        case skipped
    }

    /// Relative to MASTERS_DIR (for a removed track, where its master was).
    public var path: String
    public var status: Status
    /// What changed, for an updated track: `audio`, `moved`, `tags`, `renditions`, `analysis`, `repaired`,
    /// `restored`.
    public var changes: [TrackChange]?
    /// Where a moved master was before.
    public var previousPath: String?
    /// One line naming the file, what is wrong and what to do (rejected masters).
    public var error: String?
    public var trackID: String?
    public var durationSeconds: Double?
    /// Relative to WORK_DIR.
    public var hlsMaster: String?
    /// Relative to WORK_DIR.
    public var dashMPD: String?
    public var renditions: [RenditionReport]?
    /// The compressed full-length Chromaprint fingerprint, exactly as `fpcalc -length 0` prints it after
    /// `FINGERPRINT=`; absent for audio too short to fingerprint (about 3 s) or without analysis.
    public var fingerprint: String?
    /// The catalog track this master is a likely duplicate of (same recording re-encoded, re-tagged or renamed).
    public var duplicateOf: DuplicateReport?
    /// Fingerprint similarity with `duplicateOf` (0-1).
    public var similarity: Double?
    public var loudness: LoudnessReport?
    public var waveform: WaveformReport?
    public var signal: SignalCheckReport?
    /// Signal findings worth attention (clipping, DC offset), and a decoder fallback; the master is still ingested.
    public var warnings: [String]?
    /// Set when FFmpeg refused the master and its format's reference decoder read it: which one, and FFmpeg's reason.
    public var decoderFallback: String?

    enum CodingKeys: String, CodingKey {
        case path, status, changes, error, renditions, fingerprint, similarity, loudness, waveform, signal, warnings
        case previousPath = "previous_path"
        case trackID = "track_id"
        case durationSeconds = "duration_seconds"
        case hlsMaster = "hls_master"
        case dashMPD = "dash_mpd"
        case duplicateOf = "duplicate_of"
        case decoderFallback = "decoder_fallback"
    }
}

public struct DuplicateReport: Codable, Sendable, Equatable {
    public var trackID: String
    /// The other master, relative to its MASTERS_DIR.
    public var path: String

    enum CodingKeys: String, CodingKey {
        case path
        case trackID = "track_id"
    }
}

/// EBU R128 figures and the ReplayGain 2.0 track gain (-18 LUFS reference).
public struct LoudnessReport: Codable, Sendable, Equatable {
    /// Absent for silence.
    public var integratedLUFS: Double?
    public var rangeLU: Double
    public var truePeakDBTP: Double
    public var samplePeakDBFS: Double
    public var trackGainDB: Double?
    /// ReplayGain 2.0 album gain and peak (linear) of the track's release, over its tracks in the catalog.
    public var albumGainDB: Double?
    public var albumPeak: Double?

    enum CodingKeys: String, CodingKey {
        case albumGainDB = "album_gain_db"
        case albumPeak = "album_peak"
        case integratedLUFS = "integrated_lufs"
        case rangeLU = "range_lu"
        case truePeakDBTP = "true_peak_dbtp"
        case samplePeakDBFS = "sample_peak_dbfs"
        case trackGainDB = "track_gain_db"
    }
}

/// The audiowaveform files (version 2) written for a track, relative to WORK_DIR.
public struct WaveformReport: Codable, Sendable, Equatable {
    public var json: String
    public var dat: String
    public var pixelsPerSecond: Int
    public var samplesPerPixel: Int

    enum CodingKeys: String, CodingKey {
        case json, dat
        case pixelsPerSecond = "pixels_per_second"
        case samplesPerPixel = "samples_per_pixel"
    }
}

public struct SignalCheckReport: Codable, Sendable, Equatable {
    public var clippedRuns: Int
    public var clippedSamples: Int
    /// Largest channel mean, as a fraction of full scale.
    public var dcOffset: Double
    public var leadingSilenceSeconds: Double
    public var trailingSilenceSeconds: Double

    enum CodingKeys: String, CodingKey {
        case clippedRuns = "clipped_runs"
        case clippedSamples = "clipped_samples"
        case dcOffset = "dc_offset"
        case leadingSilenceSeconds = "leading_silence_seconds"
        case trailingSilenceSeconds = "trailing_silence_seconds"
    }
}

public struct RenditionReport: Codable, Sendable, Equatable {
    public var codec: String
    /// `lossy` or `lossless`.
    public var tier: String
    /// Bits per second: the rung's target, or for the lossless rung the average it came to.
    public var bitrate: Int
    public var sampleRate: Int
    public var channels: Int
    /// Relative to WORK_DIR.
    public var path: String
    /// The key id (hex) of a protected rendition; absent for clear ones.
    public var kid: String?

    enum CodingKeys: String, CodingKey {
        case codec, tier, bitrate, channels, path, kid
        case sampleRate = "sample_rate"
    }
}

/// What `--dry-run` prints with `--json`: what a run would do, and nothing written.
public struct DryRunReport: Codable, Sendable, Equatable {
    public var tool: String
    public var version: String
    public var dryRun = true
    /// Masters per action: `new`, `changed`, `moved`, `removed`, `unchanged`, `rejected`, `skipped`.
    public var summary: [String: Int]
    public var files: [Entry]

    /// Every action a dry run names, in the order a summary lists them.
    public static let actions = ["new", "changed", "moved", "removed", "unchanged", "rejected", "skipped"]

    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        /// `new`, `changed`, `moved`, `removed`, `unchanged`, `rejected` or `skipped`.
        public var action: String
        public var trackID: String?
        public var previousPath: String?
        public var changes: [TrackChange]?
        /// Why a master is rejected.
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case path, action, changes, reason
            case trackID = "track_id"
            case previousPath = "previous_path"
        }
    }

    enum CodingKeys: String, CodingKey {
        case tool, version, summary, files
        case dryRun = "dry_run"
    }
}
