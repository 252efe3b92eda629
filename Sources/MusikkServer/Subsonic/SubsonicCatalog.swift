import Foundation
import PublicationFormat
import Social

/// The published catalog arranged as Subsonic clients browse it: by artist, genre, year and name. It is made once
/// per publication (``SubsonicAPI`` keeps it by `publish.json`'s time), so requests only look things up.
///
/// Ids: a track keeps its catalog id (20 hex digits); releases and artists, whose catalog ids are numbers, are
/// `al-ID` and `ar-ID`, so that `getMusicDirectory`, `getCoverArt` and `setRating`, which take any kind of id,
/// can tell them apart.
struct SubsonicCatalog: Sendable {
    let snapshot: CatalogSnapshot
    /// When the publication was made (ISO 8601): the `created` of albums, which the catalog does not date.
    let created: String
    let releasesByArtist: [Int64: [Int64]]
    let tracksByArtist: [Int64: [String]]
    let genreOfRelease: [Int64: String]
    /// Genres by name, with their tracks and releases in catalog order.
    let genres: [String: (tracks: [String], releases: [Int64])]
    let releasesByName: [Int64]
    let releasesByArtistName: [Int64]
    /// Artists under their index letter (`#` for names that do not start with a letter), letters in order.
    let artistIndex: [(letter: String, artists: [Int64])]

    /// Leading words left out when names are sorted and indexed, as Subsonic servers announce them.
    static let ignoredArticles = ["The", "El", "La", "Los", "Las", "Le", "Les", "Die", "Der", "Das"]

    init(_ snapshot: CatalogSnapshot) {
        self.snapshot = snapshot
        created = (snapshot.publishedAt ?? Date(timeIntervalSince1970: 0)).formatted(.iso8601)
        var releasesByArtist: [Int64: [Int64]] = [:]
        var genreCounts: [Int64: [String: Int]] = [:]
        var genres: [String: (tracks: [String], releases: [Int64])] = [:]
        for id in snapshot.releaseOrder {
            guard let release = snapshot.releases[id] else { continue }
            releasesByArtist[release.artist.id, default: []].append(id)
        }
        var tracksByArtist: [Int64: [String]] = [:]
        for id in snapshot.trackOrder {
            guard let track = snapshot.tracks[id] else { continue }
            for artist in track.artists { tracksByArtist[artist.id, default: []].append(id) }
            if let genre = track.genre, !genre.isEmpty {
                genres[genre, default: ([], [])].tracks.append(id)
                if let release = track.release { genreCounts[release.id, default: [:]][genre, default: 0] += 1 }
            }
        }
        // A release's genre is its tracks' most common one (the first named on a tie).
        var genreOfRelease: [Int64: String] = [:]
        for id in snapshot.releaseOrder {
            guard let counts = genreCounts[id], let best = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else { continue }
            genreOfRelease[id] = best.key
            genres[best.key, default: ([], [])].releases.append(id)
        }
        self.releasesByArtist = releasesByArtist
        self.tracksByArtist = tracksByArtist
        self.genreOfRelease = genreOfRelease
        self.genres = genres
        let releases = snapshot.releaseOrder.compactMap { snapshot.releases[$0] }
        releasesByName = releases.sorted { Self.sortKey($0.title) < Self.sortKey($1.title) }.map(\.id)
        releasesByArtistName = releases.sorted {
            (Self.sortKey($0.artist.name), Self.sortKey($0.title)) < (Self.sortKey($1.artist.name), Self.sortKey($1.title))
        }.map(\.id)
        var letters: [String: [Int64]] = [:]
        for id in snapshot.artistOrder {
            guard let artist = snapshot.artists[id] else { continue }
            let first = Self.sortKey(artist.name).first.map { $0.isLetter ? String($0).uppercased() : "#" } ?? "#"
            letters[first, default: []].append(id)
        }
        artistIndex = letters.keys.sorted().map { letter in
            (letter, letters[letter, default: []].sorted { Self.sortKey(snapshot.artists[$0]?.name ?? "") < Self.sortKey(snapshot.artists[$1]?.name ?? "") })
        }
    }

    /// A name as it sorts: folded, without a leading article.
    static func sortKey(_ name: String) -> String {
        let folded = SearchDocument.fold(name)
        for article in ignoredArticles {
            let prefix = article.lowercased() + " "
            if folded.hasPrefix(prefix), folded.count > prefix.count { return String(folded.dropFirst(prefix.count)) }
        }
        return folded
    }

    // MARK: Ids

    static func releaseID(_ id: Int64) -> String { "al-\(id)" }
    static func artistID(_ id: Int64) -> String { "ar-\(id)" }

    /// What a Subsonic id names.
    enum Item {
        case track(TrackDocument)
        case release(ReleaseDocument)
        case artist(ArtistDocument)
    }

    func item(_ id: String) -> Item? {
        if id.hasPrefix("al-") { return canonicalID(id.dropFirst(3)).flatMap { snapshot.releases[$0] }.map(Item.release) }
        if id.hasPrefix("ar-") { return canonicalID(id.dropFirst(3)).flatMap { snapshot.artists[$0] }.map(Item.artist) }
        return snapshot.tracks[id].map(Item.track)
    }

