import Foundation
import Hummingbird

/// Serves the publication's manifests and media under signed paths (`/stream/EXPIRES/SIGNATURE/PATH`), with
/// byte ranges as RFC 9110 has them: single ranges (including suffix ranges `bytes=-N`) get 206, ranges past the
/// end get 416 with `Content-Range: bytes */SIZE`, `If-Range` with a stale validator gets the whole file.
struct MediaController: Sendable {
    let root: URL
    let signer: MediaSigner
    let clock: @Sendable () -> Date
    let fileIO = FileIO()

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
        guard let folder = parts.first, Self.servedFolders.contains(folder),
              parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") })
        else { throw APIError.notFound("file") }
        let path = root.appendingPathComponent(parts.joined(separator: "/")).path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular,
              let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw APIError.notFound("file \(parts.joined(separator: "/"))") }
        let modified = Int((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        let etag = "\"\(String(size, radix: 16))-\(String(modified, radix: 16))\""

        var headers: HTTPFields = [
            .acceptRanges: "bytes",
            .eTag: etag,
            .contentType: Self.mediaType(of: path),
            // Content-addressed media never changes; manifests may, but the URL carries an expiry anyway.
            .cacheControl: folder == "media" ? "private, max-age=31536000, immutable" : "private, max-age=60",
        ]
        var range = ByteRange(header: request.headers[.range], size: size)
        if let validator = request.headers[.ifRange], validator != etag { range = .whole }
        let isHead = request.method == .head
        switch range {
        case .whole:
            headers[.contentLength] = String(size)
            let body = isHead || size == 0 ? ResponseBody() : try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: headers, body: body)
        case .partial(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            headers[.contentLength] = String(bytes.count)
            let body = isHead ? ResponseBody() : try await fileIO.loadFile(path: path, range: bytes, context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .unsatisfiable:
            throw APIError(
                .rangeNotSatisfiable, "range_not_satisfiable", "the requested range lies beyond the file's \(size) bytes",
                headers: [.contentRange: "bytes */\(size)", .acceptRanges: "bytes"])
        }
    }

    static func mediaType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "m3u8": "application/vnd.apple.mpegurl"
        case "mpd": "application/dash+xml"
        case "mp4", "m4s", "m4a": "audio/mp4"
        case "json": "application/json"
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        default: "application/octet-stream"
        }
    }
}
