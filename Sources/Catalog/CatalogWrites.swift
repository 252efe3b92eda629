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

    public init(
        track: Track, artistNames: [String], release: (artistName: String, title: String, date: String?)?,
        coverArt: (path: String, mimeType: String)?, renditions: [Rendition], manifests: [ManifestFile]
    ) {
        self.track = track
        self.artistNames = artistNames
        self.release = release
        self.coverArt = coverArt
        self.renditions = renditions
        self.manifests = manifests
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

    /// Records a track with its artists, release, renditions and manifests, replacing any earlier record of the
    /// same track id or source path, and clears an earlier rejection of that source path.
    public func record(_ ingested: IngestedTrack) throws {
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
            try RejectedMaster.deleteOne(db, key: track.sourcePath)
        }
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