    func release(_ id: String) -> ReleaseDocument? {
        guard id.hasPrefix("al-"), let number = canonicalID(id.dropFirst(3)) else { return nil }
        return snapshot.releases[number]
    }

    func artist(_ id: String) -> ArtistDocument? {
        guard id.hasPrefix("ar-"), let number = canonicalID(id.dropFirst(3)) else { return nil }
        return snapshot.artists[number]
    }

    func year(_ date: String?) -> Int? {
        guard let date, date.utf8.count >= 4, let year = Int(date.prefix(4)) else { return nil }
        return year
    }

    // MARK: Renditions

    /// The published rendition `stream` sends for `maxBitRate` (kb/s; 0 or nil for no limit) and `format`: AAC
    /// unless Opus is asked for (`opus`, `ogg`) or the lossless tier (`flac`, and `raw`, which `download` asks
    /// for), where the track has it and it fits the limit; no format gives AAC. Musikk never transcodes live, so a
    /// format it does not publish (mp3) gets the AAC ladder too. Within the family, the highest bitrate that fits,
    /// else the lowest. Encrypted renditions are never sent: listeners' apps cannot decrypt them.
    func rendition(of track: TrackDocument, maxBitRate: Int?, format: String?) -> TrackDocument.RenditionEntry? {
        let files = track.renditions.filter { $0.url != nil && $0.kid == nil }
        let asked = format?.lowercased() ?? ""
        let limit = maxBitRate.flatMap { $0 > 0 ? $0.multipliedReportingOverflow(by: 1000) : nil }.flatMap { $0.overflow ? nil : $0.partialValue }
        if ["flac", "raw"].contains(asked), let lossless = files.first(where: { $0.tier == .lossless }), limit.map({ lossless.bitrate <= $0 }) ?? true {
            return lossless
        }
        let opus = ["opus", "ogg", "oga"].contains(asked)
        let wanted = files.filter { opus ? $0.codecs == "opus" : $0.codecs.hasPrefix("mp4a") }
        let lossy = files.filter { $0.tier != .lossless }
        let family = (wanted.isEmpty ? (lossy.isEmpty ? files : lossy) : wanted).sorted { $0.bitrate < $1.bitrate }
        guard let limit else { return family.last }
        return family.last { $0.bitrate <= limit } ?? family.first
    }

    // MARK: Answers

    /// A track as a Subsonic `Child` (`song`, `entry`, `child`), describing the file `stream` sends by default.
    func song(_ track: TrackDocument, marks: ListenerMarks, name: String = "song") -> SubsonicNode {
        var node = SubsonicNode(name)
        node.set("id", track.id)
        let release = track.release.flatMap { snapshot.releases[$0.id] }
        node.set("parent", track.release.map { Self.releaseID($0.id) })
        node.set("isDir", false)
        node.set("title", track.title)
        node.set("album", track.release?.title)
        node.set("artist", track.artists.map(\.name).joined(separator: ", "))
        node.set("track", track.trackNumber)
        node.set("year", year(track.date ?? release?.date))
        node.set("genre", track.genre)
        node.set("coverArt", coverArtID(of: track))
        if let file = rendition(of: track, maxBitRate: nil, format: nil) {
            node.set("size", file.size)
            node.set("contentType", "audio/mp4")
            node.set("suffix", "m4a")
            node.set("bitRate", file.bitrate / 1000)
            node.set("samplingRate", file.sampleRate)
            node.set("channelCount", file.channels)
        }
        node.set("duration", Int(track.duration.rounded()))
        node.set("isVideo", false)
        node.set("userRating", marks.ratings[.track]?[track.id])
        node.set("playCount", marks.listening[track.id]?.count ?? 0)
        node.set("played", marks.listening[track.id].map { $0.lastListenedAt.formatted(.iso8601) })
        node.set("discNumber", track.discNumber)
        node.set("created", created)
        node.set("starred", marks.liked[.track]?[track.id].map { $0.formatted(.iso8601) })
        node.set("albumId", track.release.map { Self.releaseID($0.id) })
        node.set("artistId", track.artists.first.map { Self.artistID($0.id) })
        node.set("type", "music")
        node.set("mediaType", "song")
        node.set("displayArtist", track.artists.map(\.name).joined(separator: ", "))
        node.addList("artists", track.artists.map { Self.artistRef($0.id, $0.name, as: "artists") })
        if let release {
            node.set("displayAlbumArtist", release.artist.name)
            node.addList("albumArtists", [Self.artistRef(release.artist.id, release.artist.name, as: "albumArtists")])
        }
        node.addList("genres", track.genre.map { [Self.genreRef($0)] } ?? [])
        node.addScalars("isrc", track.isrc.map { [$0] } ?? [])
        // Always present (OpenSubsonic requires it), each value when measured, 0.0 included.
        var gain = SubsonicNode("replayGain")
        gain.set("trackGain", track.loudness?.trackGainDB)
        gain.set("trackPeak", track.loudness?.trackPeak)
        gain.set("albumGain", track.loudness?.albumGainDB ?? release?.albumGainDB)
        gain.set("albumPeak", track.loudness?.albumPeak ?? release?.albumPeak)
        node.add(gain)
        return node
    }

