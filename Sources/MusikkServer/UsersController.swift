import Foundation
import Hummingbird
import Social

/// The signed-in user's account and other users' profiles, follows, playlists, likes and listening.
struct UsersController: Sendable {
    let services: Services

    struct ProfileChange: Decodable {
        var displayName: String?
        var bio: String?
        var nowPlayingVisibility: ListeningVisibility?
    }

    /// The answer of endpoints that respect listening privacy: `visible` is false when the user's setting hides it.
    struct NowPlayingAnswer: Encodable, Sendable {
        var nowPlaying: NowPlaying?
    }

    static let avatarTypes = ["image/png", "image/jpeg", "image/webp"]
    static let maxAvatarBytes = 1024 * 1024

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.get("me") { _, context in JSON(try await services.store.ownAccount(context.user.id)) }
        group.patch("me", use: updateMe)
        group.put("me/avatar", use: putAvatar)
        group.get("now-playing") { _, context in
            JSON(services.titled(try await services.store.friendsNowPlaying(viewer: context.user.id, now: services.now)))
        }
        group.get("users/:userId") { request, context in
            JSON(try await services.store.profile(of: try request.id("userId", context: context, what: "user"), viewer: context.user.id))
        }
        group.get("users/:userId/avatar", use: getAvatar)
        group.get("users/:userId/followers") { request, context in
            JSON(try await services.store.followers(of: try request.id("userId", context: context, what: "user"), page: try request.pageRequest()))
        }
        group.get("users/:userId/following") { request, context in
            JSON(try await services.store.following(of: try request.id("userId", context: context, what: "user"), page: try request.pageRequest()))
        }
        group.put("users/:userId/follow") { request, context in
            _ = try await services.store.follow(
                context.user.id, try request.id("userId", context: context, what: "user"), now: services.now)
            return Response(status: .noContent)
        }
        group.delete("users/:userId/follow") { request, context in
            try await services.store.unfollow(context.user.id, try request.id("userId", context: context, what: "user"))
            return Response(status: .noContent)
        }
        group.get("users/:userId/playlists") { request, context in
            JSON(try await services.store.playlists(
                of: try request.id("userId", context: context, what: "user"), viewer: context.user.id, page: try request.pageRequest()))
        }
        group.get("users/:userId/likes") { request, context in
            let kind = try request.uri.queryParameters["kind"].map { text in
                guard let kind = ItemKind(rawValue: String(text)) else { throw APIError.badRequest("kind is track, release or playlist") }
                return kind
            }
            return JSON(try await services.store.likes(
                of: try request.id("userId", context: context, what: "user"), kind: kind, viewer: context.user.id,
                page: try request.pageRequest()))
        }
        group.get("users/:userId/listens") { request, context in
            let userId = try request.id("userId", context: context, what: "user")
            guard let listens = try await services.store.listens(of: userId, viewer: context.user.id, page: try request.pageRequest()) else {
                throw APIError(.forbidden, "listening_private", "this user does not share what they listen to with you")
            }
            return JSON(listens)
        }
        group.get("users/:userId/now-playing") { request, context in
            let userId = try request.id("userId", context: context, what: "user")
            let playing = try await services.store.nowPlaying(of: userId, viewer: context.user.id, now: services.now)
            return JSON(NowPlayingAnswer(nowPlaying: playing.flatMap { services.titled([$0]).first }))
        }
    }

    @Sendable func updateMe(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<OwnAccount> {
        let change = try await request.decode(as: ProfileChange.self, context: context)
        return JSON(try await services.store.updateProfile(
            context.user.id, displayName: change.displayName, bio: change.bio, nowPlayingVisibility: change.nowPlayingVisibility))
    }

    /// Stores an avatar sent as the raw body with its image media type (PNG, JPEG or WebP, at most 1 MiB).
    @Sendable func putAvatar(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<OwnAccount> {
        let user = context.user
        let mediaType = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard Self.avatarTypes.contains(mediaType) else {
            throw APIError(.unsupportedMediaType, "unsupported_image", "send the avatar as image/png, image/jpeg or image/webp")
        }
        let body = try await request.body.collect(upTo: Self.maxAvatarBytes)
        let bytes = Array(body.readableBytesView)
        guard Self.looksLike(mediaType, bytes) else {
            throw APIError(.unprocessableContent, "invalid_image", "the body is not a \(mediaType) image")
        }
        let file = services.avatars.appendingPathComponent(String(user.id))
        try FileManager.default.createDirectory(at: services.avatars, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data(bytes).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        _ = try await services.store.setAvatar(user.id, mediaType: mediaType)
        return JSON(try await services.store.ownAccount(user.id))
    }

    @Sendable func getAvatar(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let userId = try request.id("userId", context: context, what: "user")
        guard let mediaType = try await services.store.avatarType(of: userId),
              let data = FileManager.default.contents(atPath: services.avatars.appendingPathComponent(String(userId)).path)
        else { throw APIError.notFound("avatar of user \(userId)") }
        return Response(
            status: .ok, headers: [.contentType: mediaType, .cacheControl: "private, max-age=86400"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Checks the file signature, so that nothing but an image is served back with an image type.
    static func looksLike(_ mediaType: String, _ bytes: [UInt8]) -> Bool {
        switch mediaType {
        case "image/png": bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case "image/jpeg": bytes.starts(with: [0xFF, 0xD8, 0xFF])
        case "image/webp": bytes.count > 12 && bytes.starts(with: Array("RIFF".utf8)) && Array(bytes[8..<12]) == Array("WEBP".utf8)
        default: false
        }
    }
}
