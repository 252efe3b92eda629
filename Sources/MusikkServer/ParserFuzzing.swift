import Foundation
import HTTPTypes
import Hummingbird

/// Entry points for the libFuzzer harness (`musikk-fuzz-server`, scripts/fuzz-server) and its regression tests:
/// each feeds arbitrary bytes to one parser of request input, exactly as a request reaches it, and checks what the
/// parser promises. A broken promise is a `preconditionFailure`, which the fuzzer reports as a crash.
public enum ParserFuzzing {
    /// The parsers fuzzed, by the names the harness takes.
    public static let targets: [String: @Sendable (Data) -> Void] = [
        "range": range, "page": page, "media-link": mediaLink, "json": json, "subsonic": subsonic,
    ]

    /// `Range` and `If-Range` against a file size: the first 8 bytes give the size, the rest the header.
    public static func range(_ data: Data) {
        let size = Int(data.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & 0xFF_FFFF_FFFF)
        let text = String(decoding: data.dropFirst(8), as: UTF8.self)
        let (header, ifRange) = text.split(separator: "\n", maxSplits: 1).map(String.init).splitFirst
        let metadata = MediaFileReader.Metadata(size: size, modified: 1, device: 1, inode: 1)
        switch MediaController.range(metadata, header: header, ifRange: ifRange) {
        case .partial(let bytes):
            precondition(bytes.lowerBound >= 0 && bytes.upperBound < size, "range \(bytes) outside \(size) bytes for \(header ?? "")")
        case .whole, .unsatisfiable:
            break
        }
    }

    /// `cursor` and `limit` query parameters, then a page of a catalog list of 0 to 255 items with them.
    public static func page(_ data: Data) {
        let count = Int(data.first ?? 0)
        let query = String(decoding: data.dropFirst(), as: UTF8.self)
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "fuzz", path: "/api/tracks?" + query), body: .init(buffer: ByteBuffer()))
        guard let page = try? request.pageRequest() else { return }
        precondition((1...200).contains(page.limit))
        guard let result = try? CatalogController.page(Array(0..<count), page, item: { $0 }) else { return }
        precondition(result.items.count <= page.limit)
        if let first = result.items.first { precondition(Int64(first) == (page.cursor ?? 0)) }
        _ = canonicalID(query)
    }

    /// A signed media path (`/stream/EXPIRES/SIGNATURE/PATH…`): the signature check and the path's segments.
    public static func mediaLink(_ data: Data) {
        let parts = String(decoding: data, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        if parts.count >= 2 {
            let valid = signer.isValid(expires: parts[0], signature: parts[1], now: now)
            precondition(!valid || parts[1] == signer.signature(expires: Int64(parts[0]) ?? -1), "a forged signature was accepted")
        }
        if let (folder, path) = MediaController.servedPath(Array(parts.dropFirst(2))) {
            precondition(MediaController.servedFolders.contains(folder) && !path.split(separator: "/").contains(".."))
        }
    }

    /// The JSON body of every route that takes one, decoded as the server decodes it, then checked as it checks it.
    public static func json(_ data: Data) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if let signUp = try? decoder.decode(AuthController.SignUp.self, from: data) {
            if let email = try? AuthController.checkedEmail(signUp.email) { precondition(email.utf8.count <= 254 && !email.contains("\0")) }
            if (try? AuthController.checkPassword(signUp.password)) != nil { precondition(!signUp.password.contains("\0")) }
        }
        _ = try? decoder.decode(AuthController.LogIn.self, from: data)
        _ = try? decoder.decode(AuthController.Refresh.self, from: data)
        _ = try? decoder.decode(CommentsController.NewComment.self, from: data)
        _ = try? decoder.decode(CommentsController.CommentEdit.self, from: data)
        _ = try? decoder.decode(CommentsController.NewForum.self, from: data)
        _ = try? decoder.decode(CommentsController.NewThread.self, from: data)
        _ = try? decoder.decode(PlaylistsController.NewPlaylist.self, from: data)
        _ = try? decoder.decode(PlaylistsController.PlaylistChange.self, from: data)
        _ = try? decoder.decode(PlaylistsController.NewEntry.self, from: data)
        _ = try? decoder.decode(PlaylistsController.Order.self, from: data)
        _ = try? decoder.decode(UsersController.ProfileChange.self, from: data)
        _ = try? decoder.decode(PlaybackController.QueueInput.self, from: data)
        _ = try? decoder.decode(PlaybackController.ListenReport.self, from: data)
        _ = try? decoder.decode(ActivityController.MarkRead.self, from: data)
        _ = try? decoder.decode(AppCredentialsController.NewCredential.self, from: data)
        if let license = try? decoder.decode(LicenseController.LicenseRequest.self, from: data) {
            for kid in license.kids {
                guard let keyID = Data(base64URLEncoded: kid) else { continue }
                // What decodes encodes back to the same key id (padding aside).
                precondition(Data(base64URLEncoded: keyID.base64URLEncoded()) == keyID)
            }
        }
    }

    /// A Subsonic request's query and form body (split at the first newline), its format, and an answer carrying
    /// every parameter back: the answer must stay well-formed JSON whatever the text.
    public static func subsonic(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let (query, form) = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init).splitFirst
        guard let parameters = try? SubsonicParameters(query: query, form: form) else { return }
        if let password = parameters.first("p"), password.hasPrefix("enc:"), let clear = SubsonicAuthenticator.hexDecoded(password.dropFirst(4)) {
            precondition(clear.utf8.count * 2 == password.utf8.count - 4, "enc: decoded to the wrong length")
        }
        var echo = SubsonicNode("echo")
        for name in ["id", "u", "t", "s", "p", "query", "c", "callback"] {
            for value in parameters.all(name) { echo.set(name, value) }
        }
        echo.text = parameters.first("f")
        var payload = SubsonicNode("")
        payload.add(echo)
        let format = SubsonicFormat(parameters)
        let answer = SubsonicEnvelope.text(payload, format: format == .xml ? .json : format, serverVersion: "fuzz").body
        var json = Substring(answer)
        if case .jsonp(let callback) = format {
            precondition(json.hasPrefix(callback + "(") && json.hasSuffix(");"), "a JSONP answer not wrapped in its callback")
            json = json.dropFirst(callback.count + 1).dropLast(2)
        }
        precondition((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil, "an answer that is not JSON: \(answer.prefix(200))")
    }

    private static let signer = MediaSigner(secret: "ZnV6emluZy1rZXktZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc=", base: "/stream", lifetime: 3600)
}

extension Array where Element == String {
    /// The first element and the second, either nil when missing.
    fileprivate var splitFirst: (String?, String?) { (first, count > 1 ? self[1] : nil) }
}
