import Foundation
import Hummingbird
import Social

/// Playlists (create, edit, tracks, order, collaborators) and likes.
struct PlaylistsController: Sendable {
    let store: SocialStore
    let links: CatalogLinks
    let subjects: Subjects
    let clock: @Sendable () -> Date

    struct NewPlaylist: Decodable {
        var name: String
        var description: String?
        var visibility: PlaylistVisibility?
    }

    struct PlaylistChange: Decodable {
        var name: String?
        var description: String?
        var visibility: PlaylistVisibility?
    }

    struct NewEntry: Decodable {
        var trackId: String
        var position: Int?
    }

    struct Order: Decodable {
        var entryIds: [Int64]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.post("playlists", use: create)
        group.get("playlists/:playlistId", use: playlist)
        group.patch("playlists/:playlistId", use: update)
        group.delete("playlists/:playlistId", use: delete)
        group.post("playlists/:playlistId/tracks", use: addTrack)
        group.delete("playlists/:playlistId/tracks/:entryId", use: removeEntry)
        group.put("playlists/:playlistId/order", use: reorder)
        group.put("playlists/:playlistId/collaborators/:userId", use: addCollaborator)
        group.delete("playlists/:playlistId/collaborators/:userId", use: removeCollaborator)
        group.put("likes/:kind/:itemId", use: like)
        group.delete("likes/:kind/:itemId", use: unlike)
    }

    @Sendable func create(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        let input = try await request.decode(as: NewPlaylist.self, context: context)
        let outcome = try await store.createPlaylist(
            by: context.user.id, name: input.name, description: input.description ?? "", visibility: input.visibility ?? .private, now: clock())
        return JSON(outcome.value, status: .created)
    }

    @Sendable func playlist(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        JSON(try await store.playlist(try request.id("playlistId", context: context, what: "playlist"), viewer: context.user.id))
    }

    @Sendable func update(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        let change = try await request.decode(as: PlaylistChange.self, context: context)
        return JSON(try await store.updatePlaylist(
            try request.id("playlistId", context: context, what: "playlist"), by: context.user.id, name: change.name,
            description: change.description, visibility: change.visibility, now: clock()).value)
    }

    @Sendable func delete(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        try await store.deletePlaylist(try request.id("playlistId", context: context, what: "playlist"), by: context.user.id)
        return Response(status: .noContent)
    }

    @Sendable func addTrack(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        let entry = try await request.decode(as: NewEntry.self, context: context)
        _ = try links.track(entry.trackId)
        return JSON(try await store.addTrack(
            entry.trackId, to: try request.id("playlistId", context: context, what: "playlist"), at: entry.position, by: context.user.id,
            now: clock()).value)
    }

    @Sendable func removeEntry(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        JSON(try await store.removeEntry(
            try request.id("entryId", context: context, what: "entry"), from: try request.id("playlistId", context: context, what: "playlist"),
            by: context.user.id, now: clock()).value)
    }

    @Sendable func reorder(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        let order = try await request.decode(as: Order.self, context: context)
        return JSON(try await store.reorder(
            try request.id("playlistId", context: context, what: "playlist"), entryIds: order.entryIds, by: context.user.id, now: clock()).value)
    }

    @Sendable func addCollaborator(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        JSON(try await store.addCollaborator(
            try request.id("userId", context: context, what: "user"), to: try request.id("playlistId", context: context, what: "playlist"),
            by: context.user.id, now: clock()).value)
    }

    @Sendable func removeCollaborator(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Playlist> {
        JSON(try await store.removeCollaborator(
            try request.id("userId", context: context, what: "user"), from: try request.id("playlistId", context: context, what: "playlist"),
            by: context.user.id, now: clock()).value)
    }

    @Sendable func like(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let (kind, id) = try await likedItem(context)
        _ = try await store.like(kind, id, by: context.user.id, now: clock())
        return Response(status: .noContent)
    }

    @Sendable func unlike(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let (kind, id) = try await likedItem(context)
        try await store.unlike(kind, id, by: context.user.id)
        return Response(status: .noContent)
    }

    /// The kind and id of a like route, checked against the catalog (tracks, releases) or the viewer's access
    /// (playlists).
    private func likedItem(_ context: AuthenticatedRequestContext) async throws -> (ItemKind, String) {
        guard let kind = ItemKind(rawValue: context.parameters.get("kind") ?? "") else {
            throw APIError.notFound("kind \(context.parameters.get("kind") ?? "")")
        }
        let id = context.parameters.get("itemId") ?? ""
        let subject: CommentSubject
        switch kind {
        case .track: subject = .track
        case .release: subject = .release
        case .playlist: subject = .playlist
        case .artist:
            guard let artistId = canonicalID(id), subjects.links.library.snapshot.artists[artistId] != nil else { throw APIError.notFound("artist \(id)") }
            return (kind, id)
        }
        try await subjects.checkSubject(subject, id, viewer: context.user.id)
        return (kind, id)
    }
}
