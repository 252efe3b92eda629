import Catalog
import Foundation
import PublicationFormat
import Manifest
import Segmenter
import WorkArea

/// A file of the publication taken from WORK_DIR under a content-addressed name.
struct MediaFile: Sendable {
    /// Path in the publication.
    var path: String
    var source: URL
}

/// A set of media files named by one digest: a rendition (one file, or a folder of segments), a cover or a
/// waveform file. Published whole or not at all.
struct MediaItem: Sendable {
    /// SHA-256 of the file (of a segment folder's listing, see ``FileDigest/sha256(ofFolder:)``).
    var digest: String
    /// Whether ``digest`` names a folder of files rather than one file.
    var isFolder: Bool
    var files: [MediaFile]
}

/// A file the publisher writes itself: a manifest, a JSON document, the headers.
struct GeneratedFile: Sendable {
    var path: String
    var stage: SyncStage
    var bytes: Data
}

/// What a build found, beyond the files it handed on.
struct Publication: Sendable {
    /// The tracks published (those with renditions).
    var published: Set<String>
    /// The thumbnail cache's folders this publication uses (the others can go).
    var thumbnailFolders: Set<String>
    /// Covers that could not be resized; they are published without thumbnails.
    var warnings: [String]
}

/// A release's cover in the publication: the original and its thumbnails (paths from the root).
struct PublishedCover {
    var path: String
    var thumbnails: [(side: Int, path: String)]
}

/// Turns the catalog's contents into a publication: content-addressed media, manifests that point at them, and
/// the JSON catalog.
struct PublicationBuilder {
    let combined: CombinedContents
    /// Prefix of every URL in the JSON (empty: relative to the publication root).
    let baseURL: String
    let thumbnails: CoverThumbnails
    /// A track's segment tables by rendition name, read when its manifests are written.
    let segmentTables: (String) throws(PublishError) -> [String: Data]
    static let pageSize = 100
    /// Hex digits of the digest in a media name: 128 bits, plenty against collisions, short enough to read.
    static let digestLength = 32

    var contents: CatalogContents { combined.contents }

    /// The WORK holding a track's files (with shards, its shard's).
    private func work(ofTrack id: String) -> WorkLayout {
        combined.trackWork[id] ?? WorkLayout(root: URL(fileURLWithPath: "/"))
    }

    private var artistsByID: [Int64: Artist] { Dictionary(uniqueKeysWithValues: contents.artists.compactMap { a in a.id.map { ($0, a) } }) }

