import Foundation
import GRDB

/// What the catalog knows about every master, read in one go at the start of a run: enough to tell, for each file
/// under MASTERS_DIR, whether it is new, changed, moved, or unchanged, and whether a track's files are all there.
public struct CatalogSnapshot: Sendable {
    /// Every track, removed ones included.
    public var tracks: [Track]
    /// Each track's renditions, without their segment tables (see ``CatalogDatabase/renditions(ofTrack:)``).
    public var renditions: [String: [Rendition]]
    public var waveforms: [String: TrackWaveform]
    public var rejected: [RejectedMaster]
    public var skipped: [SkippedMaster]

    /// What an empty (or not yet created) catalog knows.
    public static let empty = CatalogSnapshot(
        tracks: [], renditions: [:], waveforms: [:], rejected: [], skipped: []
    )
}

extension CatalogDatabase {
    /// Reads the catalog's view of every master (one consistent read).
    public func snapshot() throws -> CatalogSnapshot {
        try writer.read { db in
            let renditions = try Rendition.fetchAll(db, sql: """
                SELECT id, trackId, name, codec, bitrate, sampleRate, channels, layout, path, size, peakBandwidth,
                       averageBandwidth, encoderVersions, provenance, sha256
                FROM rendition ORDER BY id
                """)
            return CatalogSnapshot(
                tracks: try Track.order(Column("sourcePath")).fetchAll(db),
                renditions: Dictionary(grouping: renditions, by: \.trackId),
                waveforms: Dictionary(uniqueKeysWithValues: try TrackWaveform.fetchAll(db).map { ($0.trackId, $0) }),
                rejected: try RejectedMaster.fetchAll(db),
                skipped: try SkippedMaster.fetchAll(db)
            )
        }
    }

    /// One track, removed or not.
    public func track(id: String) throws -> Track? {
        try writer.read { try Track.fetchOne($0, key: id) }
    }

    /// A track's renditions in full, segment tables included, by rendition name.
    public func renditions(ofTrack id: String) throws -> [String: Rendition] {
        try writer.read { db in
            let rows = try Rendition.filter(Column("trackId") == id).fetchAll(db)
            return Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
        }
    }
}
