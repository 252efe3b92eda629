import Foundation
import PublicationFormat
import Hummingbird
import Protection
import Social

/// The published catalog (tracks, releases, artists), its search, and signed playback URLs.
struct CatalogController: Sendable {
    let store: SocialStore
    let links: CatalogLinks
    /// Encoded list pages. They are the same for every listener until the catalog is republished or links move to
    /// the next expiry, and both are part of the key.
    let pages = MemoCache<PageKey, ByteBuffer>(capacity: 512)

    struct PageKey: Hashable, Sendable {
        var list: String
        var limit: Int
        var cursor: Int64?
        var expires: Int64
        var publishedAt: Date?
    }

    struct TrackSummary: Encodable, Sendable {
        var id: String
        var title: String
        var duration: Double
        var trackNumber: Int?
        var artists: [CatalogSnapshot.ArtistRef]
        var release: CatalogSnapshot.ReleaseRef?
        var cover: String?
        var coverThumbnails: [Thumbnail]?
    }

    struct WaveformLinks: Encodable, Sendable {
        var json: String
        var data: String
    }

    struct TrackDetail: Encodable, Sendable {
        var track: TrackSummary
        var waveform: WaveformLinks?
        /// The master's lyrics, synced sets first (absent when it has none).
        var lyrics: [TrackDocument.Lyrics]?
        var playCount: Int
        var likeCount: Int
        var likedByYou: Bool
    }

    struct Playback: Encodable, Sendable {
        var trackId: String
        var hls: String
        var hlsOpus: String?
        /// The lossless tier's HLS master, where the track has one.
        var hlsLossless: String?
        var dash: String
        /// One file a plain `<audio src>` plays (publications in the single-file layout; nil for segments).
        var progressive: String?
        /// The lossless tier's one file (FLAC in CMAF), which Chromium and Firefox play in `<audio src>` and MSE.
        var lossless: String?
        /// Set when the media are encrypted: single files an MSE + EME player plays, and where it gets the key.
        var protected: Protected?
        var expiresAt: Date

        struct Protected: Encodable, Sendable {
            /// The licence endpoint (EME ClearKey JSON).
            var licenseUrl: String
            /// One single-file rendition per tier, the web app's pick: AAC nearest 128 kb/s, and FLAC.
            var sources: [Source]
        }

        struct Source: Encodable, Sendable {
            var url: String
            var mimeType: String
            var tier: String
            var kid: String
        }
    }

    struct ReleaseDetail: Encodable, Sendable {
        var id: Int64
        var title: String
        var date: String?
        var artist: CatalogSnapshot.ArtistRef
        var cover: String?
        var coverThumbnails: [Thumbnail]?
        var tracks: [TrackSummary]
        var likeCount: Int
        var likedByYou: Bool
    }

    struct ReleaseSummary: Encodable, Sendable {
        var id: Int64
        var title: String
        var artist: CatalogSnapshot.ArtistRef
        var cover: String?
        var coverThumbnails: [Thumbnail]?
        var trackCount: Int
    }

    struct ArtistDetail: Encodable, Sendable {
        var id: Int64
        var name: String
        var releases: [ReleaseSummary]
        var tracks: [TrackSummary]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("tracks", use: tracks)
        group.get("tracks/:trackId", use: track)
        group.get("tracks/:trackId/playback", use: playback)
        group.get("releases", use: releases)
        group.get("releases/:releaseId", use: release)
        group.get("artists", use: artists)
        group.get("artists/:artistId", use: artist)
        group.get("search", use: search)
    }

    @Sendable func tracks(_ request: Request, context: AuthenticatedRequestContext) async throws -> EncodedJSON {
        try cachedPage("tracks", request) { snapshot, expires, page in
            try Self.page(snapshot.trackOrder, page) { snapshot.tracks[$0].map { summary($0, expires: expires) } }
        }
    }