    /// Builds the tracks of ``contents`` into `sink` one by one, handing on each file as soon as it is made, so
    /// nothing of the whole catalog is held as bytes, and enters each track, release (with its cover, for those in
    /// `releasesWithTracks`) and artist in `index`, which the release, artist and list documents are made from
    /// (``CatalogDocuments``). `progress` gets tracks done, of all.
    func build(
        into sink: inout some PublicationSink, index: PublicationIndex, releasesWithTracks: Set<Int64>,
        progress: (Int, Int) -> Void
    ) throws(PublishError) -> Publication {
        let releases = Dictionary(uniqueKeysWithValues: contents.releases.compactMap { r in r.id.map { ($0, r) } })
        let artists = artistsByID
        var covers: [Int64: (cover: PublishedCover, files: [PublicationIndex.ReleaseHead.CoverFile])] = [:]
        var thumbnailFolders: Set<String> = []
        var warnings: [String] = []
        for release in contents.releases {
            guard let id = release.id, releasesWithTracks.contains(id), let coverPath = release.coverArtPath,
                  let work = combined.releaseWork[id] else { continue }
            let source = work.root.appendingPathComponent(coverPath)
            let item = try mediaItem(
                folder: "images", source: source,
                name: "cover." + (source.pathExtension.isEmpty ? "jpg" : source.pathExtension.lowercased())
            )
            var cover = PublishedCover(path: item.files[0].path, thumbnails: [])
            var files = [PublicationIndex.ReleaseHead.CoverFile(path: item.files[0].path, source: source.path, digest: item.digest)]
            do {
                for (side, file) in try thumbnails.files(for: source, digest: item.digest) {
                    let thumbnail = try mediaItem(folder: "images", source: file, name: "cover-\(side).jpg")
                    cover.thumbnails.append((side, thumbnail.files[0].path))
                    files.append(.init(path: thumbnail.files[0].path, source: file.path, digest: thumbnail.digest))
                }
                thumbnailFolders.insert(CoverThumbnails.folderName(digest: item.digest))
            } catch {
                warnings.append("release \(id) \(release.title): published without thumbnails: \(error)")
            }
            covers[id] = (cover, files)
        }
        for release in contents.releases {
            guard let id = release.id else { continue }
            let cover = covers[id]
            try index.setRelease(id, head: PublicationIndex.ReleaseHead(
                document: ReleaseDocument(
                    id: id, title: release.title, artist: artistLink(release.artistId, artists), date: release.date,
                    cover: cover.map {
                        ReleaseDocument.Cover(url: url($0.cover.path), mimeType: release.coverArtMimeType, thumbnails: thumbnailLinks($0.cover))
                    },
                    duration: 0, albumGainDB: finite(release.albumGainDB), albumPeak: finite(release.albumPeak), tracks: []
                ),
                cover: cover?.files
            ), search: [
                "release", String(id), release.title, artistLink(release.artistId, artists).name, url("api/releases/\(id).json"),
                SearchDocument.fold("\(release.title) \(artistLink(release.artistId, artists).name)"),
            ])
        }
        for artist in contents.artists {
            guard let id = artist.id else { continue }
            try index.setArtist(id, name: artist.name, search: [
                "artist", String(id), artist.name, "", url("api/artists/\(id).json"), SearchDocument.fold(artist.name),
            ])
        }

        var published: Set<String> = []
        for (position, track) in contents.tracks.enumerated() {
            defer { progress(position + 1, contents.tracks.count) }
            let owner = "track:\(track.id)"
            let rows = contents.renditions[track.id] ?? []
            guard !rows.isEmpty else { continue }
            let tables = try segmentTables(track.id)
            var packaged: [(row: Rendition, rendition: PackagedRendition, item: MediaItem)] = []
            for row in rows {
                let item = try renditionItem(row)
                try sink.place(item, owner: owner)
                packaged.append((row, try packagedRendition(row, table: tables[row.name], item: item), item))
            }
            let hlsFolder = "hls/\(track.id)"
            // Playlists sit two folders below the root (hls/ID/), MPDs one (dash/).
            let renditionsForHLS = Self.relocated(packaged.map(\.rendition), under: "../../")
            for rendition in renditionsForHLS {
                try sink.write(GeneratedFile(
                    path: "\(hlsFolder)/\(rendition.name).m3u8", stage: .manifests,
                    bytes: Data(HLSPlaylists.mediaPlaylist(for: rendition).utf8)
                ), owner: owner)
            }
            for (name, group) in Self.hlsMasters(renditionsForHLS) {
                try sink.write(GeneratedFile(
                    path: "\(hlsFolder)/\(name)", stage: .manifests,
                    bytes: Data(HLSPlaylists.masterPlaylist(for: group) { "\($0.name).m3u8" }.utf8)
                ), owner: owner)
            }
            let renditionsForDASH = Self.relocated(packaged.map(\.rendition), under: "../")
            let mpd: String
            do {
                mpd = try DASHManifest.mpd(for: renditionsForDASH)
            } catch {
                throw .catalog(path: work(ofTrack: track.id).catalog.path, detail: "track \(track.id): cannot write its MPD (\(error))")
            }
            try sink.write(GeneratedFile(path: "dash/\(track.id).mpd", stage: .manifests, bytes: Data(mpd.utf8)), owner: owner)

            var waveform: TrackDocument.Waveform?
            if let row = contents.waveforms[track.id] {
                let work = work(ofTrack: track.id)
                let json = try mediaItem(folder: "waveforms", source: work.root.appendingPathComponent(row.jsonPath),
                                         name: "waveform.json")
                let data = try mediaItem(folder: "waveforms", source: work.root.appendingPathComponent(row.dataPath),
                                         name: "waveform.dat")
                try sink.place(json, owner: owner)
                try sink.place(data, owner: owner)
                waveform = TrackDocument.Waveform(
                    json: url(json.files[0].path), data: url(data.files[0].path), pixelsPerSecond: row.pixelsPerSecond,
                    samplesPerPixel: row.samplesPerPixel, bits: row.bits, channels: row.channels
                )
            }
            let release = track.releaseId.flatMap { releases[$0] }
            var lyrics: [TrackDocument.Lyrics]?
            if let json = contents.lyrics[track.id] {
                do {
                    lyrics = try JSONDecoder().decode([TrackDocument.Lyrics].self, from: Data(json.utf8))
                } catch {
                    throw .catalog(path: work(ofTrack: track.id).catalog.path, detail: "track \(track.id): its lyrics row is not lyrics (\(error)); run musikk-ingest again after touching its master")
                }
            }
            let document = trackDocument(
                track, packaged: packaged.map { ($0.row, $0.rendition, $0.item) }, release: release, artists: artists,
                cover: track.releaseId.flatMap { covers[$0]?.cover }, waveform: waveform, lyrics: lyrics
            )
            let path = "api/tracks/\(track.id).json"
            try sink.write(GeneratedFile(path: path, stage: .api, bytes: try Self.encode(document, path: path)), owner: owner)
            try index.setTrack(entry(summary(document)))
            try index.flushIfLarge()
            published.insert(track.id)
        }
        return Publication(published: published, thumbnailFolders: thumbnailFolders, warnings: warnings)
    }

