import Foundation
import PublicationFormat
import Social
import Synchronization

/// The catalog as `musikk-publish` published it (`OUT/api/…`), held in memory and reloaded when `publish.json`
/// changes: the publication's own documents (module PublicationFormat). Paths in it are relative to the
/// publication's root.
struct CatalogSnapshot: Sendable {
    typealias Track = TrackDocument
    typealias Release = ReleaseDocument
    typealias Artist = ArtistDocument

    /// An artist as the API names one next to a track or release.
    struct ArtistRef: Codable, Sendable {
        var id: Int64
        var name: String

        init(_ link: ArtistLink) {
            id = link.id
            name = link.name
        }
    }

    /// A release as the API names one next to a track.
    struct ReleaseRef: Codable, Sendable {
        var id: Int64
        var title: String

        init(_ link: ReleaseLink) {
            id = link.id
            title = link.title
        }
    }

    var tracks: [String: Track] = [:]
    var trackOrder: [String] = []
    var releases: [Int64: Release] = [:]
    var releaseOrder: [Int64] = []
    var artists: [Int64: Artist] = [:]
    var artistOrder: [Int64] = []
    var searchEntries: [SearchHit] = []
    /// The track of each key id (hex) of the protected tier.
    var trackOfKey: [String: String] = [:]
    /// `publish.json`'s modification time when this was read.
    var publishedAt: Date?
}

/// Why the publication could not be read.
struct PublicationError: Error, CustomStringConvertible {
    var path: String
    var reason: String

    var description: String {
        "cannot read the publication at \(path): \(reason). Point --publication at the OUT directory that musikk-publish wrote."
    }
}

/// The artist ids of the publication at `root`, for admin commands that must not name an artist it lacks.
public func publishedArtistIds(in root: URL) throws -> Set<Int64> {
    Set(try CatalogLibrary(publication: root).snapshot.artistOrder)
}

/// Holds the current catalog snapshot; reading is lock-free for callers (a copy of the value).
final class CatalogLibrary: Sendable {
    let root: URL
    private let state: Mutex<CatalogSnapshot>

    init(publication root: URL) throws {
        self.root = root
        self.state = Mutex(try Self.read(root))
    }

    var snapshot: CatalogSnapshot { state.withLock { $0 } }

    /// Rereads the publication if `publish.json` changed, and serves it once `prepare` (search index, release
    /// notifications) is done with it: what the API lists, search finds and notifications name then agree. Returns
    /// the new snapshot, or nil when nothing changed. On an error the previous snapshot stays, and the next call
    /// tries again.
    func reloadIfChanged(prepare: (CatalogSnapshot) async throws -> Void) async throws -> CatalogSnapshot? {
        let stamp = Self.publishStamp(root)
        guard stamp != snapshot.publishedAt else { return nil }
        let fresh = try Self.read(root)
        try await prepare(fresh)
        state.withLock { $0 = fresh }
        return fresh
    }

    private static func publishStamp(_ root: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("publish.json").path))?[.modificationDate] as? Date
    }

    /// A list item, read for its id only.
    private struct Reference<ID: Codable & Sendable>: Codable, Sendable {
        var id: ID
    }

    private static func read(_ root: URL) throws -> CatalogSnapshot {
        var snapshot = CatalogSnapshot()
        snapshot.publishedAt = publishStamp(root)
        let index: IndexDocument = try document(root, "api/index.json")
        for id in try pages(root, first: index.tracks, of: String.self) {
            let track: CatalogSnapshot.Track = try document(root, "api/tracks/\(id).json")
            snapshot.tracks[id] = track
            snapshot.trackOrder.append(id)
            for kid in track.renditions.compactMap(\.kid) { snapshot.trackOfKey[kid] = id }
        }
        for id in try pages(root, first: index.releases, of: Int64.self) {
            let release: CatalogSnapshot.Release = try document(root, "api/releases/\(id).json")
            snapshot.releases[id] = release
            snapshot.releaseOrder.append(id)
        }
        for id in try pages(root, first: index.artists, of: Int64.self) {
            let artist: CatalogSnapshot.Artist = try document(root, "api/artists/\(id).json")
            snapshot.artists[id] = artist
            snapshot.artistOrder.append(id)
        }
        let search: SearchDocument = try document(root, index.search)
        snapshot.searchEntries = search.entries.compactMap { row -> SearchHit? in
            guard row.count >= 4, let kind = SearchHit.Kind(rawValue: row[0]), kind != .user else { return nil }
            return SearchHit(kind: kind, id: row[1], name: row[2], context: row[3])
        }
        return snapshot
    }

    /// The ids listed by a paged list (`…/page-1.json`, `page-2.json`, …).
    private static func pages<ID: Codable & Sendable>(_ root: URL, first: String, of: ID.Type) throws -> [ID] {
        var ids: [ID] = []
        var path = first
        while true {
            let page: PageDocument<Reference<ID>> = try document(root, path)
            ids += page.items.map(\.id)
            guard page.page < page.pageCount else { return ids }
            path = path.replacingOccurrences(of: "page-\(page.page).json", with: "page-\(page.page + 1).json")
        }
    }

    private static func document<T: Decodable>(_ root: URL, _ relativePath: String) throws -> T {
        let url = root.appendingPathComponent(relativePath)
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw PublicationError(path: url.path, reason: "unexpected content (\(error))")
        } catch {
            throw PublicationError(path: url.path, reason: error.localizedDescription)
        }
    }
}
