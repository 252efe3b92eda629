import Foundation
import GRDB
import WorkArea

/// Who made a track and what it belongs to, as its tags say.
public struct TrackDescription: Sendable {
    /// Performing artists in credit order.
    public var artistNames: [String]
    /// Album artist and title; nil for a loose track.
    public var release: (artistName: String, title: String, date: String?)?
    public var coverArt: (path: String, mimeType: String)?
    /// The master's lyrics as the publication's JSON (`TrackDocument.lyrics`); nil when it has none.
    public var lyricsJSON: String?

    public init(
        artistNames: [String], release: (artistName: String, title: String, date: String?)?,
        coverArt: (path: String, mimeType: String)?, lyricsJSON: String? = nil
    ) {
        self.artistNames = artistNames
        self.release = release
        self.coverArt = coverArt
        self.lyricsJSON = lyricsJSON
    }
}

/// How many masters a run ended each way.
public struct RunCounts: Sendable, Equatable {
    public var ingested = 0, updated = 0, unchanged = 0, removed = 0, rejected = 0, skipped = 0

    public init(ingested: Int = 0, updated: Int = 0, unchanged: Int = 0, removed: Int = 0, rejected: Int = 0, skipped: Int = 0) {
        self.ingested = ingested
        self.updated = updated
        self.unchanged = unchanged
        self.removed = removed
        self.rejected = rejected
        self.skipped = skipped
    }
}

/// Everything recorded for one ingested master, written in one transaction.
public struct IngestedTrack: Sendable {
    public var track: Track
    /// Artists, release, cover and lyrics, from the master's tags.
    public var description: TrackDescription
    public var renditions: [Rendition]
    public var manifests: [ManifestFile]
    /// Nil when the run does no analysis.
    public var analysis: TrackAnalysisRecords?

