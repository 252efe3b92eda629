import Foundation

// The documents of the static JSON catalog API: musikk-publish writes them, musikk-server reads them, with these
// same types. Each has a JSON Schema under `schemas/publish/` in the repository (the tests validate every published
// document against it). URLs are relative to the publication root unless `--base-url` made them absolute.

/// `api/index.json`: where a client starts.
public struct IndexDocument: Codable, Sendable {
    public var version: Int = 1
    public var generator: String
    /// When the catalog last changed (the last ingest run that finished), ISO 8601.
    public var updated: String?
    public var baseURL: String?
    public var counts: Counts
    public var artists: String
    public var releases: String
    public var tracks: String
    public var search: String

    public struct Counts: Codable, Sendable {
        public var artists: Int
        public var releases: Int
        public var tracks: Int

        public init(artists: Int, releases: Int, tracks: Int) {
            self.artists = artists
            self.releases = releases
            self.tracks = tracks
        }
    }

    public init(version: Int = 1, generator: String, updated: String? = nil, baseURL: String? = nil, counts: Counts, artists: String, releases: String, tracks: String, search: String) {
        self.version = version
        self.generator = generator
        self.updated = updated
        self.baseURL = baseURL
        self.counts = counts
        self.artists = artists
        self.releases = releases
        self.tracks = tracks
        self.search = search
    }
}

/// One page of a list (`api/tracks/page-N.json` and the like).
public struct PageDocument<Item: Codable & Sendable>: Codable, Sendable {
    public var page: Int
    public var pageCount: Int
    public var pageSize: Int
    public var total: Int
    public var previous: String?
    public var next: String?
    public var items: [Item]

    public init(page: Int, pageCount: Int, pageSize: Int, total: Int, previous: String? = nil, next: String? = nil, items: [Item]) {
        self.page = page
        self.pageCount = pageCount
        self.pageSize = pageSize
        self.total = total
        self.previous = previous
        self.next = next
        self.items = items
    }
}

public struct ArtistLink: Codable, Sendable {
    public var id: Int64
    public var name: String
    public var url: String

    public init(id: Int64, name: String, url: String) {
        self.id = id
        self.name = name
        self.url = url
    }
}

public struct ReleaseLink: Codable, Sendable {
    public var id: Int64
    public var title: String
    public var url: String

    public init(id: Int64, title: String, url: String) {
        self.id = id
        self.title = title
        self.url = url
    }
}

/// A track as lists show it.
public struct TrackSummary: Codable, Sendable {
    public var id: String
    public var title: String
    public var artists: [ArtistLink]
    public var release: ReleaseLink?
    public var discNumber: Int?
    public var trackNumber: Int?
    public var duration: Double
    public var url: String
    public var hls: String
    public var dash: String

    public init(id: String, title: String, artists: [ArtistLink], release: ReleaseLink? = nil, discNumber: Int? = nil, trackNumber: Int? = nil, duration: Double, url: String, hls: String, dash: String) {
        self.id = id
        self.title = title
        self.artists = artists
        self.release = release
        self.discNumber = discNumber
        self.trackNumber = trackNumber
        self.duration = duration
        self.url = url
        self.hls = hls
        self.dash = dash
    }
}

/// A smaller copy of a cover, fitting in `side` × `side` pixels (JPEG).
public struct Thumbnail: Codable, Sendable {
    public var side: Int
    public var url: String

    public init(side: Int, url: String) {
        self.side = side
        self.url = url
    }
}

/// A release as lists show it.
public struct ReleaseSummary: Codable, Sendable {
    public var id: Int64
    public var title: String
    public var artist: ArtistLink
    public var date: String?
    public var cover: String?
    public var coverThumbnails: [Thumbnail]?
    public var trackCount: Int
    public var url: String

    public init(id: Int64, title: String, artist: ArtistLink, date: String? = nil, cover: String? = nil, coverThumbnails: [Thumbnail]? = nil, trackCount: Int, url: String) {
        self.id = id
        self.title = title
        self.artist = artist
        self.date = date
        self.cover = cover
        self.coverThumbnails = coverThumbnails
        self.trackCount = trackCount
        self.url = url
    }
}

/// An artist as lists show it.
public struct ArtistSummary: Codable, Sendable {
    public var id: Int64
    public var name: String
    public var releaseCount: Int
    public var trackCount: Int
    public var url: String

    public init(id: Int64, name: String, releaseCount: Int, trackCount: Int, url: String) {
        self.id = id
        self.name = name
        self.releaseCount = releaseCount
        self.trackCount = trackCount
        self.url = url
    }
}

