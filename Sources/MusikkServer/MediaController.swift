import Foundation
import Hummingbird

/// Serves the publication's manifests and media under signed paths (`/stream/EXPIRES/SIGNATURE/PATH`), with
/// byte ranges as RFC 9110 has them: single ranges (including suffix ranges `bytes=-N`) get 206, ranges past the
/// end get 416 with `Content-Range: bytes */SIZE`, `If-Range` with a stale validator gets the whole file.
struct MediaController: Sendable {
    /// The publication's directory.
    let rootPath: String
    let signer: MediaSigner
    let clock: @Sendable () -> Date
    var reader: MediaFileReader { MediaFileReader(root: rootPath) }

    /// The top-level folders of the publication that hold manifests and media.
    static let servedFolders: Set<String> = ["media", "hls", "dash"]

    func addRoutes(to router: Router<ServerRequestContext>) {
        router.get("/stream/:expires/:signature/**", use: serve)
        router.head("/stream/:expires/:signature/**", use: serve)
    }

    @Sendable func serve(_ request: Request, context: ServerRequestContext) async throws -> Response {
        guard let expires = context.parameters.get("expires"), let signature = context.parameters.get("signature"),
              signer.isValid(expires: expires, signature: signature, now: clock())
        else {
            throw APIError(.forbidden, "media_link_expired", "this media link expired or is not genuine; ask /api/tracks/{id}/playback for a new one")
        }
        let parts = context.parameters.getCatchAll().map(String.init)
        guard let (folder, path) = Self.servedPath(parts) else { throw APIError.notFound("file") }
        return try await Self.file(path, of: reader, for: request, cacheControl: Self.cacheControl(folder: folder))
    }

    /// A file of the publication as the answer to `request`: whole, one byte range, or 416, with a validator.
    static func file(_ path: String, of reader: MediaFileReader, for request: Request, cacheControl: String) async throws -> Response {
        let (rangeHeader, validator, isHead) = (request.headers[.range], request.headers[.ifRange], request.method == .head)
        let opened = try await reader.open(path: path) { metadata in
            let range = Self.range(metadata, header: rangeHeader, ifRange: validator)
            switch range {
            case .whole: return (range, isHead || metadata.size == 0 ? nil : 0...(metadata.size - 1))
            case .partial(let bytes): return (range, isHead ? nil : bytes)
            case .unsatisfiable: return (range, nil)
            }
        }
        guard let (opening, range) = opened else { throw APIError.notFound("file \(path)") }
        let size = opening.metadata.size
        var headers: HTTPFields = [
            .acceptRanges: "bytes",
            .eTag: entityTag(opening.metadata),
            .contentType: mediaType(of: path),
            .cacheControl: cacheControl,
        ]
        switch range {
        case .whole:
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: reader.body(path: path, opening))
        case .partial(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            headers[.contentLength] = String(bytes.count)
            return Response(status: .partialContent, headers: headers, body: reader.body(path: path, opening))
        case .unsatisfiable:
            throw APIError(
                .rangeNotSatisfiable, "range_not_satisfiable", "the requested range lies beyond the file's \(size) bytes",
                headers: [.contentRange: "bytes */\(size)", .acceptRanges: "bytes"])
        }
    }

    /// The top-level folder and relative path of a signed link's path segments, or nil when they name nothing
    /// the server serves (another folder, empty, `.` or `..` segments, NUL).
    static func servedPath(_ parts: [String]) -> (folder: String, path: String)? {
        guard let folder = parts.first, servedFolders.contains(folder),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") })
        else { return nil }
        return (folder, parts.joined(separator: "/"))
    }

    /// The strong validator of a file's version.
    static func entityTag(_ metadata: MediaFileReader.Metadata) -> String {
        "\"\(String(metadata.size, radix: 16))-\(String(metadata.modified, radix: 16))\""
    }

    /// The part of the file a request asks for; an `If-Range` naming another version asks for all of it.
    static func range(_ metadata: MediaFileReader.Metadata, header: String?, ifRange: String?) -> ByteRange {
        if let ifRange, ifRange != entityTag(metadata) { return .whole }
        return ByteRange(header: header, size: metadata.size)
    }

    /// Media types by file extension, for this route and for the nginx edge that serves the same files.
    static let mediaTypes: [(type: String, extensions: [String])] = [
        ("application/vnd.apple.mpegurl", ["m3u8"]),
        ("application/dash+xml", ["mpd"]),
        ("audio/mp4", ["mp4", "m4s", "m4a"]),
        ("application/json", ["json"]),
        ("image/png", ["png"]),
        ("image/jpeg", ["jpg", "jpeg"]),
        ("image/webp", ["webp"]),
    ]

    static func mediaType(of path: String) -> String {
        let fileExtension = path.lastIndex(of: ".").map { path[path.index(after: $0)...].lowercased() } ?? ""
        return mediaTypes.first { $0.extensions.contains(fileExtension) }?.type ?? "application/octet-stream"
    }

    /// Content-addressed media never changes; manifests may, but the URL carries an expiry anyway.
    static func cacheControl(folder: String) -> String {
        folder == "media" ? "private, max-age=31536000, immutable" : "private, max-age=60"
    }
}
