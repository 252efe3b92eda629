import Foundation
import GRDB

/// What presenting a refresh token found.
public enum RefreshTokenUse: Sendable, Equatable {
    /// Unused (or just used, within the grace) and unexpired: it is now spent and its successor stored.
    case valid(userId: Int64, familyId: String)
    /// Already spent: someone replayed it, so the whole family is now revoked.
    case reused
    /// Unknown, expired or revoked.
    case invalid
}

extension SocialStore {
    // MARK: Accounts

    /// Creates a listener account; the email must be new.
    public func createAccount(email: String, passwordHash: String, displayName: String, now: Date) async throws -> Int64 {
        let name = try Self.checkedText(displayName, field: "displayName", max: 64)
        return try await writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM user WHERE email = ?)", arguments: [email]) == true {
                throw SocialError.conflict("an account with this email already exists; log in instead")
            }
            try db.execute(
                sql: "INSERT INTO user (email, passwordHash, displayName, createdAt) VALUES (?, ?, ?, ?)",
                arguments: [email, passwordHash, name, now])
            let id = db.lastInsertedRowID
            try Self.indexUser(db, id: id, displayName: name, bio: "")
            return id
        }
    }

    /// The password hash and role of the account with this email, if any.
    public func credentials(email: String) async throws -> Credentials? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT id, passwordHash, role FROM user WHERE email = ?", arguments: [email]).map {
                Credentials(userId: $0["id"], passwordHash: $0["passwordHash"], role: Role(rawValue: $0["role"]) ?? .listener)
            }
        }
    }

    /// The role of a user, or nil when the account no longer exists.
    public func role(of userId: Int64) async throws -> Role? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT role FROM user WHERE id = ?", arguments: [userId]).flatMap(Role.init(rawValue:))
        }
    }

    /// Replaces the password hash of the account with `email` and signs all its sessions out.
    public func resetPassword(email: String, passwordHash: String, now: Date) async throws {
        try await writer.write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM user WHERE email = ?", arguments: [email]) else {
                throw SocialError.notFound("no account has the email \(email)")
            }
            try db.execute(sql: "UPDATE user SET passwordHash = ? WHERE id = ?", arguments: [passwordHash, id])
            try db.execute(sql: "UPDATE refreshToken SET revokedAt = ? WHERE userId = ? AND revokedAt IS NULL", arguments: [now, id])
        }
    }

    /// Makes the account with `email` a content owner of `artistIds`, or an admin.
    public func grant(role: Role, email: String, artistIds: [Int64]) async throws {
        try await writer.write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM user WHERE email = ?", arguments: [email]) else {
                throw SocialError.notFound("no account has the email \(email)")
            }
            try db.execute(sql: "UPDATE user SET role = ? WHERE id = ?", arguments: [role.rawValue, id])
            for artistId in artistIds {
                try db.execute(sql: "INSERT OR REPLACE INTO artistOwner (artistId, userId) VALUES (?, ?)", arguments: [artistId, id])
            }
        }
    }

    // MARK: Refresh tokens

    /// Stores a refresh token by its hash.
    public func storeRefreshToken(hash: String, userId: Int64, familyId: String, expiresAt: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO refreshToken (tokenHash, userId, familyId, expiresAt) VALUES (?, ?, ?, ?)",
                arguments: [hash, userId, familyId, expiresAt])
        }
    }

    /// Spends a refresh token and stores its successor, in one transaction: a token presented again within `grace`
    /// seconds of its first use (two tabs refreshing at once) gets a successor too; later, it revokes the whole
    /// family, successors included (RFC 6819 §5.2.2.3).
    public func rotateRefreshToken(hash: String, successorHash: String, expiresAt: Date, grace: TimeInterval, now: Date) async throws -> RefreshTokenUse {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refreshToken WHERE tokenHash = ?", arguments: [hash]) else {
                return .invalid
            }
            let familyId: String = row["familyId"]
            let userId: Int64 = row["userId"]
            if row["revokedAt"] as Date? != nil { return .invalid }
            if let usedAt = row["usedAt"] as Date?, now.timeIntervalSince(usedAt) > grace {
                try db.execute(sql: "UPDATE refreshToken SET revokedAt = ? WHERE familyId = ?", arguments: [now, familyId])
                return .reused
            }
            guard (row["expiresAt"] as Date) > now else { return .invalid }
            try db.execute(sql: "UPDATE refreshToken SET usedAt = COALESCE(usedAt, ?) WHERE tokenHash = ?", arguments: [now, hash])
            try db.execute(
                sql: "INSERT INTO refreshToken (tokenHash, userId, familyId, expiresAt) VALUES (?, ?, ?, ?)",
                arguments: [successorHash, userId, familyId, expiresAt])
            return .valid(userId: userId, familyId: familyId)
        }
    }

    /// Revokes the family of one of the user's refresh tokens (logout), and forgets expired tokens.
    public func revokeRefreshTokenFamily(hash: String, userId: Int64, now: Date) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE refreshToken SET revokedAt = ? WHERE familyId = (SELECT familyId FROM refreshToken WHERE tokenHash = ? AND userId = ?)",
                arguments: [now, hash, userId])
            try db.execute(sql: "DELETE FROM refreshToken WHERE expiresAt < ?", arguments: [now])
        }
    }

    // MARK: Profiles

    /// A user's profile as `viewerId` sees it.
    public func profile(of userId: Int64, viewer viewerId: Int64) async throws -> Profile {
        try await writer.read { db in try Self.profile(db, userId, viewer: viewerId) }
    }

    static func profile(_ db: Database, _ userId: Int64, viewer viewerId: Int64) throws -> Profile {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM user WHERE id = ?", arguments: [userId]) else {
            throw SocialError.notFound("user \(userId)")
        }
        return Profile(
            id: userId, displayName: row["displayName"], bio: row["bio"],
            avatarUrl: avatarURL(userId: userId, version: row["avatarVersion"], type: row["avatarType"]),
            role: Role(rawValue: row["role"]) ?? .listener,
            followerCount: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM follow WHERE followeeId = ?", arguments: [userId]) ?? 0,
            followingCount: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM follow WHERE followerId = ?", arguments: [userId]) ?? 0,
            followedByYou: try follows(db, follower: viewerId, followee: userId),
            ownedArtistIds: try Int64.fetchAll(db, sql: "SELECT artistId FROM artistOwner WHERE userId = ? ORDER BY artistId", arguments: [userId]),
            createdAt: row["createdAt"])
    }

    /// The signed-in user's account.
    public func ownAccount(_ userId: Int64) async throws -> OwnAccount {
        try await writer.read { db in
            let profile = try Self.profile(db, userId, viewer: userId)
            let row = try Row.fetchOne(db, sql: "SELECT email, nowPlayingVisibility FROM user WHERE id = ?", arguments: [userId])
            return OwnAccount(
                profile: profile, email: row?["email"] ?? "",
                nowPlayingVisibility: ListeningVisibility(rawValue: row?["nowPlayingVisibility"] ?? "") ?? .followers)
        }
    }

    /// Changes the fields given (nil leaves one as it is).
    public func updateProfile(
        _ userId: Int64, displayName: String?, bio: String?, nowPlayingVisibility: ListeningVisibility?
    ) async throws -> OwnAccount {
        let name = try displayName.map { try Self.checkedText($0, field: "displayName", max: 64) }
        let bio = try bio.map { try Self.checkedText($0, field: "bio", min: 0, max: 1000, multiline: true) }
        try await writer.write { db in
            if let name { try db.execute(sql: "UPDATE user SET displayName = ? WHERE id = ?", arguments: [name, userId]) }
            if let bio { try db.execute(sql: "UPDATE user SET bio = ? WHERE id = ?", arguments: [bio, userId]) }
            if let nowPlayingVisibility {
                try db.execute(sql: "UPDATE user SET nowPlayingVisibility = ? WHERE id = ?", arguments: [nowPlayingVisibility.rawValue, userId])
            }
            if let row = try Row.fetchOne(db, sql: "SELECT displayName, bio FROM user WHERE id = ?", arguments: [userId]) {
                try Self.indexUser(db, id: userId, displayName: row["displayName"], bio: row["bio"])
            }
        }
        return try await ownAccount(userId)
    }

    /// Records that the user's avatar (stored by the caller) now has this media type; returns its new version.
    public func setAvatar(_ userId: Int64, mediaType: String) async throws -> Int64 {
        try await writer.write { db in
            try db.execute(sql: "UPDATE user SET avatarType = ?, avatarVersion = avatarVersion + 1 WHERE id = ?", arguments: [mediaType, userId])
            return try Int64.fetchOne(db, sql: "SELECT avatarVersion FROM user WHERE id = ?", arguments: [userId]) ?? 0
        }
    }

    /// The media type of a user's avatar, if they have one.
    public func avatarType(of userId: Int64) async throws -> String? {
        try await writer.read { db in try String.fetchOne(db, sql: "SELECT avatarType FROM user WHERE id = ?", arguments: [userId]) }
    }

    // MARK: Follows

    /// A user hears at most once in this many seconds that the same person followed them.
    static let followNotificationInterval: TimeInterval = 24 * 3600

    /// `followerId` follows `followeeId` (again is fine); the followee is notified the first time.
    public func follow(_ followerId: Int64, _ followeeId: Int64, now: Date) async throws -> Outcome<Void> {
        guard followerId != followeeId else { throw SocialError.invalid(field: "userId", message: "you cannot follow yourself") }
        return try await commit { db in
            guard try Self.userExists(db, followeeId) else { throw SocialError.notFound("user \(followeeId)") }
            try db.execute(
                sql: "INSERT OR IGNORE INTO follow (followerId, followeeId, createdAt) VALUES (?, ?, ?)",
                arguments: [followerId, followeeId, now])
            guard db.changesCount > 0 else { return Outcome(value: (), events: []) }
            // Following again soon after unfollowing does not notify again.
            let notifiedLately = try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS(SELECT 1 FROM notification WHERE userId = ? AND kind = ? AND actorId = ? AND createdAt > ?)
                    """,
                arguments: [followeeId, Notification.Kind.follow.rawValue, followerId, now.addingTimeInterval(-Self.followNotificationInterval)]) ?? false
            guard !notifiedLately else { return Outcome(value: (), events: []) }
            let event = try Self.notify(
                db, userId: followeeId, kind: .follow, actorId: followerId, subjectKind: "user", subjectId: String(followerId), now: now)
            return Outcome(value: (), events: [event])
        }
    }

    public func unfollow(_ followerId: Int64, _ followeeId: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM follow WHERE followerId = ? AND followeeId = ?", arguments: [followerId, followeeId])
        }
    }

    /// Who follows `userId`, most recent first.
    public func followers(of userId: Int64, page: PageRequest) async throws -> Page<UserSummary> {
        try await followList(userId, page: page, selecting: "followerId", matching: "followeeId")
    }

    /// Whom `userId` follows, most recent first.
    public func following(of userId: Int64, page: PageRequest) async throws -> Page<UserSummary> {
        try await followList(userId, page: page, selecting: "followeeId", matching: "followerId")
    }

    private func followList(_ userId: Int64, page: PageRequest, selecting: String, matching: String) async throws -> Page<UserSummary> {
        try await writer.read { db in
            guard try Self.userExists(db, userId) else { throw SocialError.notFound("user \(userId)") }
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid, \(selecting) AS other FROM follow WHERE \(matching) = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?",
                arguments: [userId, page.cursor ?? Int64.max, page.limit + 1])
            let users = try Self.summaries(db, rows.map { $0["other"] as Int64 })
            return try page.page(rows, id: { $0["rowid"] }) { row in
                guard let user = users[row["other"]] else { throw SocialError.notFound("user") }
                return user
            }
        }
    }
}
