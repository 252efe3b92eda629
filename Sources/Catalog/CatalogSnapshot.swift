import Foundation
import GRDB

/// What the catalog knows about every master, read in one go at the start of a run: enough to tell, for each file
/// under MASTERS_DIR, whether it is new, changed, moved, or unchanged, and whether a track's files are all there.
public struct CatalogSnapshot: Sendable {
    /// Every track, removed ones included.
    public var tracks: [Track]
    /// Each track's renditions, without their segment tables (see ``CatalogDatabase/segmentTables(ofTrack:)``).
    public var renditions: [String: [Rendition]]
    /// Each track's manifest files, relative to WORK_DIR.
    public var manifestPaths: [String: [String]]
    public var waveforms: [String: TrackWaveform]
    public var rejected: [RejectedMaster]
    public var skipped: [SkippedMaster]

    /// What an empty (or not yet created) catalog knows.
    public static let empty = CatalogSnapshot(
        tracks: [], renditions: [:], manifestPaths: [:], waveforms: [:], rejected: [], skipped: []
    )

    /// Every file and folder a track's rows point at, relative to WORK_DIR.
    public func files(ofTrack id: String) -> [String] {
        var files = (renditions[id] ?? []).map(\.path) + (manifestPaths[id] ?? [])
        if let waveform = waveforms[id] { files += [waveform.jsonPath, waveform.dataPath] }
        return files
    }
}

extension CatalogDatabase {
    /// Reads the catalog's view of every master (one consistent read).
    public func snapshot() throws -> CatalogSnapshot {
        try writer.read { db in
            let renditions = try Rendition.fetchAll(db, sql: """
                SELECT id, trackId, name, codec, bitrate, sampleRate, channels, layout, path, size, peakBandwidth,
                       averageBandwidth, encoderVersions, provenance
                FROM rendition ORDER BY id
                """)
            let manifests = try ManifestFile.fetchAll(db)
            return CatalogSnapshot(
                tracks: try Track.order(Column("sourcePath")).fetchAll(db),
                renditions: Dictionary(grouping: renditions, by: \.trackId),
                manifestPaths: Dictionary(grouping: manifests, by: \.trackId).mapValues { $0.map(\.path) },
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
