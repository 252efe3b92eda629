import Foundation
import Hummingbird
import Protection
import WorkArea

/// The protected tier's keys (`/api/drm/clearkey`): an EME ClearKey licence for the web app and DASH players, and
/// the HLS key URI (`KEYFORMAT="identity"`, the key's 16 bytes). A key goes only to a signed-in listener, for a key
/// id of a track the current publication has (a track taken down gets no more keys), at most `perMinute` requests
/// a minute per listener; every answer is logged, with key ids and never keys.
struct LicenseController: Sendable {
    /// Nil when the server was started without `--key-file`: it then gives no keys.
    let keys: KeyEncryptionKey?
    let links: CatalogLinks
    let limiter: RateLimiter
    let perMinute: Int
    let clock: @Sendable () -> Date

    /// Key ids one request may ask for.
    static let maximumKeyIDs = 16

    /// The EME ClearKey licence request (W3C EME §9.1.3).
    struct LicenseRequest: Decodable {
        var kids: [String]
        var type: String?
    }

    struct License: Encodable, Sendable {
        struct Key: Encodable, Sendable {
            var kty = "oct"
            var kid: String
            var k: String
        }

        var keys: [Key]
        var type: String
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        // The api group is mounted at /api.
        let route = String(LicenseEndpoint.path.dropFirst("/api/".count))
        group.post(RouterPath(route), use: license)
        group.get(RouterPath(route + "/:keyId"), use: identityKey)
    }

    @Sendable func license(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let input = try await request.decode(as: LicenseRequest.self, context: context)
        guard !input.kids.isEmpty, input.kids.count <= Self.maximumKeyIDs else {
            throw APIError.badRequest("kids lists 1 to \(Self.maximumKeyIDs) key ids (base64url, 16 bytes each)")
        }
        guard input.type == nil || input.type == "temporary" else {
            throw APIError.badRequest("type is \"temporary\": Musikk gives no persistent licences")
        }
        var keyIDs: [[UInt8]] = []
        for kid in input.kids {
            guard kid.utf8.count <= 64, let keyID = Data(base64URLEncoded: kid).map(Array.init), keyID.count == 16 else {
                throw APIError.badRequest("kids holds base64url key ids of 16 bytes each, as the EME message gives them")
            }
            keyIDs.append(keyID)
        }
        let granted = try await grant(keyIDs, context: context)
        let license = License(
            keys: granted.map { License.Key(kid: Data($0.keyID).base64URLEncoded(), k: Data($0.key).base64URLEncoded()) },
            type: "temporary"
        )
        var response = try JSON(license).response(from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The HLS key URI: the 16-byte key of `:keyId` (hex).
    @Sendable func identityKey(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        guard let hex = context.parameters.get("keyId"), hex.utf8.count == 32, let keyID = FileDigest.bytes(hex: hex) else {
            throw APIError.badRequest("the key URI ends in a key id: 32 hex digits")
        }
        let granted = try await grant([keyID], context: context)
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: granted[0].key))
        )
    }

    /// The keys of `keyIDs`, when every one is a published track's and the listener is within the rate limit.
    private func grant(_ keyIDs: [[UInt8]], context: AuthenticatedRequestContext) async throws -> [ContentKey] {
        guard let keys else {
            throw APIError(.serviceUnavailable, "no_keys", "this server was started without --key-file, so it cannot license protected tracks")
        }
        let user = context.user
        if let wait = try await limiter.take("licenses:\(user.id)", limit: perMinute, window: 60, now: clock()) {
            context.logger.notice("licence refused: rate limited", metadata: ["user": "\(user.id)"])
            throw APIError(
                .tooManyRequests, "rate_limited", "you asked for keys more than \(perMinute) times a minute; wait a little",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
        let snapshot = links.library.snapshot
        let hexes = keyIDs.map(FileDigest.hex)
        let tracks = hexes.map { snapshot.trackOfKey[$0] }
        guard tracks.allSatisfy({ $0 != nil }) else {
            context.logger.notice("licence refused: unknown key", metadata: ["user": "\(user.id)", "kids": "\(hexes)"])
            throw APIError(.forbidden, "no_access", "no published track has that key id; the track may have been taken down")
        }
        context.logger.info("licence granted", metadata: [
            "user": "\(user.id)", "kids": "\(hexes)", "tracks": "\(tracks.compactMap { $0 })",
        ])
        return keyIDs.map { keys.contentKey(keyID: $0) }
    }
}
