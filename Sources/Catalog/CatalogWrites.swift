import Foundation
import GRDB

/// Everything recorded for one ingested master, written in one transaction.
public struct IngestedTrack: Sendable {
    public var track: Track
    /// Performing artists in credit order.
    public var artistNames: [String]
    /// Album artist and title; nil for a loose track.
    public var release: (artistName: String, title: String, date: String?)?
    public var coverArt: (path: String, mimeType: String)?
    public var renditions: [Rendition]
    public var manifests: [ManifestFile]
    /// Nil when the run does no analysis.
    public var analysis: TrackAnalysisRecords?

    public init(
        track: Track, artistNames: [String], release: (artistName: String, title: String, date: String?)?,
        coverArt: (path: String, mimeType: String)?, renditions: [Rendition], manifests: [ManifestFile],
        analysis: TrackAnalysisRecords? = nil
    ) {
        self.track = track
        self.artistNames = artistNames
        self.release = release
        self.coverArt = coverArt
        self.renditions = renditions
        self.manifests = manifests
        self.analysis = analysis
    }
}

extension CatalogDatabase {
    /// Records the start of a run and returns its id.
    public func startRun(toolVersion: String, mastersDirectory: String, at date: Date = Date()) throws -> Int64 {
        try writer.write { db in
            var run = Run(
                startedAt: date, toolVersion: toolVersion, mastersDirectory: mastersDirectory,
                ingestedCount: 0, rejectedCount: 0
            )
            try run.insert(db)
            return run.id ?? 0
        }
    }

    public func finishRun(id: Int64, ingested: Int, rejected: Int, at date: Date = Date()) throws {
        try writer.write { db in
            guard var run = try Run.fetchOne(db, key: id) else { return }
            run.finishedAt = date
            run.ingestedCount = ingested
            run.rejectedCount = rejected
            try run.update(db)
        }
    }

    /// Records a track with its artists, release, renditions, manifests and analysis, replacing any earlier record
    /// of the same track id or source path, and clears an earlier rejection of that source path. When the track
    /// belongs to a release, the release's album gain is recomputed over all its tracks with `albumLoudness`
    /// (which gates their gating-block histograms together).
    public func record(_ ingested: IngestedTrack, albumLoudness: ([Data]) -> Double? = { _ in nil }) throws {
        try writer.write { db in
            var track = ingested.track
            if let release = ingested.release {
                let artistId = try artistID(named: release.artistName, db)
                var row = try Release
                    .filter(Column("title") == release.title && Column("artistId") == artistId)
                    .fetchOne(db) ?? Release(title: release.title, artistId: artistId, date: release.date)
                if row.date == nil { row.date = release.date }
                if let cover = ingested.coverArt {
                    row.coverArtPath = cover.path
                    row.coverArtMimeType = cover.mimeType
                }
                try row.save(db)
                track.releaseId = row.id
            }
            try Track.filter(Column("sourcePath") == track.sourcePath && Column("id") != track.id).deleteAll(db)
            try Track.deleteOne(db, key: track.id)
            try track.insert(db)
            for (position, name) in ingested.artistNames.enumerated() {
                try TrackArtist(trackId: track.id, artistId: try artistID(named: name, db), position: position)
                    .insert(db)
            }
            for var rendition in ingested.renditions {
                rendition.trackId = track.id
                try rendition.insert(db)
            }
            for manifest in ingested.manifests {
                try manifest.insert(db)
            }
            if let analysis = ingested.analysis {
                try analysis.fingerprint?.insert(db)
                for key in analysis.fingerprintKeys {
                    try FingerprintKey(key: key, trackId: track.id).insert(db)
                }
                for duplicate in analysis.duplicates {
                    try duplicate.insert(db)
                }
                try analysis.loudness.insert(db)
                try analysis.waveform.insert(db)
                try analysis.signal.insert(db)
            }
            if let releaseId = track.releaseId {
                try updateAlbumGain(releaseId: releaseId, albumLoudness: albumLoudness, db)
            }
            try RejectedMaster.deleteOne(db, key: track.sourcePath)
        }
    }

