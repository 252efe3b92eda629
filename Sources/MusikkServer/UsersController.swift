import Foundation
import Hummingbird
import Social

/// The signed-in user's account and other users' profiles, follows, playlists, likes and listening.
struct UsersController: Sendable {
    let store: SocialStore
    let subjects: Subjects
    let clock: @Sendable () -> Date

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
        group.get("me", use: me)
        group.patch("me", use: updateMe)
        group.put("me/avatar", use: putAvatar)
        group.get("now-playing", use: friendsNowPlaying)
        group.get("users/:userId", use: profile)
        group.get("users/:userId/avatar", use: getAvatar)
        group.get("users/:userId/followers", use: followers)
        group.get("users/:userId/following", use: following)
        group.put("users/:userId/follow", use: follow)
        group.delete("users/:userId/follow", use: unfollow)
        group.get("users/:userId/playlists", use: playlists)
        group.get("users/:userId/likes", use: likes)
        group.get("users/:userId/listens", use: listens)
        group.get("users/:userId/now-playing", use: nowPlaying)
    }

    @Sendable func me(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<OwnAccount> {
        JSON(try await store.ownAccount(context.user.id))
    }

    @Sendable func friendsNowPlaying(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<[NowPlaying]> {
        JSON(subjects.titled(try await store.friendsNowPlaying(viewer: context.user.id, now: clock())))
    }

    @Sendable func profile(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Profile> {
        JSON(try await store.profile(of: try request.id("userId", context: context, what: "user"), viewer: context.user.id))
    }

    @Sendable func followers(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<UserSummary>> {
        JSON(try await store.followers(of: try request.id("userId", context: context, what: "user"), page: try request.pageRequest()))
    }

    @Sendable func following(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<UserSummary>> {
        JSON(try await store.following(of: try request.id("userId", context: context, what: "user"), page: try request.pageRequest()))
    }

    @Sendable func follow(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        _ = try await store.follow(context.user.id, try request.id("userId", context: context, what: "user"), now: clock())
        return Response(status: .noContent)
    }

    @Sendable func unfollow(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        try await store.unfollow(context.user.id, try request.id("userId", context: context, what: "user"))
        return Response(status: .noContent)
    }

    @Sendable func playlists(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<PlaylistSummary>> {
        JSON(try await store.playlists(
            of: try request.id("userId", context: context, what: "user"), viewer: context.user.id, page: try request.pageRequest()))
    }

    /// `kind=track|release|playlist` narrows the list.
    @Sendable func likes(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<Like>> {
        let kind = try request.uri.queryParameters["kind"].map { text in
            guard let kind = ItemKind(rawValue: String(text)) else { throw APIError.badRequest("kind is track, release, playlist or artist") }
            return kind
        }
        return JSON(try await store.likes(
            of: try request.id("userId", context: context, what: "user"), kind: kind, viewer: context.user.id, page: try request.pageRequest()))
    }

    @Sendable func listens(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<Listen>> {
        let userId = try request.id("userId", context: context, what: "user")
        guard let listens = try await store.listens(of: userId, viewer: context.user.id, page: try request.pageRequest()) else {
            throw APIError(.forbidden, "listening_private", "this user does not share what they listen to with you")
        }
        return JSON(listens)
    }

    @Sendable func nowPlaying(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<NowPlayingAnswer> {
        let userId = try request.id("userId", context: context, what: "user")
        let playing = try await store.nowPlaying(of: userId, viewer: context.user.id, now: clock())
        return JSON(NowPlayingAnswer(nowPlaying: playing.flatMap { subjects.titled([$0]).first }))
    }

    @Sendable func updateMe(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<OwnAccount> {
        let change = try await request.decode(as: ProfileChange.self, context: context)
        return JSON(try await store.updateProfile(
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
        _ = try await store.setAvatar(user.id, mediaType: mediaType, image: bytes)
        return JSON(try await store.ownAccount(user.id))
    }

    @Sendable func getAvatar(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let userId = try request.id("userId", context: context, what: "user")
        guard let avatar = try await store.avatar(of: userId) else { throw APIError.notFound("avatar of user \(userId)") }
        return Response(
            status: .ok, headers: [.contentType: avatar.mediaType, .cacheControl: "private, max-age=86400"],
            body: .init(byteBuffer: ByteBuffer(bytes: avatar.image)))
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
