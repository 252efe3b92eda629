import Catalog
import Foundation

/// Track metadata from tags, falling back to the file and folder names (`Artist/Album/01 Title.flac`).
/// Values are kept as data: they are stored in the catalog and never used to build a path.
struct TrackMetadata: Equatable {
    var title: String
    var artists: [String]
    var albumArtist: String?
    var album: String?
    var trackNumber: Int?
    var discNumber: Int?
    var date: String?
    var genre: String?
    var isrc: String?

    static let unknownArtist = "Unknown Artist"

    /// - Parameters:
    ///   - tags: container and stream tags with lowercased keys, as FFmpeg reports them.
    ///   - relativePath: the master's path relative to MASTERS_DIR.
    init(tags: [String: String], relativePath: String) {
        func tag(_ keys: String...) -> String? {
            for key in keys {
                if let value = tags[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
                    return value
                }
            }
            return nil
        }
        let components = relativePath.split(separator: "/").map(String.init)
        let fileName = components.last ?? relativePath
        let stem = (fileName as NSString).deletingPathExtension
        let (numberFromName, titleFromName) = Self.splitLeadingNumber(stem)
        let folderAlbum = components.count >= 2 ? components[components.count - 2] : nil
        let folderArtist = components.count >= 3 ? components[components.count - 3] : nil

        title = tag("title") ?? titleFromName
        let artistTag = tag("artist", "album_artist", "albumartist")
        let fallbackArtist: String = folderArtist ?? Self.unknownArtist
        let taggedArtists: [String] = artistTag.map(Self.splitArtists) ?? []
        artists = taggedArtists.isEmpty ? [fallbackArtist] : taggedArtists
        let taggedAlbum: String? = tag("album")
        album = taggedAlbum ?? folderAlbum
        let taggedAlbumArtist: String? = tag("album_artist", "albumartist")
        if let taggedAlbumArtist {
            albumArtist = taggedAlbumArtist
        } else {
            albumArtist = taggedAlbum != nil || folderArtist == nil ? artists.first : folderArtist
        }
        trackNumber = tag("track", "tracknumber").flatMap(Self.leadingInteger) ?? numberFromName
        discNumber = tag("disc", "discnumber").flatMap(Self.leadingInteger)
        date = tag("date", "year", "originaldate")
        genre = tag("genre")
        isrc = tag("isrc", "tsrc")
    }

    /// `"3/12"` → 3.
    static func leadingInteger(_ text: String) -> Int? {
        Int(text.prefix { $0.isNumber })
    }

    /// `"01 - Title"` or `"01. Title"` → (1, "Title"); anything else → (nil, whole).
    static func splitLeadingNumber(_ stem: String) -> (Int?, String) {
        let digits = stem.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3, let number = Int(digits) else { return (nil, stem) }
        let rest = stem.dropFirst(digits.count).drop { " .-_".contains($0) }
        guard !rest.isEmpty, rest.count < stem.count - digits.count else { return (nil, stem) }
        return (number, String(rest))
    }

    /// FFmpeg joins repeated Vorbis comments with `;`.
    static func splitArtists(_ text: String) -> [String] {
        text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension Track {
    /// Takes the descriptive fields a master's tags give (title, numbers, ISRC, genre, date).
    mutating func describe(with metadata: TrackMetadata) {
        (title, trackNumber, discNumber) = (metadata.title, metadata.trackNumber, metadata.discNumber)
        (isrc, genre, date) = (metadata.isrc, metadata.genre, metadata.date)
    }
}