    /// A release as an `AlbumID3` (or, with `directory`, as the folder `Child` of the folder-browsing API).
    func album(_ release: ReleaseDocument, marks: ListenerMarks, name: String = "album", directory: Bool = false) -> SubsonicNode {
        var node = SubsonicNode(name)
        let id = Self.releaseID(release.id)
        node.set("id", id)
        if directory {
            node.set("parent", Self.artistID(release.artist.id))
            node.set("isDir", true)
            node.set("title", release.title)
            node.set("album", release.title)
        }
        // A folder-style entry (a Child) carries `name` too: apps (py-opensonic among them) read getAlbumList's
        // entries as albums.
        node.set("name", release.title)
        node.set("artist", release.artist.name)
        node.set("artistId", Self.artistID(release.artist.id))
        node.set("coverArt", release.cover == nil ? nil : id)
        node.set("songCount", release.tracks.count)
        node.set("duration", Int(release.duration.rounded()))
        let plays = release.tracks.compactMap { marks.listening[$0.id] }
        node.set("playCount", plays.reduce(0) { $0 + $1.count })
        node.set("played", plays.map(\.lastListenedAt).max().map { $0.formatted(.iso8601) })
        node.set("created", created)
        node.set("starred", marks.liked[.release]?[String(release.id)].map { $0.formatted(.iso8601) })
        node.set("userRating", marks.ratings[.release]?[String(release.id)])
        node.set("year", year(release.date))
        node.set("genre", genreOfRelease[release.id])
        guard !directory else { return node }
        node.set("displayArtist", release.artist.name)
        node.addList("artists", [Self.artistRef(release.artist.id, release.artist.name, as: "artists")])
        node.addList("genres", genreOfRelease[release.id].map { [Self.genreRef($0)] } ?? [])
        if let date = release.date, let year = year(date) {
            var released = SubsonicNode("releaseDate")
            let parts = date.split(separator: "-").compactMap { Int($0) }
            released.set("year", year)
            if parts.count > 1 { released.set("month", parts[1]) }
            if parts.count > 2 { released.set("day", parts[2]) }
            node.add(released)
        }
        node.set("isCompilation", false)
        return node
    }

    /// An artist as an `ArtistID3`.
    func artist(_ artist: ArtistDocument, marks: ListenerMarks, name: String = "artist") -> SubsonicNode {
        var node = SubsonicNode(name)
        node.set("id", Self.artistID(artist.id))
        node.set("name", artist.name)
        node.set("albumCount", releasesByArtist[artist.id]?.count ?? 0)
        node.set("coverArt", releasesByArtist[artist.id]?.contains { snapshot.releases[$0]?.cover != nil } == true ? Self.artistID(artist.id) : nil)
        node.set("starred", marks.liked[.artist]?[String(artist.id)].map { $0.formatted(.iso8601) })
        node.set("userRating", marks.ratings[.artist]?[String(artist.id)])
        node.set("sortName", Self.sortKey(artist.name))
        return node
    }

    /// An artist named in a list of a song or album (`artists`, `albumArtists`).
    static func artistRef(_ id: Int64, _ name: String, as element: String) -> SubsonicNode {
        var node = SubsonicNode(element)
        node.set("id", artistID(id))
        node.set("name", name)
        return node
    }

    static func genreRef(_ name: String) -> SubsonicNode {
        var node = SubsonicNode("genres")
        node.set("name", name)
        return node
    }

    /// The cover id of a track: its release's, shared by the release's tracks so clients cache one image.
    func coverArtID(of track: TrackDocument) -> String? {
        guard track.cover != nil else { return nil }
        if let release = track.release, snapshot.releases[release.id]?.cover != nil { return Self.releaseID(release.id) }
        return track.id
    }

    /// The published image for a cover id at about `size` pixels: the smallest thumbnail that big, else the
    /// original (thumbnails are made at publish; nothing is resized per request).
    func coverPath(_ id: String, size: Int?) -> String? {
        let (original, thumbnails): (String?, [Thumbnail]?)
        switch item(id) {
        case .track(let track): (original, thumbnails) = (track.cover, track.coverThumbnails)
        case .release(let release): (original, thumbnails) = (release.cover?.url, release.cover?.thumbnails)
        case .artist(let artist):
            let release = releasesByArtist[artist.id]?.lazy.compactMap { snapshot.releases[$0] }.first { $0.cover != nil }
            (original, thumbnails) = (release?.cover?.url, release?.cover?.thumbnails)
        case nil: return nil
        }
        guard let original else { return nil }
        guard let size, size > 0 else { return original }
        return thumbnails?.filter { $0.side >= size }.min { $0.side < $1.side }?.url ?? original
    }
}