    @Sendable func track(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<TrackDetail> {
        let track = try links.track(context.parameters.get("trackId") ?? "")
        let likes = try await store.likeStatus(.track, track.id, viewer: context.user.id)
        let expires = links.expiry()
        return JSON(TrackDetail(
            track: summary(track, expires: expires),
            waveform: track.waveform.map { WaveformLinks(json: links.url($0.json, expires: expires), data: links.url($0.data, expires: expires)) },
            lyrics: track.lyrics,
            playCount: try await store.playCount(of: track.id), likeCount: likes.count, likedByYou: likes.likedByYou))
    }

    @Sendable func playback(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playback> {
        let track = try links.track(context.parameters.get("trackId") ?? "")
        let expires = links.expiry()
        let sign = { links.url($0, expires: expires) }
        return JSON(Playback(
            trackId: track.id, hls: sign(track.streams.hls), hlsOpus: track.streams.hlsOpus.map(sign),
            hlsLossless: track.streams.hlsLossless.map(sign), dash: sign(track.streams.dash),
            progressive: track.streams.progressive.map(sign), lossless: track.streams.lossless.map(sign),
            protected: Self.protectedSources(track, sign: sign), expiresAt: Date(timeIntervalSince1970: Double(expires))))
    }

    /// What an MSE + EME player needs for a protected track: an AAC file (nearest 128 kb/s) and the FLAC file.
    static func protectedSources(_ track: CatalogSnapshot.Track, sign: (String) -> String) -> Playback.Protected? {
        guard track.streams.protected == true else { return nil }
        let files = track.renditions.filter { $0.url != nil && $0.kid != nil }
        let lossy = files.filter { $0.codecs == "mp4a.40.2" }.min { abs($0.bitrate - 128_000) < abs($1.bitrate - 128_000) }
        let lossless = files.first { $0.tier == .lossless }
        let sources = [lossy, lossless].compactMap { $0 }.compactMap { entry -> Playback.Source? in
            guard let url = entry.url, let kid = entry.kid else { return nil }
            return Playback.Source(url: sign(url), mimeType: entry.mimeType, tier: entry.tier?.rawValue ?? "lossy", kid: kid)
        }
        return sources.isEmpty ? nil : Playback.Protected(licenseUrl: LicenseEndpoint.path, sources: sources)
    }

    /// `sort=newest`: the most recently added first (catalog ids grow as masters are ingested).
    @Sendable func releases(_ request: Request, context: AuthenticatedRequestContext) async throws -> EncodedJSON {
        let sort = request.uri.queryParameters["sort"]
        guard sort == nil || sort == "newest" else { throw APIError.badRequest("sort is either absent or `newest`") }
        return try cachedPage(sort == nil ? "releases" : "releases-newest", request) { snapshot, expires, page in
            let order = sort == nil ? snapshot.releaseOrder : snapshot.releaseOrder.sorted(by: >)
            return try Self.page(order, page) { snapshot.releases[$0].map { releaseSummary($0, expires: expires) } }
        }
    }

    @Sendable func release(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<ReleaseDetail> {
        let id = try request.id("releaseId", context: context, what: "release")
        let snapshot = links.library.snapshot
        guard let release = snapshot.releases[id] else { throw APIError.notFound("release \(id)") }
        let likes = try await store.likeStatus(.release, String(id), viewer: context.user.id)
        let expires = links.expiry()
        return JSON(ReleaseDetail(
            id: id, title: release.title, date: release.date, artist: CatalogSnapshot.ArtistRef(release.artist),
            cover: release.cover.map { links.url($0.url, expires: expires) },
            coverThumbnails: links.signed(release.cover?.thumbnails, expires: expires),
            tracks: release.tracks.compactMap { snapshot.tracks[$0.id].map { summary($0, expires: expires) } },
            likeCount: likes.count, likedByYou: likes.likedByYou))
    }

    @Sendable func artists(_ request: Request, context: AuthenticatedRequestContext) async throws -> EncodedJSON {
        try cachedPage("artists", request) { snapshot, _, page in try Self.page(snapshot.artistOrder, page) { snapshot.artists[$0] } }
    }

    @Sendable func artist(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<ArtistDetail> {
        let id = try request.id("artistId", context: context, what: "artist")
        let snapshot = links.library.snapshot
        guard let artist = snapshot.artists[id] else { throw APIError.notFound("artist \(id)") }
        let expires = links.expiry()
        return JSON(ArtistDetail(
            id: id, name: artist.name,
            releases: snapshot.releaseOrder.compactMap { snapshot.releases[$0] }.filter { $0.artist.id == id }.map { releaseSummary($0, expires: expires) },
            tracks: snapshot.trackOrder.compactMap { snapshot.tracks[$0] }.filter { $0.artists.contains { $0.id == id } }
                .map { summary($0, expires: expires) }))
    }

    /// `q` (required), `kinds` (comma-separated: track, release, artist, user), `likedByFollowing=true`, `limit`.
    @Sendable func search(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<[SearchHit]> {
        let user = context.user
        guard let query = request.uri.queryParameters["q"].map(String.init), !query.isEmpty, query.utf8.count <= 800, query.count <= 200 else {
            throw APIError.badRequest("give the words to search for in q (at most 200 characters)")
        }
        let kinds = try Set((request.uri.queryParameters["kinds"].map(String.init) ?? "").split(separator: ",").map { text in
            guard let kind = SearchHit.Kind(rawValue: String(text)) else { throw APIError.badRequest("kinds are track, release, artist and user") }
            return kind
        })
        let limit = try request.uri.queryParameters["limit"].map { text in
            guard let value = Int(text), (1...100).contains(value) else { throw APIError.badRequest("limit must be a number from 1 to 100") }
            return value
        } ?? 20
        let followedOnly = request.uri.queryParameters["likedByFollowing"] == "true"
        let hits = try await store.search(query, kinds: kinds, likedByFollowersOf: followedOnly ? user.id : nil, limit: limit)
        let (snapshot, expires) = (links.library.snapshot, links.expiry())
        return JSON(hits.map { hit in
            var hit = hit
            switch hit.kind {
            case .track:
                let track = snapshot.tracks[hit.id]
                hit.cover = links.coverLink(track?.cover, track?.coverThumbnails, side: 96, expires: expires)
            case .release:
                let release = canonicalID(hit.id).flatMap { snapshot.releases[$0] }
                hit.cover = links.coverLink(release?.cover?.url, release?.cover?.thumbnails, side: 96, expires: expires)
            case .artist, .user:
                break
            }
            return hit
        })
    }

    func summary(_ track: CatalogSnapshot.Track, expires: Int64? = nil) -> TrackSummary {
        let expires = expires ?? links.expiry()
        return TrackSummary(
            id: track.id, title: track.title, duration: track.duration, trackNumber: track.trackNumber, artists: track.artists.map(CatalogSnapshot.ArtistRef.init),
            release: track.release.map(CatalogSnapshot.ReleaseRef.init), cover: track.cover.map { links.url($0, expires: expires) },
            coverThumbnails: links.signed(track.coverThumbnails, expires: expires))
    }

    func releaseSummary(_ release: CatalogSnapshot.Release, expires: Int64) -> ReleaseSummary {
        ReleaseSummary(
            id: release.id, title: release.title, artist: CatalogSnapshot.ArtistRef(release.artist), cover: release.cover.map { links.url($0.url, expires: expires) },
            coverThumbnails: links.signed(release.cover?.thumbnails, expires: expires), trackCount: release.tracks.count)
    }

    /// A page of a catalog list, encoded once and then served from `pages`.
    func cachedPage<Item: Encodable & Sendable>(
        _ list: String, _ request: Request, make: (CatalogSnapshot, _ expires: Int64, PageRequest) throws -> Page<Item>
    ) throws -> EncodedJSON {
        let (snapshot, page) = (links.library.snapshot, try request.pageRequest())
        let expires = links.expiry()
        let key = PageKey(list: list, limit: page.limit, cursor: page.cursor, expires: expires, publishedAt: snapshot.publishedAt)
        return EncodedJSON(body: try pages.value(for: key) { ByteBuffer(bytes: try JSONCoding.encoder.encode(try make(snapshot, expires, page))) })
    }

    /// A page of a catalog list; the cursor is the offset of the next item.
    static func page<ID, Item: Encodable & Sendable>(_ ids: [ID], _ page: PageRequest, item: (ID) -> Item?) throws -> Page<Item> {
        // The cursor is the client's: compare before adding, so no value of it can overflow.
        let start = Int(page.cursor ?? 0)
        guard start >= 0, start <= ids.count else { throw APIError.badRequest("cursor must be the nextCursor of a previous page") }
        let end = start + min(page.limit, ids.count - start)
        let items = start < end ? ids[start..<end].compactMap(item) : []
        return Page(items: items, nextCursor: end < ids.count ? String(end) : nil)
    }
}