    public init(
        track: Track, description: TrackDescription, renditions: [Rendition], manifests: [ManifestFile], analysis: TrackAnalysisRecords? = nil
    ) {
        self.track = track
        self.description = description
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

    /// Records the end of a run with how many masters ended each way.
    public func finishRun(id: Int64, counts: RunCounts, at date: Date = Date()) throws {
        try writer.write { db in
            guard var run = try Run.fetchOne(db, key: id) else { return }
            run.finishedAt = date
            run.ingestedCount = counts.ingested
            run.updatedCount = counts.updated
            run.unchangedCount = counts.unchanged
            run.removedCount = counts.removed
            run.rejectedCount = counts.rejected
            run.skippedCount = counts.skipped
            try run.update(db)
        }
    }

    /// Records a track with its artists, release, renditions, manifests and analysis, replacing what an earlier
    /// run recorded for the same track id (or another track from the same source path), and clears an earlier
    /// rejection or skip of that path. Analysis rows are replaced when `analysis` is given, and dropped when the
    /// audio changed without a new analysis; tracks recorded as duplicates of this one stay so only while its
    /// audio is the same. Album gain is recomputed for the release the track leaves and the one it joins, with
    /// `albumLoudness` (which gates the tracks' gating-block histograms together).
    public func record(_ ingested: IngestedTrack, albumLoudness: ([Data]) -> Double? = { _ in nil }) throws {
        try writer.write { db in
            var track = ingested.track
            let previous = try Track.fetchOne(db, key: track.id)
            try Track.filter(Column("sourcePath") == track.sourcePath && Column("id") != track.id).deleteAll(db)
            track.releaseId = try releaseID(for: ingested.description, db)
            if previous == nil { try track.insert(db) } else { try track.update(db) }
            try replaceArtists(of: track.id, with: ingested.description.artistNames, db)
            try replaceLyrics(of: track.id, with: ingested.description.lyricsJSON, db)
            try Rendition.filter(Column("trackId") == track.id).deleteAll(db)
            for var rendition in ingested.renditions {
                rendition.trackId = track.id
                try rendition.insert(db)
            }
            try ManifestFile.filter(Column("trackId") == track.id).deleteAll(db)
            for manifest in ingested.manifests {
                try manifest.insert(db)
            }
            let audioChanged = previous.map { $0.audioSHA256 != track.audioSHA256 } ?? false
            if ingested.analysis != nil || audioChanged {
                for table in ["trackFingerprint", "fingerprintKey", "duplicate", "trackLoudness", "trackWaveform",
                              "trackSignal"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE trackId = ?", arguments: [track.id])
                }
            }
            if audioChanged {
                try Duplicate.filter(Column("duplicateOfId") == track.id).deleteAll(db)
                try SkippedMaster.filter(Column("duplicateOfId") == track.id).deleteAll(db)
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
            try updateAlbumGains(releaseIds: [previous?.releaseId, track.releaseId], albumLoudness: albumLoudness, db)
            try RejectedMaster.deleteOne(db, key: track.sourcePath)
            try SkippedMaster.deleteOne(db, key: track.sourcePath)
        }
    }

    /// Updates a track's row (after its master was touched, moved or re-tagged) and, when `description` is given,
    /// its artists, release and cover; its renditions, manifests and analysis stay. A removed track whose master
    /// is back is live again.
    public func updateTrack(
        _ track: Track, description: TrackDescription?, albumLoudness: ([Data]) -> Double? = { _ in nil }
    ) throws {
        try writer.write { db in
            var track = track
            guard let previous = try Track.fetchOne(db, key: track.id) else { return }
            if let description {
                track.releaseId = try releaseID(for: description, db)
                try replaceArtists(of: track.id, with: description.artistNames, db)
                try replaceLyrics(of: track.id, with: description.lyricsJSON, db)
            }
            try track.update(db)
            if previous.releaseId != track.releaseId || previous.removedAt != track.removedAt {
                try updateAlbumGains(releaseIds: [previous.releaseId, track.releaseId], albumLoudness: albumLoudness, db)
            }
            try RejectedMaster.deleteOne(db, key: track.sourcePath)
            try SkippedMaster.deleteOne(db, key: track.sourcePath)
        }
    }

    /// Records rendition digests by rendition id.
    public func recordDigests(_ digests: [Int64: String]) throws {
        try writer.write { db in
            for (id, digest) in digests {
                try db.execute(sql: "UPDATE rendition SET sha256 = ? WHERE id = ?", arguments: [digest, id])
            }
        }
    }

    /// Marks tracks whose masters disappeared as removed (their rows and files stay in WORK for a master that
    /// comes back) and recomputes their releases' album gain without them.
    public func markRemoved(
        trackIds: [String], at date: Date = Date(), albumLoudness: ([Data]) -> Double? = { _ in nil }
    ) throws {
        guard !trackIds.isEmpty else { return }
        try writer.write { db in
            for id in trackIds {
                guard var track = try Track.fetchOne(db, key: id) else { continue }
                track.removedAt = date
                try track.update(db)
                try updateAlbumGains(releaseIds: [track.releaseId], albumLoudness: albumLoudness, db)
            }
        }
    }

    /// Records a master left out as a duplicate.
    public func recordSkipped(_ skipped: SkippedMaster) throws {
        try writer.write { db in
            try RejectedMaster.deleteOne(db, key: skipped.sourcePath)
            try skipped.save(db)
        }
    }

    /// Forgets the rejections and skips of masters that are no longer there.
    public func forgetMasters(atPaths paths: [String]) throws {
        guard !paths.isEmpty else { return }
        try writer.write { db in
            for path in paths {
                try RejectedMaster.deleteOne(db, key: path)
                try SkippedMaster.deleteOne(db, key: path)
            }
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
                JOIN track ON track.id = candidate.trackId AND track.removedAt IS NULL
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

    private func updateAlbumGains(releaseIds: [Int64?], albumLoudness: ([Data]) -> Double?, _ db: Database) throws {
        for releaseId in Set(releaseIds.compactMap { $0 }).sorted() {
            let measured = try TrackLoudness
                .filter(sql: "trackId IN (SELECT id FROM track WHERE releaseId = ? AND removedAt IS NULL)",
                        arguments: [releaseId])
                .fetchAll(db)
            guard var release = try Release.fetchOne(db, key: releaseId) else { continue }
            let loudness = measured.isEmpty ? nil : albumLoudness(measured.map(\.gatingBlocks))
            release.albumGainDB = loudness.map { -18 - $0 }
            release.albumPeak = measured.map(\.trackPeak).max()
            try release.update(db)
        }
    }

    /// The id of the track's release, created (or its date and cover filled in) as needed; nil for a loose track.
    private func releaseID(for entry: TrackDescription, _ db: Database) throws -> Int64? {
        guard let release = entry.release else { return nil }
        let artistId = try artistID(named: release.artistName, db)
        var row = try Release
            .filter(Column("title") == release.title && Column("artistId") == artistId)
            .fetchOne(db) ?? Release(
                id: try Self.nameID("release\n\(release.artistName)\n\(release.title)") { try Release.exists(db, key: $0) },
                title: release.title, artistId: artistId, date: release.date)
        if row.date == nil { row.date = release.date }
        if let cover = entry.coverArt {
            row.coverArtPath = cover.path
            row.coverArtMimeType = cover.mimeType
        }
        try row.save(db)
        return row.id
    }

    /// Writes the track's lyrics row only when it changes, so an unchanged master publishes nothing new.
    private func replaceLyrics(of trackId: String, with json: String?, _ db: Database) throws {
        let stored = try String.fetchOne(db, sql: "SELECT lyrics FROM trackLyrics WHERE trackId = ?", arguments: [trackId])
        guard stored != json else { return }
        try db.execute(sql: "DELETE FROM trackLyrics WHERE trackId = ?", arguments: [trackId])
        if let json { try db.execute(sql: "INSERT INTO trackLyrics (trackId, lyrics) VALUES (?, ?)", arguments: [trackId, json]) }
    }

    private func replaceArtists(of trackId: String, with names: [String], _ db: Database) throws {
        try TrackArtist.filter(Column("trackId") == trackId).deleteAll(db)
        for (position, name) in names.enumerated() {
            try TrackArtist(trackId: trackId, artistId: try artistID(named: name, db), position: position).insert(db)
        }
    }

    /// Records why a master was rejected (replacing an earlier reason for the same path).
    public func recordRejection(_ rejection: RejectedMaster) throws {
        try writer.write { db in
            try SkippedMaster.deleteOne(db, key: rejection.sourcePath)
            try rejection.save(db)
        }
    }

    private func artistID(named name: String, _ db: Database) throws -> Int64 {
        if let existing = try Artist.filter(Column("name") == name).fetchOne(db), let id = existing.id {
            return id
        }
        var artist = Artist(id: try Self.nameID("artist\n\(name)") { try Artist.exists(db, key: $0) }, name: name)
        try artist.insert(db)
        return artist.id ?? 0
    }

    /// The id of a new artist or release, made from its name: the same in every catalog that has it, so shards
    /// of one ingest (and a catalog ingested again from scratch) agree without asking each other. 52 bits of its
    /// SHA-256, which JavaScript numbers hold exactly; on the rare collision within a catalog, the next free id.
    static func nameID(_ key: String, isTaken: (Int64) throws -> Bool) rethrows -> Int64 {
        let hex = FileDigest.sha256(of: Data(key.utf8)).prefix(13)
        var id = max(1, Int64(hex, radix: 16) ?? 1)
        while try isTaken(id) { id = id == nameIDLimit ? 1 : id + 1 }
        return id
    }

    /// The largest name-made id: 2^52 - 1.
    static let nameIDLimit: Int64 = (1 << 52) - 1
}

extension CatalogDatabase {
    /// Up to `limit` rows of the fingerprint key index in (key, track) order, after `after`: read in pages, so
    /// several catalogs' indexes can be merged with bounded memory.
    public func fingerprintKeys(after: (key: Int64, trackId: String)?, limit: Int) throws -> [(key: Int64, trackId: String)] {
        try writer.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT key, trackId FROM fingerprintKey WHERE (key, trackId) > (?, ?) ORDER BY key, trackId LIMIT ?
                """, arguments: [after?.key ?? Int64.min, after?.trackId ?? "", limit])
            var page: [(key: Int64, trackId: String)] = []
            while let row = try rows.next() { page.append((row[0], row[1])) }
            return page
        }
    }

    /// A track's full fingerprint (Chromaprint's raw sub-fingerprints as little-endian bytes); nil without one.
    public func fingerprintRaw(ofTrack id: String) throws -> Data? {
        try writer.read { db in
            try Data.fetchOne(db, sql: "SELECT fingerprintRaw FROM trackFingerprint WHERE trackId = ?", arguments: [id])
        }
    }
}