/// `api/artists/ID.json`.
public struct ArtistDocument: Codable, Sendable {
    public var id: Int64
    public var name: String
    public var releases: [ReleaseSummary]
    public var tracks: [TrackSummary]

    public init(id: Int64, name: String, releases: [ReleaseSummary], tracks: [TrackSummary]) {
        self.id = id
        self.name = name
        self.releases = releases
        self.tracks = tracks
    }
}

/// `api/releases/ID.json`.
public struct ReleaseDocument: Codable, Sendable {
    public var id: Int64
    public var title: String
    public var artist: ArtistLink
    public var date: String?
    public var cover: Cover?
    public var duration: Double
    /// ReplayGain 2.0 album gain (dB, -18 LUFS reference) and album peak (linear), when measured.
    public var albumGainDB: Double?
    public var albumPeak: Double?
    public var tracks: [TrackSummary]

    public struct Cover: Codable, Sendable {
        public var url: String
        public var mimeType: String?
        public var thumbnails: [Thumbnail]?

        public init(url: String, mimeType: String? = nil, thumbnails: [Thumbnail]? = nil) {
            self.url = url
            self.mimeType = mimeType
            self.thumbnails = thumbnails
        }
    }

    public init(id: Int64, title: String, artist: ArtistLink, date: String? = nil, cover: Cover? = nil, duration: Double, albumGainDB: Double? = nil, albumPeak: Double? = nil, tracks: [TrackSummary]) {
        self.id = id
        self.title = title
        self.artist = artist
        self.date = date
        self.cover = cover
        self.duration = duration
        self.albumGainDB = albumGainDB
        self.albumPeak = albumPeak
        self.tracks = tracks
    }
}

/// `api/tracks/ID.json`: everything a player needs.
public struct TrackDocument: Codable, Sendable {
    public var id: String
    public var title: String
    public var artists: [ArtistLink]
    public var release: ReleaseLink?
    public var discNumber: Int?
    public var trackNumber: Int?
    public var isrc: String?
    public var genre: String?
    public var date: String?
    public var duration: Double
    public var cover: String?
    public var coverThumbnails: [Thumbnail]?
    public var streams: Streams
    public var renditions: [RenditionEntry]
    public var loudness: Loudness?
    public var waveform: Waveform?
    /// The master's lyrics (its tags, or an `.lrc` file beside it), synced ones first.
    public var lyrics: [Lyrics]?

    /// One set of lyrics: plain lines, or lines with the time each starts (synced).
    public struct Lyrics: Codable, Sendable, Equatable {
        /// ISO 639-2 code as the tag gives it (`und` when unknown).
        public var language: String
        public var synced: Bool
        public var lines: [Line]

        public struct Line: Codable, Sendable, Equatable {
            /// Milliseconds from the start of the track (synced lyrics only).
            public var start: Int?
            public var text: String

            public init(start: Int? = nil, text: String) {
                self.start = start
                self.text = text
            }
        }

        public init(language: String, synced: Bool, lines: [Line]) {
            self.language = language
            self.synced = synced
            self.lines = lines
        }
    }

    public struct Streams: Codable, Sendable {
        /// HLS master playlist of the AAC ladder (of the Opus ladder when there is no AAC).
        public var hls: String
        /// HLS master playlist of the Opus ladder, beside an AAC one.
        public var hlsOpus: String?
        /// HLS master playlist of the lossless tier (FLAC), where the track has it.
        public var hlsLossless: String?
        /// DASH MPD.
        public var dash: String
        /// One AAC file a plain `<audio src>` can play and seek in (single-file layout only).
        public var progressive: String?
        /// The lossless tier's one file (FLAC in CMAF; single-file layout only).
        public var lossless: String?
        /// True when the media are encrypted (`cbcs`): players need a key from musikk-server's licence endpoint.
        public var protected: Bool?

        public init(
            hls: String, hlsOpus: String? = nil, hlsLossless: String? = nil, dash: String, progressive: String? = nil,
            lossless: String? = nil, protected: Bool? = nil
        ) {
            self.hls = hls
            self.hlsOpus = hlsOpus
            self.hlsLossless = hlsLossless
            self.dash = dash
            self.progressive = progressive
            self.lossless = lossless
            self.protected = protected
        }
    }

