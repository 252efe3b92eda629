import Foundation
import Hummingbird
import PublicationFormat
import Social

/// Browsing by folder (getIndexes, getMusicDirectory) and by tags (getArtists, getAlbum…), lists, search, cover
/// art and streams.
extension SubsonicAPI {
    // MARK: Folders

    /// getIndexes (folders) and getArtists (tags) list the same thing: every artist under its index letter.
    func artistIndex(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, marks) = (call.catalog, try await marks(call))
        var element = SubsonicNode(call.method == .getIndexes ? "indexes" : "artists")
        if call.method == .getIndexes {
            element.set("lastModified", Int64(((catalog.snapshot.publishedAt ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970 * 1000).rounded()))
        }
        element.set("ignoredArticles", SubsonicCatalog.ignoredArticles.joined(separator: " "))
        element.addList("index", catalog.artistIndex.map { letter, ids in
            var index = SubsonicNode("index")
            index.set("name", letter)
            index.addList("artist", ids.compactMap { catalog.snapshot.artists[$0] }.map { catalog.artist($0, marks: marks) })
            return index
        })
        return .payload(element)
    }

    /// An artist's folder holds its releases; a release's holds its tracks.
    func musicDirectory(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, id) = (call.catalog, try call.required("id"))
        let marks = try await marks(call)
        var directory = SubsonicNode("directory")
        directory.set("id", id)
        if let artist = catalog.artist(id) {
            directory.set("name", artist.name)
            directory.set("starred", marks.liked[.artist]?[String(artist.id)].map { $0.formatted(.iso8601) })
            directory.addList("child", (catalog.releasesByArtist[artist.id] ?? []).compactMap { catalog.snapshot.releases[$0] }.map {
                catalog.album($0, marks: marks, name: "child", directory: true)
            })
        } else if let release = catalog.release(id) {
            directory.set("name", release.title)
            directory.set("parent", SubsonicCatalog.artistID(release.artist.id))
            directory.set("starred", marks.liked[.release]?[String(release.id)].map { $0.formatted(.iso8601) })
            directory.addList("child", release.tracks.compactMap { catalog.snapshot.tracks[$0.id] }.map { catalog.song($0, marks: marks, name: "child") })
        } else {
            throw SubsonicError.notFound("folder \(id)")
        }
        return .payload(directory)
    }

    // MARK: Tags

    func artist(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, id) = (call.catalog, try call.required("id"))
        guard let artist = catalog.artist(id) else { throw SubsonicError.notFound("artist \(id)") }
        let marks = try await marks(call)
        var element = catalog.artist(artist, marks: marks)
        element.addList("album", (catalog.releasesByArtist[artist.id] ?? []).compactMap { catalog.snapshot.releases[$0] }.map { catalog.album($0, marks: marks) })
        return .payload(element)
    }

    func album(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, id) = (call.catalog, try call.required("id"))
        guard let release = catalog.release(id) else { throw SubsonicError.notFound("album \(id)") }
        let marks = try await marks(call)
        var element = catalog.album(release, marks: marks)
        element.addList("song", release.tracks.compactMap { catalog.snapshot.tracks[$0.id] }.map { catalog.song($0, marks: marks) })
        return .payload(element)
    }

    func song(_ call: SubsonicCall) async throws -> SubsonicNode {
        let (catalog, id) = (call.catalog, try call.required("id"))
        guard let track = catalog.snapshot.tracks[id] else { throw SubsonicError.notFound("song \(id)") }
        return .payload(catalog.song(track, marks: try await marks(call)))
    }

    func genres(_ call: SubsonicCall) -> SubsonicNode {
        let catalog = call.catalog
        return Self.list("genres", "genre", catalog.genres.keys.sorted().map { name in
            var genre = SubsonicNode("genre")
            genre.text = name
            genre.set("songCount", catalog.genres[name]?.tracks.count ?? 0)
            genre.set("albumCount", catalog.genres[name]?.releases.count ?? 0)
            return genre
        })
    }

    // MARK: Lists

    /// getAlbumList and getAlbumList2, every `type`. "newest" is the web app's order (catalog ids grow as masters
    /// arrive); "frequent", "recent" and "highest" are the listener's own plays and ratings.
    func albumList(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let type = try call.required("type")
        let size = try call.integer("size", 10, in: 1...Self.maxListSize) ?? 10
        let offset = try call.integer("offset", 0, in: 0...1_000_000) ?? 0
        let marks = try await marks(call)
        let snapshot = catalog.snapshot
        var order: [Int64]
        switch type {
        case "random":
            order = snapshot.releaseOrder.shuffled()
        case "newest":
            order = snapshot.releaseOrder.sorted(by: >)
        case "alphabeticalByName":
            order = catalog.releasesByName
        case "alphabeticalByArtist":
            order = catalog.releasesByArtistName
        case "starred":
            order = (marks.liked[.release] ?? [:]).sorted { ($0.value, $0.key) > ($1.value, $1.key) }.compactMap { canonicalID($0.key) }
        case "highest":
            order = (marks.ratings[.release] ?? [:]).sorted { ($0.value, $1.key) > ($1.value, $0.key) }.compactMap { canonicalID($0.key) }
        case "frequent", "recent":
            var plays: [Int64: (count: Int, last: Date)] = [:]
            for (trackId, listening) in marks.listening {
                guard let release = snapshot.tracks[trackId]?.release?.id else { continue }
                let before = plays[release] ?? (0, .distantPast)
                plays[release] = (before.count + listening.count, max(before.last, listening.lastListenedAt))
            }
            order = plays.sorted {
                type == "frequent" ? ($0.value.count, $1.key) > ($1.value.count, $0.key) : ($0.value.last, $1.key) > ($1.value.last, $0.key)
            }.map(\.key)
        case "byYear":
            let from = try call.integer("fromYear", nil, in: 0...9999) ?? 0
            let to = try call.integer("toYear", nil, in: 0...9999) ?? 9999
            let years = snapshot.releaseOrder.compactMap { id in catalog.year(snapshot.releases[id]?.date).map { (id, $0) } }
                .filter { (min(from, to)...max(from, to)).contains($0.1) }
            order = years.sorted { from <= to ? ($0.1, $0.0) < ($1.1, $1.0) : ($0.1, $1.0) > ($1.1, $0.0) }.map(\.0)
        case "byGenre":
            order = catalog.genres[try call.required("genre")]?.releases ?? []
        default:
            throw SubsonicError.invalid(
                "type", call.method.rawValue,
                "one of random, newest, highest, frequent, recent, alphabeticalByName, alphabeticalByArtist, starred, byYear, byGenre")
        }
        let page = order.dropFirst(offset).prefix(size).compactMap { snapshot.releases[$0] }
        let folderStyle = call.method == .getAlbumList
        return Self.list(folderStyle ? "albumList" : "albumList2", "album", page.map {
            catalog.album($0, marks: marks, directory: folderStyle)
        })
    }

    func randomSongs(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let size = try call.integer("size", 10, in: 1...Self.maxListSize) ?? 10
        let from = try call.integer("fromYear", nil, in: 0...9999), to = try call.integer("toYear", nil, in: 0...9999)
        var ids = call.parameters.first("genre").map { catalog.genres[$0]?.tracks ?? [] } ?? catalog.snapshot.trackOrder
        if from != nil || to != nil {
            ids = ids.filter { id in
                guard let year = catalog.year(catalog.snapshot.tracks[id]?.date) else { return false }
                return year >= (from ?? 0) && year <= (to ?? 9999)
            }
        }
        let marks = try await marks(call)
        return Self.list("randomSongs", "song", ids.shuffled().prefix(size).compactMap { catalog.snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
    }

    func songsByGenre(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let genre = try call.required("genre")
        let count = try call.integer("count", 10, in: 1...Self.maxListSize) ?? 10
        let offset = try call.integer("offset", 0, in: 0...1_000_000) ?? 0
        let marks = try await marks(call)
        let ids = (catalog.genres[genre]?.tracks ?? []).dropFirst(offset).prefix(count)
        return Self.list("songsByGenre", "song", ids.compactMap { catalog.snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
    }

    /// The most played tracks (everyone's counted listens) of the artists with this name.
    func topSongs(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let name = SearchDocument.fold(try call.required("artist"))
        let count = try call.integer("count", 50, in: 1...Self.maxListSize) ?? 50
        let artists = catalog.snapshot.artistOrder.filter { SearchDocument.fold(catalog.snapshot.artists[$0]?.name ?? "") == name }
        let ids = artists.flatMap { catalog.tracksByArtist[$0] ?? [] }
        let plays = try await store.playCounts()
        let ranked = ids.enumerated().sorted { (plays[$0.element] ?? 0, -$0.offset) > (plays[$1.element] ?? 0, -$1.offset) }.map(\.element)
        let marks = try await marks(call)
        return Self.list("topSongs", "song", ranked.prefix(count).compactMap { catalog.snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
    }

    /// Tracks by other artists, found by co-listening: what the listeners of this artist's tracks also played,
    /// the most shared first; then, to fill `count`, other artists' tracks of the same genres in catalog order.
    /// (The id may also be a track's or a release's, meaning their artists.)
    func similarSongs(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let id = try call.required("id")
        let count = try call.integer("count", 50, in: 1...Self.maxListSize) ?? 50
        let artistIds: Set<Int64>
        switch catalog.item(id) {
        case .artist(let artist): artistIds = [artist.id]
        case .track(let track): artistIds = Set(track.artists.map(\.id))
        case .release(let release): artistIds = [release.artist.id]
        case nil: throw SubsonicError.notFound("artist \(id)")
        }
        let own = artistIds.flatMap { catalog.tracksByArtist[$0] ?? [] }
        let isOther = { (trackId: String) in catalog.snapshot.tracks[trackId].map { !$0.artists.contains { artistIds.contains($0.id) } } ?? false }
        var picked = try await store.coListened(with: own, limit: count * 2).filter(isOther)
        let genres = Set(own.compactMap { catalog.snapshot.tracks[$0]?.genre })
        var seen = Set(picked)
        for genre in genres.sorted() where picked.count < count {
            for trackId in catalog.genres[genre]?.tracks ?? [] where picked.count < count && isOther(trackId) && seen.insert(trackId).inserted {
                picked.append(trackId)
            }
        }
        let marks = try await marks(call)
        return Self.list("similarSongs2", "song", picked.prefix(count).compactMap { catalog.snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
    }

    // MARK: Search

    /// search2 and search3: the web app's full-text search, each kind paged by its own count and offset. An empty
    /// query (`""`, as clients that sync the whole library send) lists everything in catalog order.
    func search(_ call: SubsonicCall) async throws -> SubsonicNode {
        let catalog = call.catalog
        let snapshot = catalog.snapshot
        let raw = (call.parameters.first("query") ?? "").trimmingCharacters(in: .whitespaces)
        let query = raw == "\"\"" ? "" : raw
        guard query.utf8.count <= 800 else { throw SubsonicError.invalid("query", call.method.rawValue, "at most 800 bytes") }
        func paging(_ kind: String) throws -> (count: Int, offset: Int) {
            (try call.integer("\(kind)Count", 20, in: 0...Self.maxListSize) ?? 20, try call.integer("\(kind)Offset", 0, in: 0...10_000) ?? 0)
        }
        let (artistPage, albumPage, songPage) = (try paging("artist"), try paging("album"), try paging("song"))
        /// A page of hits, or with an empty query of the catalog in order (`all` gives the ids of a range of it).
        func found(_ kind: SearchHit.Kind, _ page: (count: Int, offset: Int), total: Int, all: (Range<Int>) -> [String]) async throws -> [String] {
            guard page.count > 0 else { return [] }
            if query.isEmpty { return all(min(page.offset, total)..<min(page.offset + page.count, total)) }
            return try await store.search(query, kinds: [kind], likedByFollowersOf: nil, limit: page.count, offset: page.offset).map(\.id)
        }
        let artistIds = try await found(.artist, artistPage, total: snapshot.artistOrder.count) { snapshot.artistOrder[$0].map(String.init) }
        let releaseIds = try await found(.release, albumPage, total: snapshot.releaseOrder.count) { snapshot.releaseOrder[$0].map(String.init) }
        let trackIds = try await found(.track, songPage, total: snapshot.trackOrder.count) { Array(snapshot.trackOrder[$0]) }
        let marks = try await marks(call)
        let folderStyle = call.method == .search2
        var result = SubsonicNode(folderStyle ? "searchResult2" : "searchResult3")
        result.addList("artist", artistIds.compactMap { canonicalID($0).flatMap { snapshot.artists[$0] } }.map { catalog.artist($0, marks: marks) })
        result.addList("album", releaseIds.compactMap { canonicalID($0).flatMap { snapshot.releases[$0] } }.map {
            catalog.album($0, marks: marks, directory: folderStyle)
        })
        result.addList("song", trackIds.compactMap { snapshot.tracks[$0] }.map { catalog.song($0, marks: marks) })
        return .payload(result)
    }

    // MARK: Files

    /// A cover from the publication; `size` picks the smallest thumbnail musikk-publish made that is at least
    /// that big (nothing is resized per request).
    func coverArt(_ call: SubsonicCall) async throws -> Response {
        let id = try call.required("id")
        let size = try call.integer("size", nil, in: 1...10_000)
        guard let path = call.catalog.coverPath(id, size: size) else { throw SubsonicError.notFound("cover art \(id)") }
        return try await MediaController.file(path, of: reader, for: call.request, cacheControl: "private, max-age=86400")
    }

    /// stream and download: a published rendition, whole or by byte range, with its length. Nothing is transcoded;
    /// see ``SubsonicCatalog/rendition(of:maxBitRate:format:)`` for which file is chosen.
    func stream(_ call: SubsonicCall) async throws -> Response {
        let id = try call.required("id")
        guard let track = call.catalog.snapshot.tracks[id] else { throw SubsonicError.notFound("song \(id)") }
        let maxBitRate = call.method == .download ? nil : try call.integer("maxBitRate", nil, in: 0...100_000)
        let format = call.method == .download ? "raw" : call.parameters.first("format")
        guard let file = call.catalog.rendition(of: track, maxBitRate: maxBitRate, format: format), let path = file.url else {
            if track.streams.protected == true {
                throw SubsonicError(code: .notFound, message: "song \(id) is protected (encrypted for the web app's player); listeners' apps cannot play it")
            }
            throw SubsonicError(code: .notFound, message: "song \(id) has no single-file rendition to stream (the publication uses segment files); publish without --segment-files")
        }
        var response = try await MediaController.file(path, of: reader, for: call.request, cacheControl: "private, max-age=86400")
        if call.method == .download {
            response.headers[.contentDisposition] = "attachment; filename=\"\(id).m4a\""
        }
        return response
    }
}
