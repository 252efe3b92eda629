/// The parts of a publication, in the order a sync must upload them, and how a web server or CDN serves each.
/// One table feeds the `_headers` file, the nginx snippet and `publish.json`, so they cannot disagree.
public enum SyncStage: String, Codable, Sendable, CaseIterable {
    /// `media/`: content-addressed audio, cover art and waveforms. Never overwritten: upload first.
    case media
    /// `hls/` and `dash/`: per-track playlists and MPDs pointing at media; after the media they name.
    case manifests
    /// `api/`: the JSON catalog pointing at manifests and media; after both.
    case api
    /// `_headers` and finally `publish.json`, which describes the whole upload.
    case control
    /// `nginx/`: for the origin machine only (the nginx snippet); not for a CDN.
    case local

    /// What the stage holds, for `publish.json` readers.
    var summary: String {
        switch self {
        case .media: "immutable media under content-addressed names; upload first, never overwrite"
        case .manifests: "HLS playlists and DASH MPDs; upload after the media"
        case .api: "the static JSON catalog; upload after the manifests"
        case .control: "_headers, then publish.json last; delete files no longer listed only after this stage"
        case .local: "for the origin only (the nginx snippet); do not upload"
        }
    }

    /// Whether a CDN sync uploads the stage.
    var uploads: Bool { self != .local }
}

/// Cache lifetimes and media types.
enum ServingRules {
    /// Media never change under a name.
    static let immutable = "public, max-age=31536000, immutable"
    /// Manifests and JSON change when the catalog does: caches keep them a minute.
    static let shortLived = "public, max-age=60"
    /// publish.json is for deploy tools; always revalidated.
    static let revalidate = "no-cache"

    static let hlsType = "application/vnd.apple.mpegurl"
    static let dashType = "application/dash+xml"
    static let audioType = "audio/mp4"
    static let jsonType = "application/json"

    /// Folders by serving rule. Rules are per folder (`/prefix/*`), the one pattern every `_headers` host
    /// understands; each folder holds one type, except images and waveforms whose types follow their extensions.
    struct Folder {
        var path: String
        var cacheControl: String
        /// Nil where the type follows the file extension.
        var contentType: String?
    }

    static let folders: [Folder] = [
        Folder(path: "/media/audio/", cacheControl: immutable, contentType: audioType),
        Folder(path: "/media/images/", cacheControl: immutable, contentType: nil),
        Folder(path: "/media/waveforms/", cacheControl: immutable, contentType: nil),
        Folder(path: "/hls/", cacheControl: shortLived, contentType: hlsType),
        Folder(path: "/dash/", cacheControl: shortLived, contentType: dashType),
        Folder(path: "/api/", cacheControl: shortLived, contentType: jsonType),
    ]

    /// Headers every response carries so players on other origins can fetch (and seek in) the files.
    static let corsHeaders: [(String, String)] = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS"),
        ("Access-Control-Allow-Headers", "Range"),
        ("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges"),
    ]

    /// Types by extension where a folder does not fix one.
    static let extensionTypes: [(String, [String])] = [
        (audioType, ["mp4", "m4s"]),
        (hlsType, ["m3u8"]),
        (dashType, ["mpd"]),
        (jsonType, ["json"]),
        ("application/octet-stream", ["dat"]),
        ("image/jpeg", ["jpg", "jpeg"]),
        ("image/png", ["png"]),
        ("image/webp", ["webp"]),
        ("image/gif", ["gif"]),
    ]

    /// The `_headers` file (Netlify and Cloudflare Pages syntax).
    static func headersFile() -> String {
        var lines = [
            "# Written by musikk-publish: cache, type and CORS headers (Netlify / Cloudflare Pages `_headers` syntax).",
            "# Media never change under a name; manifests and JSON are cached briefly.",
        ]
        for folder in folders {
            lines.append("\(folder.path)*")
            lines.append("  Cache-Control: \(folder.cacheControl)")
            if let type = folder.contentType { lines.append("  Content-Type: \(type)") }
            for (name, value) in corsHeaders { lines.append("  \(name): \(value)") }
        }
        lines.append("/publish.json")
        lines.append("  Cache-Control: \(revalidate)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The nginx snippet: `location` blocks to include in a `server` block whose `root` is the publication.
    static func nginxSnippet(publicationPath: String) -> String {
        var lines = [
            "# Written by musikk-publish: how nginx serves this publication. Include it in a server block whose root",
            "# is the publication folder, e.g.",
            "#",
            "#   server {",
            "#       listen 80;",
            "#       server_name music.example.org;",
            "#       root \(publicationPath);",
            "#       include \(publicationPath)/nginx/musikk.conf;",
            "#   }",
            "#",
            "# musikk-publish replaces the folder in one step, so nginx always serves one whole publication.",
            "",
            "# Only the media, manifests, JSON and publish.json are public.",
            "location = /_headers { return 404; }",
            "location /nginx/ { return 404; }",
            "",
        ]
        let typeLines = extensionTypes.map { "        \($0.0) \($0.1.joined(separator: " "));" }
        for folder in folders {
            lines.append("location \(folder.path) {")
            if let type = folder.contentType {
                lines.append("    types { }")
                lines.append("    default_type \(type);")
            } else {
                lines.append("    types {")
                lines += typeLines
                lines.append("    }")
                lines.append("    default_type application/octet-stream;")
            }
            lines.append("    add_header Cache-Control \"\(folder.cacheControl)\" always;")
            for (name, value) in corsHeaders { lines.append("    add_header \(name) \"\(value)\" always;") }
            lines.append("    if ($request_method = OPTIONS) { return 204; }")
            lines.append("}")
        }
        lines += [
            "location = /publish.json {",
            "    default_type \(jsonType);",
            "    add_header Cache-Control \"\(revalidate)\" always;",
            "}",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
