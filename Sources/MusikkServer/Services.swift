import Foundation
import Protection
import PublicationFormat
import Social

/// What buildApplication makes once. `buildRouter` hands each controller only the parts it uses.
struct Services: Sendable {
    let configuration: ServerConfiguration
    let store: SocialStore
    let library: CatalogLibrary
    let tokens: TokenIssuer
    let signer: MediaSigner
    let hub: EventHub
    let limiter: RateLimiter
    let passwords: PasswordHashing
    /// Seals listeners' app passwords for the Subsonic API.
    let sealer: AppPasswordSealer
    /// A bcrypt hash at the configured cost that matches no password: log-ins with unknown emails are checked
    /// against it, so they take as long as those with known ones.
    let decoyHash: String
    /// The protected tier's key-encryption key (`--key-file`); nil when the server licenses nothing.
    var contentKeys: KeyEncryptionKey? = nil

    var links: CatalogLinks { CatalogLinks(library: library, signer: signer, clock: configuration.clock) }
    var subjects: Subjects { Subjects(store: store, links: links) }
    var posting: PostingLimit { PostingLimit(limiter: limiter, perMinute: configuration.postsPerMinute, clock: configuration.clock) }
}

/// The things comments, likes, notifications, the feed and event streams are about (catalog items, playlists,
/// threads): whether a viewer may see one, what it is called, and what an embed of it shows.
struct Subjects: Sendable {
    let store: SocialStore
    let links: CatalogLinks

    /// The name of a subject as `viewer` may see it (a track's or release's title, a playlist's or thread's name), or
    /// nil when it is gone or hidden from them: notifications, the feed and now-playing name what they are about.
    func title(of kind: String, _ id: String, viewer: Int64) async -> String? {
        let snapshot = links.library.snapshot
        switch kind {
        case "track": return snapshot.tracks[id]?.title
        case "release": return canonicalID(id).flatMap { snapshot.releases[$0]?.title }
        case "artist": return canonicalID(id).flatMap { snapshot.artists[$0]?.name }
        case "playlist":
            guard let playlistId = canonicalID(id) else { return nil }
            return try? await store.playlist(playlistId, viewer: viewer).name
        case "thread":
            guard let threadId = canonicalID(id) else { return nil }
            return try? await store.thread(threadId).title
        default: return nil
        }
    }

    /// Notifications or feed entries with their subjects named for the reader, each subject looked up once.
    func titled<Item: NamedSubject>(_ page: Page<Item>, viewer: Int64) async -> Page<Item> {
        var page = page
        var known: [String: String?] = [:]
        for index in page.items.indices {
            let item = page.items[index]
            let key = "\(item.subjectKind):\(item.subjectId)"
            if known[key] == nil { known[key] = .some(await title(of: item.subjectKind, item.subjectId, viewer: viewer)) }
            page.items[index].subjectTitle = known[key] ?? nil
        }
        return page
    }

    /// Feed entries named for the reader, with the tracks a playlist change was about.
    func titledFeed(_ page: Page<Activity>, viewer: Int64) async -> Page<Activity> {
        var page = await titled(page, viewer: viewer)
        let snapshot = links.library.snapshot
        for index in page.items.indices {
            if let itemId = page.items[index].itemId { page.items[index].itemTitle = snapshot.tracks[itemId]?.title }
        }
        return page
    }

    /// What friends play, with each track's title.
    func titled(_ playing: [NowPlaying]) -> [NowPlaying] {
        let snapshot = links.library.snapshot
        return playing.map { item in
            var item = item
            item.trackTitle = snapshot.tracks[item.trackId]?.title
            return item
        }
    }

    /// Checks that a comment subject exists and that the user may see it.
    func checkSubject(_ subject: CommentSubject, _ id: String, viewer: Int64) async throws {
        let snapshot = links.library.snapshot
        switch subject {
        case .track:
            guard snapshot.tracks[id] != nil else { throw APIError.notFound("track \(id)") }
        case .release:
            guard let releaseId = canonicalID(id), snapshot.releases[releaseId] != nil else { throw APIError.notFound("release \(id)") }
        case .playlist:
            guard let playlistId = canonicalID(id), try await store.canSee(playlist: playlistId, viewer: viewer) else {
                throw APIError.notFound("playlist \(id)")
            }
        case .thread:
            guard let threadId = canonicalID(id) else { throw APIError.notFound("thread \(id)") }
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
        let snapshot = links.library.snapshot
        let expires = links.expiry()
        var resolved = Embed(kind: embed.kind, id: embed.id)
        switch embed.kind {
        case .track:
            if let track = snapshot.tracks[embed.id] {
                resolved.item = EmbeddedItem(
                    title: track.title, subtitle: track.artists.map(\.name).joined(separator: ", "),
                    cover: links.coverLink(track.cover, track.coverThumbnails, side: 96, expires: expires), duration: track.duration,
                    trackIds: [track.id], playback: "/api/tracks/\(track.id)/playback")
            }
        case .release:
            if let id = canonicalID(embed.id), let release = snapshot.releases[id] {
                let trackIds = release.tracks.map(\.id).filter { snapshot.tracks[$0] != nil }
                resolved.item = EmbeddedItem(
                    title: release.title, subtitle: release.artist.name,
                    cover: links.coverLink(release.cover?.url, release.cover?.thumbnails, side: 96, expires: expires),
                    duration: trackIds.compactMap { snapshot.tracks[$0]?.duration }.reduce(0, +), trackIds: trackIds,
                    playback: trackIds.first.map { "/api/tracks/\($0)/playback" })
            }
        case .playlist:
            if let id = canonicalID(embed.id), let playlist = try? await store.playlist(id, viewer: viewer) {
                // What a play button can put in the queue, and no more.
                let trackIds = Array(playlist.entries.lazy.map(\.trackId).filter { snapshot.tracks[$0] != nil }.prefix(SocialStore.maxQueueLength))
                resolved.item = EmbeddedItem(
                    title: playlist.name, subtitle: playlist.owner.displayName, cover: nil,
                    duration: trackIds.compactMap { snapshot.tracks[$0]?.duration }.reduce(0, +), trackIds: trackIds,
                    playback: trackIds.first.map { "/api/tracks/\($0)/playback" })
            }
        case .artist:
            // Artists are liked, not embedded: an artist embed resolves to nothing and is refused.
            break
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

/// Something that names a subject by kind and id, and can carry its title (notifications, feed entries).
protocol NamedSubject: Encodable, Sendable {
    var subjectKind: String { get }
    var subjectId: String { get }
    var subjectTitle: String? { get set }
}

extension Social.Notification: NamedSubject {}
extension Activity: NamedSubject {}