    public struct RenditionEntry: Codable, Sendable {
        public var name: String
        /// RFC 6381 codec, as in the manifests' CODECS.
        public var codecs: String
        /// For `MediaSource.isTypeSupported` and `<source type>`.
        public var mimeType: String
        public var bitrate: Int
        public var sampleRate: Int
        public var channels: Int
        public var size: Int
        public var hls: String
        /// The media file (single-file layout); nil for segment files.
        public var url: String?
        /// Always written; nil only in publications made before tiers.
        public var tier: Tier?
        /// The key id (hex) of an encrypted rendition: what a ClearKey licence request names.
        public var kid: String?

        public enum Tier: String, Codable, Sendable {
            case lossy, lossless
        }

        public init(
            name: String, codecs: String, mimeType: String, bitrate: Int, sampleRate: Int, channels: Int, size: Int, hls: String,
            url: String? = nil, tier: Tier? = .lossy, kid: String? = nil
        ) {
            self.name = name
            self.codecs = codecs
            self.mimeType = mimeType
            self.bitrate = bitrate
            self.sampleRate = sampleRate
            self.channels = channels
            self.size = size
            self.hls = hls
            self.url = url
            self.tier = tier
            self.kid = kid
        }
    }

    /// EBU R128 measurements and ReplayGain 2.0 gains; a value that is not finite (the peak of digital silence)
    /// is left out.
    public struct Loudness: Codable, Sendable {
        public var integratedLUFS: Double?
        public var rangeLU: Double?
        public var truePeakDBTP: Double?
        public var samplePeakDBFS: Double?
        public var trackGainDB: Double?
        public var trackPeak: Double?
        public var albumGainDB: Double?
        public var albumPeak: Double?

        public init(integratedLUFS: Double? = nil, rangeLU: Double? = nil, truePeakDBTP: Double? = nil, samplePeakDBFS: Double? = nil, trackGainDB: Double? = nil, trackPeak: Double? = nil, albumGainDB: Double? = nil, albumPeak: Double? = nil) {
            self.integratedLUFS = integratedLUFS
            self.rangeLU = rangeLU
            self.truePeakDBTP = truePeakDBTP
            self.samplePeakDBFS = samplePeakDBFS
            self.trackGainDB = trackGainDB
            self.trackPeak = trackPeak
            self.albumGainDB = albumGainDB
            self.albumPeak = albumPeak
        }
    }

    public struct Waveform: Codable, Sendable {
        /// audiowaveform JSON.
        public var json: String
        /// audiowaveform binary `.dat`.
        public var data: String
        public var pixelsPerSecond: Int
        public var samplesPerPixel: Int
        public var bits: Int
        public var channels: Int

        public init(json: String, data: String, pixelsPerSecond: Int, samplesPerPixel: Int, bits: Int, channels: Int) {
            self.json = json
            self.data = data
            self.pixelsPerSecond = pixelsPerSecond
            self.samplesPerPixel = samplesPerPixel
            self.bits = bits
            self.channels = channels
        }
    }

    public init(id: String, title: String, artists: [ArtistLink], release: ReleaseLink? = nil, discNumber: Int? = nil, trackNumber: Int? = nil, isrc: String? = nil, genre: String? = nil, date: String? = nil, duration: Double, cover: String? = nil, coverThumbnails: [Thumbnail]? = nil, streams: Streams, renditions: [RenditionEntry], loudness: Loudness? = nil, waveform: Waveform? = nil, lyrics: [Lyrics]? = nil) {
        self.id = id
        self.title = title
        self.artists = artists
        self.release = release
        self.discNumber = discNumber
        self.trackNumber = trackNumber
        self.isrc = isrc
        self.genre = genre
        self.date = date
        self.duration = duration
        self.cover = cover
        self.coverThumbnails = coverThumbnails
        self.streams = streams
        self.renditions = renditions
        self.loudness = loudness
        self.waveform = waveform
        self.lyrics = lyrics
    }
}

/// `api/search.json`: every artist, release and track in one compact table for client-side search. Each entry is
/// `[kind, id, name, context, url, terms]`: `terms` is the searchable text folded to lowercase without accents.
public struct SearchDocument: Codable, Sendable {
    public var version: Int = 1
    public var columns: [String] = ["kind", "id", "name", "context", "url", "terms"]
    public var entries: [[String]]

    /// Lowercase, accents and punctuation removed, words separated by one space.
    public static func fold(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
        let words = folded.split { !($0.isLetter || $0.isNumber) }
        return words.joined(separator: " ")
    }

    public init(version: Int = 1, columns: [String] = ["kind", "id", "name", "context", "url", "terms"], entries: [[String]]) {
        self.version = version
        self.columns = columns
        self.entries = entries
    }
}
