import Foundation
import Hummingbird
import Social

/// Playlists (create, edit, tracks, order, collaborators) and likes.
struct PlaylistsController: Sendable {
    let services: Services

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
        group.post("playlists") { request, context in
            let input = try await request.decode(as: NewPlaylist.self, context: context)
            let outcome = try await services.store.createPlaylist(
                by: context.user.id, name: input.name, description: input.description ?? "", visibility: input.visibility ?? .private,
                now: services.now)
            return JSON(outcome.value, status: .created)
        }
        group.get("playlists/:playlistId") { request, context in
            JSON(try await services.store.playlist(try request.id("playlistId", context: context, what: "playlist"), viewer: context.user.id))
        }
        group.patch("playlists/:playlistId") { request, context in
            let change = try await request.decode(as: PlaylistChange.self, context: context)
            return try await changed(services.store.updatePlaylist(
                try request.id("playlistId", context: context, what: "playlist"), by: context.user.id, name: change.name,
                description: change.description, visibility: change.visibility, now: services.now))
        }
        group.delete("playlists/:playlistId") { request, context in
            try await services.store.deletePlaylist(try request.id("playlistId", context: context, what: "playlist"), by: context.user.id)
            return Response(status: .noContent)
        }
        group.post("playlists/:playlistId/tracks") { request, context in
            let entry = try await request.decode(as: NewEntry.self, context: context)
            _ = try services.track(entry.trackId)
            return try await changed(services.store.addTrack(
                entry.trackId, to: try request.id("playlistId", context: context, what: "playlist"), at: entry.position,
                by: context.user.id, now: services.now))
        }
        group.delete("playlists/:playlistId/tracks/:entryId") { request, context in
            try await changed(services.store.removeEntry(
                try request.id("entryId", context: context, what: "entry"), from: try request.id("playlistId", context: context, what: "playlist"),
                by: context.user.id, now: services.now))
        }
        group.put("playlists/:playlistId/order") { request, context in
            let order = try await request.decode(as: Order.self, context: context)
            return try await changed(services.store.reorder(
                try request.id("playlistId", context: context, what: "playlist"), entryIds: order.entryIds, by: context.user.id,
                now: services.now))
        }
        group.put("playlists/:playlistId/collaborators/:userId") { request, context in
            try await changed(services.store.addCollaborator(
                try request.id("userId", context: context, what: "user"), to: try request.id("playlistId", context: context, what: "playlist"),
                by: context.user.id, now: services.now))
        }
        group.delete("playlists/:playlistId/collaborators/:userId") { request, context in
            try await changed(services.store.removeCollaborator(
                try request.id("userId", context: context, what: "user"), from: try request.id("playlistId", context: context, what: "playlist"),
                by: context.user.id, now: services.now))
        }

        group.put("likes/:kind/:itemId") { request, context in
            let user = context.user
            let (kind, id) = try await likedItem(context, viewer: user.id)
            _ = try await services.store.like(kind, id, by: user.id, now: services.now)
            return Response(status: .noContent)
        }
        group.delete("likes/:kind/:itemId") { request, context in
            let user = context.user
            let (kind, id) = try await likedItem(context, viewer: user.id)
            try await services.store.unlike(kind, id, by: user.id)
            return Response(status: .noContent)
        }
    }

    private func changed(_ outcome: SocialStore.Outcome<Playlist>) -> JSON<Playlist> {
        return JSON(outcome.value)
    }

    /// The kind and id of a like route, checked against the catalog (tracks, releases) or the viewer's access
    /// (playlists).
    private func likedItem(_ context: AuthenticatedRequestContext, viewer: Int64) async throws -> (ItemKind, String) {
        guard let kind = ItemKind(rawValue: context.parameters.get("kind") ?? "") else {
            throw APIError.notFound("kind \(context.parameters.get("kind") ?? "")")
        }
        let id = context.parameters.get("itemId") ?? ""
        let subject: CommentSubject = switch kind {
        case .track: .track
        case .release: .release
        case .playlist: .playlist
        }
        try await services.checkSubject(subject, id, viewer: viewer)
        return (kind, id)
    }
}
