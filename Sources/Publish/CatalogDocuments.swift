import Foundation
import PublicationFormat
import WorkArea

/// Where a publish puts what it makes: a full publish builds a staging folder (``StagingRun``), a delta publish
/// changes the tree behind OUT_DIR (``DeltaRun``). Every file is handed on with its owner (`track:ID`,
/// `release:ID`, `cover:ID`, `artist:ID`, `page:LIST:N`, `search`, `catalog`, `control`): a file no owner refers to
/// any more is retired.
protocol PublicationSink {
    mutating func place(_ item: MediaItem, owner: String) throws(PublishError)
    mutating func write(_ file: GeneratedFile, owner: String) throws(PublishError)
    /// The owner is gone (a removed track, an unlisted release): nothing of its is referenced by it any more.
    mutating func drop(owner: String) throws(PublishError)
}

/// The release, artist, list, search and index documents, made from the publication index once the tracks are in
/// it: all of them in a full publish, those a change touched in a delta publish.
struct CatalogDocuments {
    let index: PublicationIndex
    /// Prefix of every URL in the JSON (empty: relative to the publication root).
    let baseURL: String
    /// `api/index.json`'s `updated`: when the catalog last changed.
    let updated: String?

    /// What to rebuild: nil for all; otherwise the releases, artists and tracks whose documents or list entries
    /// may have changed.
    struct Scope {
        var releases: Set<Int64>?
        var artists: Set<Int64>?
        var tracks: Set<String>?

        static let everything = Scope(releases: nil, artists: nil, tracks: nil)

        var isEmpty: Bool { releases?.isEmpty == true && artists?.isEmpty == true && tracks?.isEmpty == true }
    }

    func write(_ scope: Scope, into sink: inout some PublicationSink) throws(PublishError) {
        var releaseScope = scope.releases?.sorted()
        if releaseScope == nil { releaseScope = try index.releaseIDs() }
        var artistScope = scope.artists?.sorted()
        if artistScope == nil { artistScope = try index.artistIDs() }
        for id in releaseScope ?? [] { try writeRelease(id, into: &sink) }
        for id in artistScope ?? [] { try writeArtist(id, into: &sink) }
        let artists = try index.listedArtistIDs()
        let releases = try index.listedReleaseIDs()
        let tracks = try index.trackIDs()
        try writePages("artists", artists.map(String.init), changed: scope.artists.map { Set($0.map(String.init)) }, into: &sink) {
            ids throws(PublishError) in try index.artistSummaries(ids.compactMap { Int64($0) })
        }
        try writePages("releases", releases.map(String.init), changed: scope.releases.map { Set($0.map(String.init)) }, into: &sink) {
            ids throws(PublishError) in try index.releaseSummaries(ids.compactMap { Int64($0) })
        }
        try writePages("tracks", tracks, changed: scope.tracks, into: &sink) { ids throws(PublishError) in
            try index.trackSummaries(ids).map(\.summary)
        }
        if !scope.isEmpty {
            try add("api/search.json", SearchDocument(entries: []), splicing: try index.searchRows(), into: "entries", owner: "search", sink: &sink)
        }
        try add("api/index.json", IndexDocument(
            generator: "musikk-publish \(MusikkVersion.current)", updated: updated, baseURL: baseURL.isEmpty ? nil : baseURL,
            counts: .init(artists: artists.count, releases: releases.count, tracks: tracks.count),
            artists: url("api/artists/page-1.json"), releases: url("api/releases/page-1.json"),
            tracks: url("api/tracks/page-1.json"), search: url("api/search.json")
        ), owner: "catalog", into: &sink)
    }

    // MARK: Releases and artists

    /// A release's document, and its summary for the lists; a release without tracks is not published.
    private func writeRelease(_ id: Int64, into sink: inout some PublicationSink) throws(PublishError) {
        let tracks = try index.trackSummaries(onRelease: id)
        guard let head = try index.releaseHead(id), !tracks.isEmpty else {
            try sink.drop(owner: "release:\(id)")
            try sink.drop(owner: "cover:\(id)")
            return
        }
        for file in head.cover ?? [] {
            try sink.place(MediaItem(digest: file.digest, isFolder: false, files: [
                MediaFile(path: file.path, source: URL(fileURLWithPath: file.source)),
            ]), owner: "cover:\(id)")
        }
        if head.cover == nil { try sink.drop(owner: "cover:\(id)") }
        let release = head.document
        index.setSummary(ofRelease: id, try fragment(ReleaseSummary(
            id: id, title: release.title, artist: release.artist, date: release.date, cover: release.cover?.url,
            coverThumbnails: release.cover?.thumbnails, trackCount: tracks.count, url: url("api/releases/\(id).json")
        )))
        var document = release
        document.duration = tracks.map(\.duration).reduce(0, +)
        try add("api/releases/\(id).json", document, splicing: tracks.map(\.summary), into: "tracks", owner: "release:\(id)", sink: &sink)
    }

