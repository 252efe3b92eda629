import Foundation
import GRDB
import WorkArea

/// One `musikk-ingest` invocation.
public struct Run: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public var id: Int64?
    public var startedAt: Date
    public var finishedAt: Date?
    public var toolVersion: String
    public var mastersDirectory: String
    public var ingestedCount: Int
    public var rejectedCount: Int
    public var updatedCount: Int
    public var unchangedCount: Int
    public var removedCount: Int
    public var skippedCount: Int

    public init(
        id: Int64? = nil,
        startedAt: Date,
        finishedAt: Date? = nil,
        toolVersion: String,
        mastersDirectory: String,
        ingestedCount: Int = 0,
        rejectedCount: Int = 0,
        updatedCount: Int = 0,
        unchangedCount: Int = 0,
        removedCount: Int = 0,
        skippedCount: Int = 0
    ) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.toolVersion = toolVersion
        self.mastersDirectory = mastersDirectory
        self.ingestedCount = ingestedCount
        self.rejectedCount = rejectedCount
        self.updatedCount = updatedCount
        self.unchangedCount = unchangedCount
        self.removedCount = removedCount
        self.skippedCount = skippedCount
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
    /// Stable identifier, assigned from the audio when the master is first ingested; it stays with the master
    /// when it is moved, renamed, re-tagged or replaced at the same path.
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
    /// Modification time of the master, nanoseconds since 1970.
    public var sourceModified: Int64
    /// Status-change time of the master, nanoseconds since 1970.
    public var sourceChanged: Int64
    public var sourceInode: Int64
    /// SHA-256 of the audio stream's packets: the same for a master whose tags alone changed.
    public var audioSHA256: String
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
    /// What produced the analysis rows (library versions and settings); nil when the track has no analysis.
    public var analysisKey: String?
    /// When the master disappeared from MASTERS_DIR; nil while it is there.
    public var removedAt: Date?

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
        sourceModified: Int64 = 0,
        sourceChanged: Int64 = 0,
        sourceInode: Int64 = 0,
        audioSHA256: String = "",
        sourceContainer: String,
        sourceCodec: String,
        sourceSampleRate: Int,
        sourceBitDepth: Int? = nil,
        sourceChannels: Int,
        hlsMasterPath: String,
        dashManifestPath: String,
        runId: Int64? = nil,
        analysisKey: String? = nil,
        removedAt: Date? = nil
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
        self.sourceModified = sourceModified
        self.sourceChanged = sourceChanged
        self.sourceInode = sourceInode
        self.audioSHA256 = audioSHA256
        self.sourceContainer = sourceContainer
        self.sourceCodec = sourceCodec
        self.sourceSampleRate = sourceSampleRate
        self.sourceBitDepth = sourceBitDepth
        self.sourceChannels = sourceChannels
        self.hlsMasterPath = hlsMasterPath
        self.dashManifestPath = dashManifestPath
        self.runId = runId
        self.analysisKey = analysisKey
        self.removedAt = removedAt
    }

    /// Read column by column, as ``Rendition/init(row:)`` is, for the same reason.
    public init(row: Row) throws {
        id = row["id"]
        title = row["title"]
        releaseId = row["releaseId"]
        trackNumber = row["trackNumber"]
        discNumber = row["discNumber"]
        isrc = row["isrc"]
        genre = row["genre"]
        date = row["date"]
        durationSeconds = row["durationSeconds"]
        sourcePath = row["sourcePath"]
        sourceSHA256 = row["sourceSHA256"]
        sourceSize = row["sourceSize"]
        sourceModified = row["sourceModified"]
        sourceChanged = row["sourceChanged"]
        sourceInode = row["sourceInode"]
        audioSHA256 = row["audioSHA256"]
        sourceContainer = row["sourceContainer"]
        sourceCodec = row["sourceCodec"]
        sourceSampleRate = row["sourceSampleRate"]
        sourceBitDepth = row["sourceBitDepth"]
        sourceChannels = row["sourceChannels"]
        hlsMasterPath = row["hlsMasterPath"]
        dashManifestPath = row["dashManifestPath"]
        runId = row["runId"]
        analysisKey = row["analysisKey"]
        removedAt = row["removedAt"]
    }
}

