import Foundation
import GRDB

/// One `musikk-ingest` invocation.
public struct Run: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var startedAt: Date
    public var finishedAt: Date?
    public var toolVersion: String
    public var mastersDirectory: String
    public var ingestedCount: Int
    public var rejectedCount: Int

    public init(
        id: Int64? = nil,
        startedAt: Date,
        finishedAt: Date? = nil,
        toolVersion: String,
        mastersDirectory: String,
        ingestedCount: Int,
        rejectedCount: Int
    ) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.toolVersion = toolVersion
        self.mastersDirectory = mastersDirectory
        self.ingestedCount = ingestedCount
        self.rejectedCount = rejectedCount
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

public struct Artist: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var name: String

    public init(
        id: Int64? = nil,
        name: String
    ) {
        self.id = id
        self.name = name
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An album or other collection of tracks, by its album artist.
public struct Release: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var title: String
    public var artistId: Int64
    public var date: String?
    /// Relative to WORK_DIR.
    public var coverArtPath: String?
    public var coverArtMimeType: String?
    /// ReplayGain 2.0 album gain over the release's tracks (-18 LUFS reference); nil until measured.
    public var albumGainDB: Double?
    /// Highest true peak of the release's tracks, linear.
    public var albumPeak: Double?

    public init(
        id: Int64? = nil,
        title: String,
        artistId: Int64,
        date: String? = nil,
        coverArtPath: String? = nil,
        coverArtMimeType: String? = nil,
        albumGainDB: Double? = nil,
        albumPeak: Double? = nil
    ) {
        self.id = id
        self.title = title
        self.artistId = artistId
        self.date = date
        self.coverArtPath = coverArtPath
        self.coverArtMimeType = coverArtMimeType
        self.albumGainDB = albumGainDB
        self.albumPeak = albumPeak
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

public struct Track: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Stable identifier derived from the source content.
    public var id: String
    public var title: String
    public var releaseId: Int64?
    public var trackNumber: Int?
    public var discNumber: Int?
    public var isrc: String?
    public var genre: String?
    public var date: String?
    public var durationSeconds: Double
    /// Relative to MASTERS_DIR.
    public var sourcePath: String
    public var sourceSHA256: String
    public var sourceSize: Int64
    public var sourceContainer: String
    public var sourceCodec: String
    public var sourceSampleRate: Int
    public var sourceBitDepth: Int?
    public var sourceChannels: Int
    /// Relative to WORK_DIR.
    public var hlsMasterPath: String
    /// Relative to WORK_DIR.
    public var dashManifestPath: String
    public var runId: Int64?

    public init(
        id: String,
        title: String,
        releaseId: Int64? = nil,
        trackNumber: Int? = nil,
        discNumber: Int? = nil,
        isrc: String? = nil,
        genre: String? = nil,
        date: String? = nil,
        durationSeconds: Double,
        sourcePath: String,
        sourceSHA256: String,
        sourceSize: Int64,
        sourceContainer: String,
        sourceCodec: String,
        sourceSampleRate: Int,
        sourceBitDepth: Int? = nil,
        sourceChannels: Int,
        hlsMasterPath: String,
        dashManifestPath: String,
        runId: Int64? = nil
    ) {
        self.id = id
        self.title = title
        self.releaseId = releaseId
        self.trackNumber = trackNumber
        self.discNumber = discNumber
        self.isrc = isrc
        self.genre = genre
        self.date = date
        self.durationSeconds = durationSeconds
        self.sourcePath = sourcePath
        self.sourceSHA256 = sourceSHA256
        self.sourceSize = sourceSize
        self.sourceContainer = sourceContainer
        self.sourceCodec = sourceCodec
        self.sourceSampleRate = sourceSampleRate
        self.sourceBitDepth = sourceBitDepth
        self.sourceChannels = sourceChannels
        self.hlsMasterPath = hlsMasterPath
        self.dashManifestPath = dashManifestPath
        self.runId = runId
    }
}

/// Links a track to its performing artists, in credit order.
public struct TrackArtist: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    public var artistId: Int64
    public var position: Int

    public init(
        trackId: String,
        artistId: Int64,
        position: Int
    ) {
        self.trackId = trackId
        self.artistId = artistId
        self.position = position
    }
}

/// One rung of a track's ladder as written.
public struct Rendition: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var trackId: String
    /// e.g. `aac-128k`.
    public var name: String
    public var codec: String
    public var bitrate: Int
    public var sampleRate: Int
    public var channels: Int
    /// `singleFile` or `segmentFiles`.
    public var layout: String
    /// The media file (single-file layout) or the segment folder, relative to WORK_DIR.
    public var path: String
    /// Bytes on disk.
    public var size: Int
    public var peakBandwidth: Int
    public var averageBandwidth: Int
    /// The libraries that produced the bytes.
    public var encoderVersions: String

    public init(
        id: Int64? = nil,
        trackId: String,
        name: String,
        codec: String,
        bitrate: Int,
        sampleRate: Int,
        channels: Int,
        layout: String,
        path: String,
        size: Int,
        peakBandwidth: Int,
        averageBandwidth: Int,
        encoderVersions: String
    ) {
        self.id = id
        self.trackId = trackId
        self.name = name
        self.codec = codec
        self.bitrate = bitrate
        self.sampleRate = sampleRate
        self.channels = channels
        self.layout = layout
        self.path = path
        self.size = size
        self.peakBandwidth = peakBandwidth
        self.averageBandwidth = averageBandwidth
        self.encoderVersions = encoderVersions
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A playlist or MPD written for a track.
public struct ManifestFile: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "manifest"

    public enum Kind: String, Codable, Sendable {
        case hlsMaster, hlsMedia, dash
    }

    public var trackId: String
    public var kind: Kind
    /// Relative to WORK_DIR.
    public var path: String

    public init(
        trackId: String,
        kind: Kind,
        path: String
    ) {
        self.trackId = trackId
        self.kind = kind
        self.path = path
    }
}

/// A master that could not be ingested, with why.
public struct RejectedMaster: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Relative to MASTERS_DIR.
    public var sourcePath: String
    public var reason: String
    public var runId: Int64?

    public init(
        sourcePath: String,
        reason: String,
        runId: Int64? = nil
    ) {
        self.sourcePath = sourcePath
        self.reason = reason
        self.runId = runId
    }
}