    /// An artist's document, and its summary for the lists; an artist with neither tracks nor releases is not
    /// published. After the releases: it lists their summaries.
    private func writeArtist(_ id: Int64, into sink: inout some PublicationSink) throws(PublishError) {
        let tracks = try index.trackSummaries(creditedTo: id)
        let releases = try index.releaseSummaries(by: id)
        guard let name = try index.artistName(id), !tracks.isEmpty || !releases.isEmpty else {
            return try sink.drop(owner: "artist:\(id)")
        }
        index.setSummary(ofArtist: id, try fragment(ArtistSummary(
            id: id, name: name, releaseCount: releases.count, trackCount: tracks.count, url: url("api/artists/\(id).json")
        )))
        var bytes = try spliced(
            "api/artists/\(id).json", ArtistDocument(id: id, name: name, releases: [], tracks: []), tracks.map(\.summary), into: "tracks"
        )
        bytes = try splice(releases, into: "releases", of: bytes, "api/artists/\(id).json")
        try sink.write(GeneratedFile(path: "api/artists/\(id).json", stage: .api, bytes: bytes), owner: "artist:\(id)")
    }

    // MARK: Lists

    /// `api/LIST/page-N.json`, at least one page even when the list is empty. A page is rewritten when its members,
    /// the list's length, or one of its members changed.
    private func writePages(
        _ list: String, _ ids: [String], changed: Set<String>?, into sink: inout some PublicationSink,
        items: ([String]) throws(PublishError) -> [Data]
    ) throws(PublishError) {
        let size = PublicationBuilder.pageSize
        let pageCount = max(1, (ids.count + size - 1) / size)
        let path = { (page: Int) in "api/\(list)/page-\(page).json" }
        let recorded = try index.pageMembers(list: list)
        for page in 1...pageCount {
            let slice = Array(ids.dropFirst((page - 1) * size).prefix(size))
            let members = "\(ids.count)\n" + slice.joined(separator: "\n")
            if let changed, recorded[page] == members, !slice.contains(where: changed.contains) { continue }
            let document = PageDocument<TrackSummary>(
                page: page, pageCount: pageCount, pageSize: size, total: ids.count,
                previous: page > 1 ? url(path(page - 1)) : nil, next: page < pageCount ? url(path(page + 1)) : nil, items: []
            )
            try add(path(page), document, splicing: try items(slice), into: "items", owner: "page:\(list):\(page)", sink: &sink)
            index.setPage(list: list, number: page, members: members)
        }
        for page in recorded.keys where page > pageCount { try sink.drop(owner: "page:\(list):\(page)") }
        index.removePages(list: list, after: pageCount)
    }

    private func add(_ path: String, _ document: some Encodable, owner: String, into sink: inout some PublicationSink) throws(PublishError) {
        try sink.write(GeneratedFile(path: path, stage: .api, bytes: try PublicationBuilder.encode(document, path: path)), owner: owner)
    }

    /// Adds `document` with `items` (each JSONEncoder's bytes for one element) as the elements of its empty array
    /// `key`: see ``splice(_:into:of:_:)``.
    private func add(
        _ path: String, _ document: some Encodable, splicing items: [Data], into key: String, owner: String,
        sink: inout some PublicationSink
    ) throws(PublishError) {
        try sink.write(GeneratedFile(path: path, stage: .api, bytes: try spliced(path, document, items, into: key)), owner: owner)
    }

    private func spliced(_ path: String, _ document: some Encodable, _ items: [Data], into key: String) throws(PublishError) -> Data {
        try splice(items, into: key, of: try PublicationBuilder.encode(document, path: path), path)
    }

    /// `document`'s bytes with `items` put between the brackets of its last empty array `key`. JSONEncoder writes a
    /// nested value exactly as it writes it alone, so the bytes are those it would write for the whole document;
    /// the long lists (a release's or artist's tracks, a page, search) are never decoded and encoded again.
    private func splice(_ items: [Data], into key: String, of document: Data, _ path: String) throws(PublishError) -> Data {
        var bytes = document
        guard let empty = bytes.range(of: Data("\"\(key)\":[]".utf8), options: .backwards) else {
            throw .output(path: path, detail: "the document has no empty \(key) list to fill (an internal error); please report it")
        }
        var filling = Data()
        filling.reserveCapacity(items.reduce(0) { $0 + $1.count + 1 })
        for (position, item) in items.enumerated() {
            if position > 0 { filling.append(UInt8(ascii: ",")) }
            filling.append(item)
        }
        bytes.insert(contentsOf: filling, at: empty.upperBound - 1)
        return bytes
    }

    private func fragment(_ value: some Encodable) throws(PublishError) -> Data {
        try PublicationBuilder.fragment(value, path: "api/")
    }

    private func url(_ path: String) -> String { baseURL + path }
}