    /// A track's entry in the index: its summary, and its row in `api/search.json`.
    private func entry(_ track: TrackSummary) -> PublicationIndex.TrackEntry {
        let by = track.artists.map(\.name).joined(separator: ", ")
        let context = [by, track.release?.title].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " — ")
        var seen: Set<Int64> = []
        return PublicationIndex.TrackEntry(
            summary: track,
            search: ["track", track.id, track.title, context, track.url,
                     SearchDocument.fold("\(track.title) \(by) \(track.release?.title ?? "")")],
            credits: track.artists.map(\.id).filter { seen.insert($0).inserted }
        )
    }

    /// The HLS master playlists of a track: one per codec, `master.m3u8` for AAC (every HLS player has it),
    /// `master-opus.m3u8` for Opus and `master-flac.m3u8` for the lossless tier; `master.m3u8` is the first of
    /// Opus and FLAC present for a ladder without AAC. One codec per master, because a player may switch between
    /// any two variants of a master, and Chromium's native HLS player fails when a switch changes the codec
    /// ("Audio codec changes not allowed").
    static func hlsMasters(_ renditions: [PackagedRendition]) -> [(String, [PackagedRendition])] {
        let groups: [(PackagedRendition.Codec, String)] = [(.aacLC, "master.m3u8"), (.opus, "master-opus.m3u8"), (.flac, "master-flac.m3u8")]
        var masters: [(String, [PackagedRendition])] = []
        for (codec, name) in groups {
            let group = renditions.filter { $0.codec == codec }
            guard !group.isEmpty else { continue }
            masters.append((masters.isEmpty ? "master.m3u8" : name, group))
        }
        return masters
    }

    /// The renditions as seen from a manifest `prefix` away from the publication root.
    static func relocated(_ renditions: [PackagedRendition], under prefix: String) -> [PackagedRendition] {
        renditions.map { rendition in
            var moved = rendition
            moved.mediaBase = prefix + rendition.mediaBase
            return moved
        }
    }

    // MARK: Media

    private func mediaItem(folder: String, source: URL, name: String) throws(PublishError) -> MediaItem {
        let digest: String
        do {
            digest = try FileDigest.sha256(of: source)
        } catch {
            throw .workFile(path: source.path, detail: error.detail)
        }
        return MediaItem(digest: digest, isFolder: false, files: [
            MediaFile(path: "media/\(folder)/\(digest.prefix(Self.digestLength))/\(name)", source: source),
        ])
    }

    private func renditionItem(_ row: Rendition) throws(PublishError) -> MediaItem {
        let source = work(ofTrack: row.trackId).root.appendingPathComponent(row.path)
        let digest: String
        if let recorded = row.sha256 {
            digest = recorded
        } else {
            do {
                digest = try FileDigest.sha256(ofItemAt: source)
            } catch {
                throw .workFile(path: source.path, detail: error.detail)
            }
        }
        let folder = "media/audio/\(digest.prefix(Self.digestLength))"
        let name = source.lastPathComponent
        guard row.layout == SegmentLayout.segmentFiles.rawValue else {
            return MediaItem(digest: digest, isFolder: false, files: [MediaFile(path: "\(folder)/\(name)", source: source)])
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: source.path).sorted()
        } catch {
            throw .workFile(path: source.path, detail: error.localizedDescription)
        }
        return MediaItem(digest: digest, isFolder: true, files: names.map {
            MediaFile(path: "\(folder)/\(name)/\($0)", source: source.appendingPathComponent($0))
        })
    }

    /// The rendition as the manifests describe it, its media base relative to the publication root.
    private func packagedRendition(_ row: Rendition, table: Data?, item: MediaItem) throws(PublishError) -> PackagedRendition {
        guard let table, let track = try? JSONDecoder().decode(SegmentedTrack.self, from: table) else {
            throw .catalog(path: work(ofTrack: row.trackId).catalog.path, detail: "rendition \(row.name) of track \(row.trackId) has no "
                + "segment table; run musikk-ingest once more to record it")
        }
        return PackagedRendition(
            name: row.name, codec: PackagedRendition.Codec(catalogName: row.codec), track: track,
            mediaBase: "media/audio/\(item.digest.prefix(Self.digestLength))/"
        )
    }

    // MARK: JSON

    private func url(_ path: String) -> String { baseURL + path }

    /// A cover's thumbnails as the JSON lists them, smallest first; nil when it has none.
    private func thumbnailLinks(_ cover: PublishedCover) -> [Thumbnail]? {
        cover.thumbnails.isEmpty ? nil : cover.thumbnails.map { Thumbnail(side: $0.side, url: url($0.path)) }
    }

    private func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }

    private func artistLink(_ id: Int64, _ artists: [Int64: Artist]) -> ArtistLink {
        ArtistLink(id: id, name: artists[id]?.name ?? "", url: url("api/artists/\(id).json"))
    }

    private func trackDocument(
        _ track: Track, packaged: [(Rendition, PackagedRendition, MediaItem)], release: Release?, artists: [Int64: Artist],
        cover: PublishedCover?, waveform: TrackDocument.Waveform?, lyrics: [TrackDocument.Lyrics]?
    ) -> TrackDocument {
        let hlsFolder = "hls/\(track.id)"
        let entries = packaged.map { row, rendition, item in
            let codecs = rendition.codec.dashName
            return TrackDocument.RenditionEntry(
                name: row.name, codecs: codecs, mimeType: "audio/mp4; codecs=\"\(codecs)\"", bitrate: row.bitrate,
                sampleRate: row.sampleRate, channels: row.channels, size: row.size,
                hls: url("\(hlsFolder)/\(row.name).m3u8"), url: item.isFolder ? nil : url(item.files[0].path),
                tier: rendition.codec.isLossless ? .lossless : .lossy, kid: rendition.track.format.protection?.keyIDHex
            )
        }
        // The progressive stream: the single-file AAC rendition nearest 128 kb/s, which every browser plays.
        let progressive = zip(packaged, entries)
            .filter { $0.0.0.codec == "aac" && $0.1.url != nil }
            .min { abs($0.0.0.bitrate - 128_000) < abs($1.0.0.bitrate - 128_000) }?.1.url
        let masters = Dictionary(Self.hlsMasters(packaged.map(\.1)).map { name, group in (group[0].codec, name) }) { first, _ in first }
        let loudness = contents.loudness[track.id].map { row in
            TrackDocument.Loudness(
                integratedLUFS: finite(row.integratedLUFS), rangeLU: finite(row.rangeLU),
                truePeakDBTP: finite(row.truePeakDBTP), samplePeakDBFS: finite(row.samplePeakDBFS),
                trackGainDB: finite(row.trackGainDB), trackPeak: finite(row.trackPeak),
                albumGainDB: finite(release?.albumGainDB), albumPeak: finite(release?.albumPeak)
            )
        }
        return TrackDocument(
            id: track.id, title: track.title,
            artists: (contents.trackArtists[track.id] ?? []).map { artistLink($0, artists) },
            release: release.flatMap { r in r.id.map { ReleaseLink(id: $0, title: r.title, url: url("api/releases/\($0).json")) } },
            discNumber: track.discNumber, trackNumber: track.trackNumber, isrc: track.isrc, genre: track.genre,
            date: track.date, duration: track.durationSeconds, cover: cover.map { url($0.path) }, coverThumbnails: cover.flatMap(thumbnailLinks),
            streams: TrackDocument.Streams(
                hls: url("\(hlsFolder)/master.m3u8"),
                hlsOpus: masters[.opus].flatMap { $0 == "master.m3u8" ? nil : url("\(hlsFolder)/\($0)") },
                hlsLossless: masters[.flac].map { url("\(hlsFolder)/\($0)") },
                dash: url("dash/\(track.id).mpd"), progressive: progressive,
                lossless: zip(packaged, entries).first { $0.0.1.codec.isLossless }?.1.url,
                protected: packaged.contains { $0.1.track.format.protection != nil } ? true : nil
            ),
            renditions: entries, loudness: loudness, waveform: waveform, lyrics: lyrics
        )
    }

    private func summary(_ track: TrackDocument) -> TrackSummary {
        TrackSummary(
            id: track.id, title: track.title, artists: track.artists, release: track.release,
            discNumber: track.discNumber, trackNumber: track.trackNumber, duration: track.duration,
            url: url("api/tracks/\(track.id).json"), hls: track.streams.hls, dash: track.streams.dash
        )
    }

    /// A document as published: JSON with sorted keys, unescaped slashes, and a final newline.
    static func encode(_ document: some Encodable, path: String) throws(PublishError) -> Data {
        try fragment(document, path: path) + Data("\n".utf8)
    }

    /// A value as it appears inside a published document (JSONEncoder writes a nested value as it writes it alone).
    static func fragment(_ value: some Encodable, path: String) throws(PublishError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw .output(path: path, detail: "cannot encode JSON (\(error))")
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Reads what ``timestamp(_:)`` wrote.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
