import Foundation
import GRDB

/// Everything a publication shows, read in one transaction: the tracks still in the catalog (removed ones left
/// out), their artists and releases, renditions, loudness and waveforms.
public struct CatalogContents: Sendable {
    public var artists: [Artist]
    public var releases: [Release]
    /// Ordered by release, disc, track number, then title.
    public var tracks: [Track]
    /// Each track's artists in credit order.
    public var trackArtists: [String: [Int64]]
    /// Each track's renditions in ladder order, without segment tables (``CatalogDatabase/segmentTables(ofTrack:)``
    /// reads a track's when its manifests are written: a large catalog's would not fit in memory).
    public var renditions: [String: [Rendition]]
    public var loudness: [String: TrackLoudness]
    public var waveforms: [String: TrackWaveform]
    /// The last finished run that changed a track (ingested, updated or removed one); nil before the first.
    public var lastChange: Run?

    public init(
        artists: [Artist], releases: [Release], tracks: [Track], trackArtists: [String: [Int64]], renditions: [String: [Rendition]],
        loudness: [String: TrackLoudness], waveforms: [String: TrackWaveform], lastChange: Run?
    ) {
        (self.artists, self.releases, self.tracks, self.trackArtists) = (artists, releases, tracks, trackArtists)
        (self.renditions, self.loudness, self.waveforms, self.lastChange) = (renditions, loudness, waveforms, lastChange)
    }
}

extension CatalogDatabase {
    /// Reads what a publication shows (one consistent read).
    public func contents() throws -> CatalogContents {
        try writer.read { db in
            let tracks = try Track.fetchAll(db, sql: """
                SELECT * FROM track WHERE removedAt IS NULL
                ORDER BY releaseId IS NULL, releaseId, discNumber, trackNumber, title, id
                """)
            let live = Set(tracks.map(\.id))
            let credits = try TrackArtist.order(Column("trackId"), Column("position")).fetchAll(db)
            let renditions = try Rendition.fetchAll(db, sql: """
                SELECT \(Rendition.columnsButSegmentTable) FROM rendition ORDER BY id
                """).filter { live.contains($0.trackId) }
            return CatalogContents(
                artists: try Artist.order(Column("name"), Column("id")).fetchAll(db),
                releases: try Release.order(Column("title"), Column("id")).fetchAll(db),
                tracks: tracks,
                trackArtists: Dictionary(grouping: credits.filter { live.contains($0.trackId) }, by: \.trackId)
                    .mapValues { $0.map(\.artistId) },
                renditions: Dictionary(grouping: renditions, by: \.trackId),
                loudness: Dictionary(uniqueKeysWithValues: try TrackLoudness.fetchAll(db)
                    .filter { live.contains($0.trackId) }.map { ($0.trackId, $0) }),
                waveforms: Dictionary(uniqueKeysWithValues: try TrackWaveform.fetchAll(db)
                    .filter { live.contains($0.trackId) }.map { ($0.trackId, $0) }),
                lastChange: try Run.lastChange.fetchOne(db)
            )
        }
    }
}

extension Run {
    /// The last finished run that changed a track.
    static var lastChange: QueryInterfaceRequest<Run> {
        Run.filter(sql: "finishedAt IS NOT NULL AND ingestedCount + updatedCount + removedCount > 0").order(Column("id").desc)
    }
}

extension CatalogDatabase {
    /// A track's segment tables by rendition name.
    public func segmentTables(ofTrack id: String) throws -> [String: Data] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, segmentTable FROM rendition WHERE trackId = ? AND segmentTable IS NOT NULL",
                                        arguments: [id])
            return Dictionary(rows.map { ($0[0] as String, $0[1] as Data) }) { first, _ in first }
        }
    }
}