    /// Tracks whose fingerprints share at least `minimumSharedKeys` of `keys`, most shared first: the index
    /// lookup that keeps duplicate detection to a few comparisons whatever the size of the catalog.
    public func duplicateCandidates(
        keys: [Int64], excluding trackId: String, minimumSharedKeys: Int, limit: Int
    ) throws -> [DuplicateCandidate] {
        guard !keys.isEmpty else { return [] }
        return try writer.read { db in
            let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: """
                SELECT candidate.trackId, candidate.shared, track.sourcePath, trackFingerprint.fingerprintRaw,
                       EXISTS (SELECT 1 FROM duplicate WHERE duplicate.trackId = candidate.trackId) AS isDuplicate
                FROM (
                    SELECT trackId, COUNT(*) AS shared FROM fingerprintKey
                    WHERE key IN (\(placeholders)) AND trackId <> ?
                    GROUP BY trackId HAVING shared >= ?
                    ORDER BY shared DESC, trackId LIMIT ?
                ) AS candidate
                JOIN track ON track.id = candidate.trackId
                JOIN trackFingerprint ON trackFingerprint.trackId = candidate.trackId
                ORDER BY candidate.shared DESC, track.sourcePath
                """, arguments: StatementArguments(keys.map { $0 as any DatabaseValueConvertible }
                    + [trackId, minimumSharedKeys, limit]))
            return rows.map { row in
                DuplicateCandidate(
                    trackId: row["trackId"], sourcePath: row["sourcePath"], sharedKeys: row["shared"],
                    fingerprintRaw: row["fingerprintRaw"], isDuplicate: row["isDuplicate"]
                )
            }
        }
    }

    /// The album gain and peak of each listed track's release (tracks without a release are left out).
    public func albumGains(ofTracks trackIds: [String]) throws -> [String: (gainDB: Double?, peak: Double?)] {
        guard !trackIds.isEmpty else { return [:] }
        return try writer.read { db in
            let placeholders = Array(repeating: "?", count: trackIds.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: """
                SELECT track.id, release.albumGainDB, release.albumPeak FROM track
                JOIN release ON release.id = track.releaseId WHERE track.id IN (\(placeholders))
                """, arguments: StatementArguments(trackIds))
            return Dictionary(uniqueKeysWithValues: rows.map { row in
                (row["id"] as String, (gainDB: row["albumGainDB"] as Double?, peak: row["albumPeak"] as Double?))
            })
        }
    }

    private func updateAlbumGain(releaseId: Int64, albumLoudness: ([Data]) -> Double?, _ db: Database) throws {
        let measured = try TrackLoudness
            .filter(sql: "trackId IN (SELECT id FROM track WHERE releaseId = ?)", arguments: [releaseId])
            .fetchAll(db)
        guard var release = try Release.fetchOne(db, key: releaseId) else { return }
        let loudness = measured.isEmpty ? nil : albumLoudness(measured.map(\.gatingBlocks))
        release.albumGainDB = loudness.map { -18 - $0 }
        release.albumPeak = measured.map(\.trackPeak).max()
        try release.update(db)
    }

    /// Records why a master was rejected (replacing an earlier reason for the same path).
    public func recordRejection(sourcePath: String, reason: String, runId: Int64?) throws {
        try writer.write { db in
            try RejectedMaster(sourcePath: sourcePath, reason: reason, runId: runId).save(db)
        }
    }

    private func artistID(named name: String, _ db: Database) throws -> Int64 {
        if let existing = try Artist.filter(Column("name") == name).fetchOne(db), let id = existing.id {
            return id
        }
        var artist = Artist(name: name)
        try artist.insert(db)
        return artist.id ?? 0
    }
}
