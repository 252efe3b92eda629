/// The `--json` report. Field names are a stable interface for CI pipelines: add, never rename.
public struct IngestReport: Codable, Sendable, Equatable {
    public var tool: String
    public var version: String
    public var summary: Summary
    public var files: [FileReport]

    public struct Summary: Codable, Sendable, Equatable {
        public var ingested: Int
        public var rejected: Int
    }

    /// Exit status a run with this report ends with: 0 all ingested, 3 some rejected.
    public var exitCode: Int32 { summary.rejected > 0 ? 3 : 0 }
}

/// One master's outcome.
public struct FileReport: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case ingested, rejected
    }

    /// Relative to MASTERS_DIR.
    public var path: String
    public var status: Status
    /// One line naming the file, what is wrong and what to do (rejected masters).
    public var error: String?
    public var trackID: String?
    public var durationSeconds: Double?
    /// Relative to WORK_DIR.
    public var hlsMaster: String?
    /// Relative to WORK_DIR.
    public var dashMPD: String?
    public var renditions: [RenditionReport]?

    enum CodingKeys: String, CodingKey {
        case path, status, error, renditions
        case trackID = "track_id"
        case durationSeconds = "duration_seconds"
        case hlsMaster = "hls_master"
        case dashMPD = "dash_mpd"
    }
}

public struct RenditionReport: Codable, Sendable, Equatable {
    public var codec: String
    /// Bits per second.
    public var bitrate: Int
    public var sampleRate: Int
    public var channels: Int
    /// Relative to WORK_DIR.
    public var path: String

    enum CodingKeys: String, CodingKey {
        case codec, bitrate, channels, path
        case sampleRate = "sample_rate"
    }
}
