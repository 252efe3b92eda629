import Foundation

// The documents of the static JSON catalog API. Each has a JSON Schema under `schemas/publish/` in the repository
// (the tests validate every published document against it). URLs are relative to the publication root unless
// `--base-url` made them absolute.

/// `api/index.json`: where a client starts.
struct IndexDocument: Encodable {
    var version = 1
    var generator: String
    /// When the catalog last changed (the last ingest run that finished), ISO 8601.
    var updated: String?
    var baseURL: String?
    var counts: Counts
    var artists: String
    var releases: String
    var tracks: String
    var search: String

    struct Counts: Encodable {
        var artists: Int
        var releases: Int
        var tracks: Int
    }
}

/// One page of a list (`api/tracks/page-N.json` and the like).
struct PageDocument<Item: Encodable>: Encodable {
    var page: Int
    var pageCount: Int
    var pageSize: Int
    var total: Int
    var previous: String?
    var next: String?
    var items: [Item]
}

struct ArtistLink: Encodable {
    var id: Int64
    var name: String
    var url: String
}

struct ReleaseLink: Encodable {
    var id: Int64
    var title: String
    var url: String
}

/// A track as lists show it.
struct TrackSummary: Encodable {
    var id: String
    var title: String
    var artists: [ArtistLink]
    var release: ReleaseLink?
    var discNumber: Int?
    var trackNumber: Int?
    var duration: Double
    var url: String
    var hls: String
    var dash: String
}

/// A smaller copy of a cover, fitting in `side` × `side` pixels (JPEG).
struct Thumbnail: Encodable {
    var side: Int
    var url: String
}

/// A release as lists show it.
struct ReleaseSummary: Encodable {
    var id: Int64
    var title: String
    var artist: ArtistLink
    var date: String?
    var cover: String?
    var coverThumbnails: [Thumbnail]?
    var trackCount: Int
    var url: String
}

/// An artist as lists show it.
struct ArtistSummary: Encodable {
    var id: Int64
    var name: String
    var releaseCount: Int
    var trackCount: Int
    var url: String
}

/// `api/artists/ID.json`.
struct ArtistDocument: Encodable {
    var id: Int64
    var name: String
    var releases: [ReleaseSummary]
    var tracks: [TrackSummary]
}

/// `api/releases/ID.json`.
struct ReleaseDocument: Encodable {
    var id: Int64
    var title: String
    var artist: ArtistLink
    var date: String?
    var cover: Cover?
    var duration: Double
    /// ReplayGain 2.0 album gain (dB, -18 LUFS reference) and album peak (linear), when measured.
    var albumGainDB: Double?
    var albumPeak: Double?
    var tracks: [TrackSummary]

    struct Cover: Encodable {
        var url: String
        var mimeType: String?
        var thumbnails: [Thumbnail]?
    }
}

/// `api/tracks/ID.json`: everything a player needs.
struct TrackDocument: Encodable {
    var id: String
    var title: String
    var artists: [ArtistLink]
    var release: ReleaseLink?
    var discNumber: Int?
    var trackNumber: Int?
    var isrc: String?
    var genre: String?
    var date: String?
    var duration: Double
    var cover: String?
    var coverThumbnails: [Thumbnail]?
    var streams: Streams
    var renditions: [RenditionEntry]
    var loudness: Loudness?
    var waveform: Waveform?

    struct Streams: Encodable {
        /// HLS master playlist of the AAC ladder (of the Opus ladder when there is no AAC).
        var hls: String
        /// HLS master playlist of the Opus ladder, beside an AAC one.
        var hlsOpus: String?
        /// DASH MPD.
        var dash: String
        /// One AAC file a plain `<audio src>` can play and seek in (single-file layout only).
        var progressive: String?
    }

    struct RenditionEntry: Encodable {
        var name: String
        /// RFC 6381 codec, as in the manifests' CODECS.
        var codecs: String
        /// For `MediaSource.isTypeSupported` and `<source type>`.
        var mimeType: String
        var bitrate: Int
        var sampleRate: Int
        var channels: Int
        var size: Int
        var hls: String
        /// The media file (single-file layout); nil for segment files.
        var url: String?
    }

    /// EBU R128 measurements and ReplayGain 2.0 gains; a value that is not finite (the peak of digital silence)
    /// is left out.
    struct Loudness: Encodable {
        var integratedLUFS: Double?
        var rangeLU: Double?
        var truePeakDBTP: Double?
        var samplePeakDBFS: Double?
        var trackGainDB: Double?
        var trackPeak: Double?
        var albumGainDB: Double?
        var albumPeak: Double?
    }

    struct Waveform: Encodable {
        /// audiowaveform JSON.
        var json: String
        /// audiowaveform binary `.dat`.
        var data: String
        var pixelsPerSecond: Int
        var samplesPerPixel: Int
        var bits: Int
        var channels: Int
    }
}

/// `api/search.json`: every artist, release and track in one compact table for client-side search. Each entry is
/// `[kind, id, name, context, url, terms]`: `terms` is the searchable text folded to lowercase without accents.
struct SearchDocument: Encodable {
    var version = 1
    var columns = ["kind", "id", "name", "context", "url", "terms"]
    var entries: [[String]]

    /// Lowercase, accents and punctuation removed, words separated by one space.
    static func fold(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
        let words = folded.split { !($0.isLetter || $0.isNumber) }
        return words.joined(separator: " ")
    }
}
