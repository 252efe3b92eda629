import Foundation

/// What a signed-in account may do beyond listening.
public enum Role: String, Codable, Sendable, CaseIterable {
    case listener
    /// Owns artists in the catalog; followers hear about their new releases.
    case owner
    /// Moderates: may delete any comment, thread or forum.
    case admin
}

/// Who may see what a user is playing now and what they played.
public enum ListeningVisibility: String, Codable, Sendable, CaseIterable {
    case nobody, followers, everyone
}

/// Whether a playlist is listed for everyone or only its owner and collaborators.
public enum PlaylistVisibility: String, Codable, Sendable {
    case `public`, `private`
}

/// Things comments hang off.
public enum CommentSubject: String, Codable, Sendable, CaseIterable {
    case track, release, playlist, thread
}

/// Things that can be liked or embedded in a forum post.
public enum ItemKind: String, Codable, Sendable, CaseIterable {
    case track, release, playlist
    /// Liked (starred) through the Subsonic API; not embeddable in posts.
    case artist
}

/// Why a request to the store failed; the server maps each case to an HTTP status.
public enum SocialError: Error, Equatable, Sendable {
    /// The input breaks a rule (field, what to do).
    case invalid(field: String, message: String)
    case notFound(String)
    case forbidden(String)
    case conflict(String)
}

/// One page of a list that can grow; `nextCursor` is nil on the last page.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Where a page starts (an opaque id from the previous page) and how long it is.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: Int64?

    public init(limit: Int = 50, cursor: Int64? = nil) {
        self.limit = max(1, min(limit, 200))
        self.cursor = cursor
    }

    /// The page of `rows` (fetched with `limit + 1`) and the cursor after it.
    func page<Row, Item>(_ rows: [Row], id: (Row) throws -> Int64, map: (Row) throws -> Item) rethrows -> Page<Item> {
        let items = try rows.prefix(limit).map(map)
        let next = try rows.count > limit ? rows.prefix(limit).last.map { String(try id($0)) } : nil
        return Page(items: items, nextCursor: next)
    }
}

/// A user as shown next to their content.
public struct UserSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var displayName: String
    public var avatarUrl: String?
}

/// A user's public profile.
public struct Profile: Codable, Sendable {
    public var id: Int64
    public var displayName: String
    public var bio: String
    public var avatarUrl: String?
    public var role: Role
    public var followerCount: Int
    public var followingCount: Int
    /// Whether the viewer follows this user.
    public var followedByYou: Bool
    /// Artist ids this user owns (content owners).
    public var ownedArtistIds: [Int64]
    public var createdAt: Date
}

/// The signed-in user's own account, with the settings only they see.
public struct OwnAccount: Codable, Sendable {
    public var profile: Profile
    public var email: String
    public var nowPlayingVisibility: ListeningVisibility
}

/// What login needs to check a password.
public struct Credentials: Sendable {
    public var userId: Int64
    public var passwordHash: String
    public var role: Role
}

/// A playable item referred to from a forum post; `item` is filled by the server from the catalog.
public struct Embed: Codable, Sendable, Equatable {
    public var kind: ItemKind
    public var id: String
    public var item: EmbeddedItem?

    public init(kind: ItemKind, id: String, item: EmbeddedItem? = nil) {
        self.kind = kind
        self.id = id
        self.item = item
    }
}

/// Enough about an embedded item to render and play it.
public struct EmbeddedItem: Codable, Sendable, Equatable {
    public var title: String
    public var subtitle: String?
    public var cover: String?
    public var duration: Double?
    /// Track ids to play, in order.
    public var trackIds: [String]
    /// Where the client gets stream URLs for the first track.
    public var playback: String?

    public init(title: String, subtitle: String?, cover: String?, duration: Double?, trackIds: [String], playback: String?) {
        self.title = title
        self.subtitle = subtitle
        self.cover = cover
        self.duration = duration
        self.trackIds = trackIds
        self.playback = playback
    }
}

/// A comment (or forum post) with its replies nested under it.
public struct Comment: Codable, Sendable {
    public var id: Int64
    public var subjectKind: CommentSubject
    public var subjectId: String
    public var parentId: Int64?
    public var author: UserSummary
    /// Plain text; clients must render it as text. Empty once deleted.
    public var body: String
    public var embeds: [Embed]
    public var createdAt: Date
    public var editedAt: Date?
    public var deleted: Bool
    public var replies: [Comment]
}

public struct Forum: Codable, Sendable {
    public var id: Int64
    public var name: String
    public var description: String
    public var creator: UserSummary
    public var threadCount: Int
    public var createdAt: Date
}

