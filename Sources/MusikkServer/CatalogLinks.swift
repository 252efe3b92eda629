import Foundation
import PublicationFormat

/// The published catalog as the API hands it out: its tracks, and signed links to its files that expire together.
struct CatalogLinks: Sendable {
    let library: CatalogLibrary
    let signer: MediaSigner
    let clock: @Sendable () -> Date

    /// When links made now expire (links made in the same period share it, so pages can be cached).
    func expiry() -> Int64 { signer.expiry(now: clock()) }

    /// A publication path as a signed link.
    func url(_ path: String, expires: Int64) -> String { signer.url(for: path, expires: expires) }

    /// Cover thumbnails with signed links.
    func signed(_ thumbnails: [Thumbnail]?, expires: Int64) -> [Thumbnail]? {
        thumbnails.map { $0.map { Thumbnail(side: $0.side, url: url($0.url, expires: expires)) } }
    }

    /// The link to show a cover at about `side` pixels: the smallest thumbnail that big, else the original.
    func coverLink(_ original: String?, _ thumbnails: [Thumbnail]?, side: Int, expires: Int64) -> String? {
        guard let original else { return nil }
        let fitting = thumbnails?.filter { $0.side >= side }.min { $0.side < $1.side }
        return url(fitting?.url ?? original, expires: expires)
    }

    /// A track of the catalog, or 404.
    func track(_ id: String) throws -> CatalogSnapshot.Track {
        guard let track = library.snapshot.tracks[id] else { throw APIError.notFound("track \(id)") }
        return track
    }
}
