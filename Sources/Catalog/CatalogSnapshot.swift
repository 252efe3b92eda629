import Foundation
import GRDB
import WorkArea

/// What the catalog knows about every master, read in one go at the start of a run: enough to tell, for each file
/// under MASTERS_DIR, whether it is new, changed, moved, or unchanged. Renditions are not in it: a track whose WORK
/// folder and outputs are as last checked needs none, and the others read theirs (``CatalogDatabase/outputs(ofTrack:)``).
public struct CatalogSnapshot: Sendable {
    /// Every track, removed ones included.
    public var tracks: [Track]
    public var rejected: [RejectedMaster]
    public var skipped: [SkippedMaster]
    /// Each track's WORK folder and outputs as they were when a run last found them complete.
    public var workChecks: [String: WorkCheck]

    /// What an empty (or not yet created) catalog knows.
    public static let empty = CatalogSnapshot(tracks: [], rejected: [], skipped: [], workChecks: [:])
}

/// A track found complete by a run: its WORK folder's stamp then, and its audio's digest with a digest of the
/// profile's rung names and rendition provenances. While both are the same, the track's files and renditions need no second look.
public struct WorkCheck: Sendable, Equatable {
    /// The track's WORK folder as `stat` saw it.
    public var folder: FileStamp
    public var outputs: String

    public init(folder: FileStamp, outputs: String) {
        self.folder = folder
        self.outputs = outputs
    }
}

extension CatalogDatabase {
    /// Reads the catalog's view of every master (one consistent read).
    public func snapshot() throws -> CatalogSnapshot {
        try writer.read { db in
            CatalogSnapshot(
                tracks: try Track.fetchAll(db, positionallyFrom: "SELECT * FROM track ORDER BY sourcePath"),
                rejected: try RejectedMaster.fetchAll(db),
                skipped: try SkippedMaster.fetchAll(db),
                workChecks: Dictionary(
                    try Row.fetchAll(db, sql: """
                        SELECT trackId, folderSize, folderModified, folderChanged, folderInode, outputs FROM workCheck
                        """).map { row in
                        let folder = FileStamp(size: row[1], modified: row[2], changed: row[3], inode: row[4])
                        return (row[0] as String, WorkCheck(folder: folder, outputs: row[5]))
                    }, uniquingKeysWith: { first, _ in first }
                )
            )
        }
    }

    /// A track's renditions (without segment tables) and waveform: what a run checks against its profile.
    public func outputs(ofTrack id: String) throws -> (renditions: [Rendition], waveform: TrackWaveform?) {
        try writer.read { db in
            let renditions = try Rendition.fetchAll(db, sql: """
                SELECT \(Rendition.columnsButSegmentTable) FROM rendition WHERE trackId = ? ORDER BY id
                """, arguments: [id])
            return (renditions, try TrackWaveform.fetchOne(db, key: id))
        }
    }

    /// Renditions written before the catalog kept digests (v4), without segment tables.
    public func renditionsWithoutDigest() throws -> [Rendition] {
        try writer.read { db in
            try Rendition.fetchAll(db, sql: """
                SELECT \(Rendition.columnsButSegmentTable) FROM rendition WHERE sha256 IS NULL ORDER BY id
                """)
        }
    }

    /// Records the tracks a run found complete.
    public func recordWorkChecks(_ checks: [(trackId: String, check: WorkCheck)]) throws {
        guard !checks.isEmpty else { return }
        try writer.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO workCheck (trackId, folderSize, folderModified, folderChanged, folderInode, outputs)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (trackId, check) in checks {
                let folder = check.folder
                try statement.execute(arguments: [trackId, folder.size, folder.modified, folder.changed, folder.inode, check.outputs])
            }
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