extension Track {
    /// Reads the tracks `sql` selects with each column's position looked up once per query: GRDB looks a name up
    /// on every read, and that was a third of a 100,000-track rescan's catalog read.
    static func fetchAll(_ db: Database, positionallyFrom sql: String, arguments: StatementArguments = []) throws -> [Track] {
        let statement = try db.makeStatement(sql: sql)
        let position = Dictionary(statement.columnNames.enumerated().map { ($1, $0) }) { first, _ in first }
        let names = [
            "id", "title", "releaseId", "trackNumber", "discNumber", "isrc", "genre", "date", "durationSeconds",
            "sourcePath", "sourceSHA256", "sourceSize", "sourceModified", "sourceChanged", "sourceInode", "audioSHA256",
            "sourceContainer", "sourceCodec", "sourceSampleRate", "sourceBitDepth", "sourceChannels", "hlsMasterPath",
            "dashManifestPath", "runId", "analysisKey", "removedAt",
        ]
        let at = try names.map { name in
            guard let index = position[name] else {
                throw DatabaseError(message: "a track query lacks the column \(name): \(sql)")
            }
            return index
        }
        var tracks: [Track] = []
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        while let row = try rows.next() {
            tracks.append(Track(
                id: row[at[0]], title: row[at[1]], releaseId: row[at[2]], trackNumber: row[at[3]], discNumber: row[at[4]],
                isrc: row[at[5]], genre: row[at[6]], date: row[at[7]], durationSeconds: row[at[8]], sourcePath: row[at[9]],
                sourceSHA256: row[at[10]], sourceSize: row[at[11]], sourceModified: row[at[12]], sourceChanged: row[at[13]],
                sourceInode: row[at[14]], audioSHA256: row[at[15]], sourceContainer: row[at[16]], sourceCodec: row[at[17]],
                sourceSampleRate: row[at[18]], sourceBitDepth: row[at[19]], sourceChannels: row[at[20]],
                hlsMasterPath: row[at[21]], dashManifestPath: row[at[22]], runId: row[at[23]], analysisKey: row[at[24]],
                removedAt: row[at[25]]
            ))
        }
        return tracks
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
    /// Source audio hash, encoder settings and library versions: a rendition whose provenance matches what a run
    /// would produce is kept, not encoded again.
    public var provenance: String
    /// The segment table (a `SegmentedTrack` as JSON), from which manifests can be written again.
    public var segmentTable: Data?
    /// SHA-256 of the bytes at ``path`` (a segment folder's: of its listing of names and digests); nil when
    /// written before the catalog recorded it.
    public var sha256: String?

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
        encoderVersions: String,
        provenance: String = "",
        segmentTable: Data? = nil,
        sha256: String? = nil
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
        self.provenance = provenance
        self.segmentTable = segmentTable
        self.sha256 = sha256
    }

    /// Every column but the segment table: what runs read for many renditions at once.
    static let columnsButSegmentTable = """
        id, trackId, name, codec, bitrate, sampleRate, channels, layout, path, size, peakBandwidth, averageBandwidth,
        encoderVersions, provenance, sha256
        """

    /// What a publish reads: its encoder versions and provenance read as empty (a publication shows neither, and
    /// at 100,000 tracks they were 200 MB of a full publish's memory).
    static let columnsForPublishing = """
        id, trackId, name, codec, bitrate, sampleRate, channels, layout, path, size, peakBandwidth, averageBandwidth,
        '' AS encoderVersions, '' AS provenance, sha256
        """

    /// Read column by column: a rescan reads every rendition, and the Codable path cost it a fifth of its time.
    /// A column left out of the query (the segment table, in a snapshot) reads as nil.
    public init(row: Row) throws {
        id = row["id"]
        trackId = row["trackId"]
        name = row["name"]
        codec = row["codec"]
        bitrate = row["bitrate"]
        sampleRate = row["sampleRate"]
        channels = row["channels"]
        layout = row["layout"]
        path = row["path"]
        size = row["size"]
        peakBandwidth = row["peakBandwidth"]
        averageBandwidth = row["averageBandwidth"]
        encoderVersions = row["encoderVersions"]
        provenance = row["provenance"]
        segmentTable = row["segmentTable"]
        sha256 = row["sha256"]
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
    /// The file as it was when rejected (-1, 0 and "" when unknown).
    public var sourceSize: Int64
    public var sourceModified: Int64
    public var sourceChanged: Int64
    public var sourceInode: Int64
    public var sourceSHA256: String
    /// The validation rules and library versions the rejection holds for: while they and the file are unchanged,
    /// later runs repeat the rejection without decoding. Nil when it depends on other masters (a copy).
    public var rulesKey: String?

    public init(
        sourcePath: String,
        reason: String,
        runId: Int64? = nil,
        sourceSize: Int64 = -1,
        sourceModified: Int64 = 0,
        sourceChanged: Int64 = 0,
        sourceInode: Int64 = 0,
        sourceSHA256: String = "",
        rulesKey: String? = nil
    ) {
        self.sourcePath = sourcePath
        self.reason = reason
        self.runId = runId
        self.sourceSize = sourceSize
        self.sourceModified = sourceModified
        self.sourceChanged = sourceChanged
        self.sourceInode = sourceInode
        self.sourceSHA256 = sourceSHA256
        self.rulesKey = rulesKey
    }
}

/// A master left out as a duplicate of a catalog track (`--skip-duplicates`).
public struct SkippedMaster: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// Relative to MASTERS_DIR.
    public var sourcePath: String
    public var sourceSize: Int64
    public var sourceModified: Int64
    public var sourceChanged: Int64
    public var sourceInode: Int64
    public var sourceSHA256: String
    public var duplicateOfId: String
    public var similarity: Double
    public var runId: Int64?

    public init(
        sourcePath: String, sourceSize: Int64, sourceModified: Int64, sourceChanged: Int64, sourceInode: Int64,
        sourceSHA256: String, duplicateOfId: String, similarity: Double, runId: Int64?
    ) {
        self.sourcePath = sourcePath
        self.sourceSize = sourceSize
        self.sourceModified = sourceModified
        self.sourceChanged = sourceChanged
        self.sourceInode = sourceInode
        self.sourceSHA256 = sourceSHA256
        self.duplicateOfId = duplicateOfId
        self.similarity = similarity
        self.runId = runId
    }
}

extension Track {
    /// A new track's id: the first 20 hex digits of its audio hash, or, when another master already has that
    /// audio (the same recording tagged for another release), of the hash of the audio hash and the master's path.
    /// musikk-publish applies the same rule when two shards gave one id to two masters.
    public static func newID(audioSHA256: String, relativePath: String, isTaken: (String) -> Bool) -> String {
        let plain = String(audioSHA256.prefix(20))
        guard isTaken(plain) else { return plain }
        return String(FileDigest.sha256(of: Data("\(audioSHA256)\n\(relativePath)".utf8)).prefix(20))
    }
}
