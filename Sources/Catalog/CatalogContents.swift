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
    /// reads a track's when its manifests are written: a large catalog's would not fit in memory), encoder
    /// versions or provenance.
    public var renditions: [String: [Rendition]]
    public var loudness: [String: TrackLoudness]
    public var waveforms: [String: TrackWaveform]
    /// Each track's lyrics as the publication's JSON, for tracks that have any.
    public var lyrics: [String: String]
    /// The last finished run that changed a track (ingested, updated or removed one); nil before the first.
    public var lastChange: Run?

    public init(
        artists: [Artist], releases: [Release], tracks: [Track], trackArtists: [String: [Int64]], renditions: [String: [Rendition]],
        loudness: [String: TrackLoudness], waveforms: [String: TrackWaveform], lyrics: [String: String], lastChange: Run?
    ) {
        (self.artists, self.releases, self.tracks, self.trackArtists) = (artists, releases, tracks, trackArtists)
        (self.renditions, self.loudness, self.waveforms, self.lyrics, self.lastChange) = (renditions, loudness, waveforms, lyrics, lastChange)
    }
}

extension CatalogDatabase {
    /// Reads what a publication shows (one consistent read).
    public func contents() throws -> CatalogContents {
        try writer.read { db in
            let tracks = try Track.fetchAll(db, positionallyFrom: """
                SELECT * FROM track WHERE removedAt IS NULL
                ORDER BY releaseId IS NULL, releaseId, discNumber, trackNumber, title, id
                """)
            let live = Set(tracks.map(\.id))
            let credits = try TrackArtist.order(Column("trackId"), Column("position")).fetchAll(db)
            let renditions = try Rendition.fetchAll(db, sql: """
                SELECT \(Rendition.columnsForPublishing) FROM rendition ORDER BY id
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
                lyrics: Self.lyrics(try Row.fetchAll(db, sql: "SELECT trackId, lyrics FROM trackLyrics"), of: live),
                lastChange: try Run.lastChange.fetchOne(db)
            )
        }
    }
}

extension CatalogDatabase {
    /// Lyrics rows of the live tracks, by track id.
    static func lyrics(_ rows: [Row], of live: Set<String>) -> [String: String] {
        var lyrics: [String: String] = [:]
        for row in rows {
            let id: String = row[0]
            if live.contains(id) { lyrics[id] = row[1] }
        }
        return lyrics
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

extension CatalogDatabase {
    /// What a publication shows of some tracks (those still in the catalog), and of some releases and artists:
    /// `releases` and those of the tracks, `artists` and those credited on the tracks or releases, in no particular
    /// order. For a publish that rebuilds only what changed.
    public func contents(ofTracks trackIDs: Set<String>, releases releaseIDs: Set<Int64>, artists artistIDs: Set<Int64>) throws -> CatalogContents {
        try writer.read { db in
            var tracks: [Track] = []
            var credits: [TrackArtist] = []
            var renditions: [Rendition] = []
            var loudness: [TrackLoudness] = []
            var waveforms: [TrackWaveform] = []
            var lyrics: [Row] = []
            try db.forEachBatch(of: trackIDs) { marks, arguments in
                lyrics += try Row.fetchAll(db, sql: "SELECT trackId, lyrics FROM trackLyrics WHERE trackId IN (\(marks))", arguments: arguments)
                tracks += try Track.fetchAll(db, sql: "SELECT * FROM track WHERE removedAt IS NULL AND id IN (\(marks))", arguments: arguments)
                credits += try TrackArtist.fetchAll(db, sql: "SELECT * FROM trackArtist WHERE trackId IN (\(marks))", arguments: arguments)
                renditions += try Rendition.fetchAll(db, sql: """
                    SELECT \(Rendition.columnsForPublishing) FROM rendition WHERE trackId IN (\(marks)) ORDER BY id
                    """, arguments: arguments)
                loudness += try TrackLoudness.fetchAll(db, sql: "SELECT * FROM trackLoudness WHERE trackId IN (\(marks))", arguments: arguments)
                waveforms += try TrackWaveform.fetchAll(db, sql: "SELECT * FROM trackWaveform WHERE trackId IN (\(marks))", arguments: arguments)
            }
            let live = Set(tracks.map(\.id))
            credits = credits.filter { live.contains($0.trackId) }.sorted { ($0.trackId, $0.position) < ($1.trackId, $1.position) }
            let releases = try Self.fetch(Release.self, db, ids: releaseIDs.union(tracks.compactMap(\.releaseId)))
            let artists = try Self.fetch(Artist.self, db, ids: artistIDs.union(credits.map(\.artistId)).union(releases.map(\.artistId)))
            return CatalogContents(
                artists: artists,
                releases: releases,
                tracks: tracks,
                trackArtists: Dictionary(grouping: credits, by: \.trackId).mapValues { $0.map(\.artistId) },
                renditions: Dictionary(grouping: renditions.filter { live.contains($0.trackId) }, by: \.trackId),
                loudness: Dictionary(loudness.filter { live.contains($0.trackId) }.map { ($0.trackId, $0) }) { first, _ in first },
                waveforms: Dictionary(waveforms.filter { live.contains($0.trackId) }.map { ($0.trackId, $0) }) { first, _ in first },
                lyrics: Self.lyrics(lyrics, of: live),
                lastChange: try Run.lastChange.fetchOne(db)
            )
        }
    }

    /// Tracks still in the catalog on `releases` or credited to `artists`, and releases by `artists`.
    public func related(toReleases releaseIDs: Set<Int64>, artists artistIDs: Set<Int64>) throws -> (tracks: Set<String>, releases: Set<Int64>) {
        try writer.read { db in
            let onReleases = try db.fetchSet(String.self, for: releaseIDs) { "SELECT id FROM track WHERE removedAt IS NULL AND releaseId IN (\($0))" }
            let credited = try db.fetchSet(String.self, for: artistIDs) { "SELECT trackId FROM trackArtist WHERE artistId IN (\($0))" }
            return (onReleases.union(credited), try db.fetchSet(Int64.self, for: artistIDs) { "SELECT id FROM release WHERE artistId IN (\($0))" })
        }
    }

    /// Which of `releases` have a track still in the catalog.
    public func releasesWithTracks(_ releaseIDs: Set<Int64>) throws -> Set<Int64> {
        try writer.read { db in
            try db.fetchSet(Int64.self, for: releaseIDs) { "SELECT DISTINCT releaseId FROM track WHERE removedAt IS NULL AND releaseId IN (\($0))" }
        }
    }

    private static func fetch<Record: FetchableRecord & TableRecord>(_ type: Record.Type, _ db: Database, ids: Set<Int64>) throws -> [Record] {
        var rows: [Record] = []
        try db.forEachBatch(of: ids) { marks, arguments in
            rows += try Record.fetchAll(db, sql: "SELECT * FROM \(Record.databaseTableName) WHERE id IN (\(marks)) ORDER BY id", arguments: arguments)
        }
        return rows
    }

    /// The tracks still in the catalog whose master has one of `digests` (a master's SHA-256), with it.
    public func liveTracks(withSourceSHA256 digests: Set<String>) throws -> [(id: String, sha256: String)] {
        try writer.read { db in
            var found: [(id: String, sha256: String)] = []
            try db.forEachBatch(of: digests) { marks, arguments in
                found += try Row.fetchAll(db, sql: """
                    SELECT id, sourceSHA256 FROM track WHERE removedAt IS NULL AND sourceSHA256 IN (\(marks))
                    """, arguments: arguments).map { ($0[0], $0[1]) }
            }
            return found
        }
    }
}
