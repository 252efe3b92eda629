import Foundation
import Social

/// What the route handlers share.
struct Services: Sendable {
    let configuration: ServerConfiguration
    let store: SocialStore
    let library: CatalogLibrary
    let tokens: TokenIssuer
    let signer: MediaSigner
    let hub: EventHub
    let limiter: RateLimiter
    /// Where avatars are kept (`DATA_DIR/avatars`).
    let avatars: URL

    var now: Date { configuration.clock() }

    /// Pushes stored events to the connected streams.
    func push(_ events: [LiveEvent]) {
        hub.publish(events)
    }

    /// A track of the catalog, or 404.
    func track(_ id: String) throws -> CatalogSnapshot.Track {
        guard let track = library.snapshot.tracks[id] else { throw APIError.notFound("track \(id)") }
        return track
    }

    /// Checks that a comment subject exists and that the user may see it.
    func checkSubject(_ subject: CommentSubject, _ id: String, viewer: Int64) async throws {
        let snapshot = library.snapshot
        switch subject {
        case .track:
            guard snapshot.tracks[id] != nil else { throw APIError.notFound("track \(id)") }
        case .release:
            guard let releaseId = Int64(id), snapshot.releases[releaseId] != nil else { throw APIError.notFound("release \(id)") }
        case .playlist:
            guard let playlistId = Int64(id), try await store.canSee(playlist: playlistId, viewer: viewer) else {
                throw APIError.notFound("playlist \(id)")
            }
        case .thread:
            guard let threadId = Int64(id) else { throw APIError.notFound("thread \(id)") }
            _ = try await store.thread(threadId)
        }
    }

    /// Checks that each embedded item exists and is visible to the author.
    func checkEmbeds(_ embeds: [Embed], viewer: Int64) async throws {
        for embed in embeds {
            guard try await resolve(embed, viewer: viewer).item != nil else {
                throw APIError(.unprocessableContent, "invalid_embeds", "the embedded \(embed.kind.rawValue) \(embed.id) does not exist")
            }
        }
    }

    /// Fills in what a client needs to render and play an embedded item (nil when it is gone or private).
    func resolve(_ embed: Embed, viewer: Int64) async throws -> Embed {
        let snapshot = library.snapshot
        let expires = signer.expiry(now: now)
        var resolved = Embed(kind: embed.kind, id: embed.id)
        switch embed.kind {
        case .track:
            if let track = snapshot.tracks[embed.id] {
                resolved.item = EmbeddedItem(
                    title: track.title, subtitle: track.artists.map(\.name).joined(separator: ", "),
                    cover: track.cover.map { signer.url(for: $0, expires: expires) }, durationSeconds: track.duration,
                    trackIds: [track.id], playback: "/api/tracks/\(track.id)/playback")
            }
        case .release:
            if let id = Int64(embed.id), let release = snapshot.releases[id] {
                let trackIds = release.tracks.map(\.id).filter { snapshot.tracks[$0] != nil }
                resolved.item = EmbeddedItem(
                    title: release.title, subtitle: release.artist.name, cover: release.cover.map { signer.url(for: $0.url, expires: expires) },
                    durationSeconds: trackIds.compactMap { snapshot.tracks[$0]?.duration }.reduce(0, +), trackIds: trackIds,
                    playback: trackIds.first.map { "/api/tracks/\($0)/playback" })
            }
        case .playlist:
            if let id = Int64(embed.id), let playlist = try? await store.playlist(id, viewer: viewer) {
                let trackIds = playlist.entries.map(\.trackId).filter { snapshot.tracks[$0] != nil }
                resolved.item = EmbeddedItem(
                    title: playlist.name, subtitle: playlist.owner.displayName, cover: nil,
                    durationSeconds: trackIds.compactMap { snapshot.tracks[$0]?.duration }.reduce(0, +), trackIds: trackIds,
                    playback: trackIds.first.map { "/api/tracks/\($0)/playback" })
            }
        }
        return resolved
    }

    /// A comment with its embeds (and its replies' embeds) resolved for the viewer.
    func resolved(_ comment: Comment, viewer: Int64) async throws -> Comment {
        var comment = comment
        var embeds: [Embed] = []
        for embed in comment.embeds { embeds.append(try await resolve(embed, viewer: viewer)) }
        comment.embeds = embeds
        var replies: [Comment] = []
        for reply in comment.replies { replies.append(try await resolved(reply, viewer: viewer)) }
        comment.replies = replies
        return comment
    }
}