public struct ForumThread: Codable, Sendable {
    public var id: Int64
    public var forumId: Int64
    public var title: String
    public var author: UserSummary
    public var postCount: Int
    public var createdAt: Date
    public var lastPostAt: Date
}

public struct PlaylistEntry: Codable, Sendable {
    public var id: Int64
    public var trackId: String
    public var addedBy: UserSummary
    public var addedAt: Date
}

public struct Playlist: Codable, Sendable {
    public var id: Int64
    public var owner: UserSummary
    public var name: String
    public var description: String
    public var visibility: PlaylistVisibility
    public var collaborators: [UserSummary]
    public var entries: [PlaylistEntry]
    public var likeCount: Int
    /// Whether the user it was read for likes it.
    public var likedByYou: Bool
    public var createdAt: Date
    public var updatedAt: Date
}

/// A playlist in a list (without its entries).
public struct PlaylistSummary: Codable, Sendable {
    public var id: Int64
    public var owner: UserSummary
    public var name: String
    public var visibility: PlaylistVisibility
    public var trackCount: Int
    public var updatedAt: Date
}

public struct Like: Codable, Sendable {
    public var kind: ItemKind
    public var id: String
    public var likedAt: Date
}

public struct Notification: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// Someone replied to my comment.
        case reply
        /// Someone followed me.
        case follow
        /// Someone commented on my playlist.
        case playlistComment = "playlist-comment"
        /// A content owner I follow has a new release.
        case release
    }

    public var id: Int64
    public var kind: Kind
    public var actor: UserSummary?
    public var subjectKind: String
    public var subjectId: String
    public var commentId: Int64?
    public var createdAt: Date
    public var read: Bool
    /// The subject's name as the reader sees it (a playlist's, a release's); filled in by the server, nil when gone.
    public var subjectTitle: String?
}

/// One entry of the feed: something a followed user did.
public struct Activity: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case comment, playlist, like, listen
    }

    public var id: Int64
    public var actor: UserSummary
    public var kind: Kind
    public var subjectKind: String
    public var subjectId: String
    /// A short description ("created", "added a track", the comment's first words).
    public var summary: String
    public var createdAt: Date
    /// The track a playlist change added or removed.
    public var itemId: String?
    /// The subject's and the item's names as the reader sees them; filled in by the server, nil when gone.
    public var subjectTitle: String?
    public var itemTitle: String?
}

/// A user's play queue, shared by all their devices.
public struct PlayQueue: Codable, Sendable, Equatable {
    /// Bumped on every write; a write naming an older version is refused.
    public var version: Int64
    public var trackIds: [String]
    public var currentIndex: Int
    public var positionSeconds: Double
    /// The device that wrote last (clients ignore pushes of their own writes).
    public var device: String
    public var updatedAt: Date?
}

/// What a user is playing, as friends see it.
public struct NowPlaying: Codable, Sendable {
    public var user: UserSummary
    public var trackId: String
    public var positionSeconds: Double
    public var updatedAt: Date
    /// The track's title; filled in by the server from the catalog.
    public var trackTitle: String?
}

/// One counted listen.
public struct Listen: Codable, Sendable {
    public var id: Int64
    public var trackId: String
    public var listenedAt: Date
}

/// A live update, stored so that a reconnecting client can ask for what it missed.
public struct LiveEvent: Codable, Sendable {
    public var id: Int64
    /// The one user it is for, or nil for an event on a subject.
    public var userId: Int64?
    /// `kind:id` of the subject watchers follow (`track:abc`, `thread:7`), or nil.
    public var subject: String?
    public var type: String
    /// JSON text of the payload.
    public var data: String
    /// Whether delivering it needs ``SocialStore/admits(_:viewer:)`` (it is about a playlist, someone's listening, or
    /// is activity only followers see).
    public var restricted: Bool

    public init(id: Int64, userId: Int64?, subject: String?, type: String, data: String, restricted: Bool = false) {
        self.id = id
        self.userId = userId
        self.subject = subject
        self.type = type
        self.data = data
        self.restricted = restricted
    }
}

/// One search hit.
public struct SearchHit: Codable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case track, release, artist, user
    }

    public var kind: Kind
    public var id: String
    public var name: String
    public var context: String
    /// A small cover for a track or release hit; filled in by the server from the catalog.
    public var cover: String?

    public init(kind: Kind, id: String, name: String, context: String) {
        self.kind = kind
        self.id = id
        self.name = name
        self.context = context
    }
}
