import Foundation

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
        return try await storage.write { db in
            if try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM \"user\" WHERE lower(email) = lower(?))", [email]) == true {
                throw SocialError.conflict("an account with this email already exists; log in instead")
            }
            let id = try db.insert("INSERT INTO \"user\" (email, passwordHash, displayName, createdAt) VALUES (?, ?, ?, ?)", [email, passwordHash, name, now])
            try Self.indexUser(db, id: id, displayName: name, bio: "")
            return id
        }
    }

    /// The password hash and role of the account with this email, if any.
    public func credentials(email: String) async throws -> Credentials? {
        try await storage.read { db in
            try db.fetchOne("SELECT id, passwordHash, role FROM \"user\" WHERE lower(email) = lower(?)", [email]).map {
                try Credentials(userId: $0["id"], passwordHash: $0["passwordHash"], role: Role(rawValue: $0["role"]) ?? .listener)
            }
        }
    }

    /// The role of a user, or nil when the account no longer exists.
    public func role(of userId: Int64) async throws -> Role? {
        try await storage.read { db in
            try db.value(as: String.self, "SELECT role FROM \"user\" WHERE id = ?", [userId]).flatMap(Role.init(rawValue:))
        }
    }

    /// Replaces the password hash of the account with `email` and signs all its sessions out.
    public func resetPassword(email: String, passwordHash: String, now: Date) async throws {
        try await storage.write { db in
            guard let id = try db.value(as: Int64.self, "SELECT id FROM \"user\" WHERE lower(email) = lower(?)", [email]) else {
                throw SocialError.notFound("no account has the email \(email)")
            }
            try db.execute("UPDATE \"user\" SET passwordHash = ? WHERE id = ?", [passwordHash, id])
            try db.execute("UPDATE refreshToken SET revokedAt = ? WHERE userId = ? AND revokedAt IS NULL", [now, id])
        }
    }

    /// Makes the account with `email` a content owner of `artistIds`, or an admin.
    public func grant(role: Role, email: String, artistIds: [Int64]) async throws {
        try await storage.write { db in
            guard let id = try db.value(as: Int64.self, "SELECT id FROM \"user\" WHERE lower(email) = lower(?)", [email]) else {
                throw SocialError.notFound("no account has the email \(email)")
            }
            try db.execute("UPDATE \"user\" SET role = ? WHERE id = ?", [role.rawValue, id])
            for artistId in artistIds {
                try db.execute(
                    "INSERT INTO artistOwner (artistId, userId) VALUES (?, ?) ON CONFLICT (artistId) DO UPDATE SET userId = excluded.userId", [artistId, id])
            }
        }
    }

    // MARK: Refresh tokens

    /// Stores a refresh token by its hash.
    public func storeRefreshToken(hash: String, userId: Int64, familyId: String, expiresAt: Date) async throws {
        try await storage.write { db in
            try db.execute("INSERT INTO refreshToken (tokenHash, userId, familyId, expiresAt) VALUES (?, ?, ?, ?)", [hash, userId, familyId, expiresAt])
        }
    }

    /// Spends a refresh token and stores its successor, in one transaction: a token presented again within `grace`
    /// seconds of its first use (two tabs refreshing at once) gets a successor too; later, it revokes the whole
    /// family, successors included (RFC 6819 §5.2.2.3).
    public func rotateRefreshToken(hash: String, successorHash: String, expiresAt: Date, grace: TimeInterval, now: Date) async throws -> RefreshTokenUse {
        try await storage.write { db in
            guard let row = try db.fetchOne("SELECT * FROM refreshToken WHERE tokenHash = ?", [hash]) else {
                return .invalid
            }
            let familyId: String = try row["familyId"]
            let userId: Int64 = try row["userId"]
            if try row["revokedAt"] as Date? != nil { return .invalid }
            if let usedAt = try row["usedAt"] as Date?, now.timeIntervalSince(usedAt) > grace {
                try db.execute("UPDATE refreshToken SET revokedAt = ? WHERE familyId = ?", [now, familyId])
                return .reused
            }
            guard try (row["expiresAt"] as Date) > now else { return .invalid }
            try db.execute("UPDATE refreshToken SET usedAt = COALESCE(usedAt, ?) WHERE tokenHash = ?", [now, hash])
            try db.execute("INSERT INTO refreshToken (tokenHash, userId, familyId, expiresAt) VALUES (?, ?, ?, ?)", [successorHash, userId, familyId, expiresAt])
            return .valid(userId: userId, familyId: familyId)
        }
    }

    /// Revokes the family of one of the user's refresh tokens (logout), and forgets expired tokens.
    public func revokeRefreshTokenFamily(hash: String, userId: Int64, now: Date) async throws {
        try await storage.write { db in
            try db.execute("UPDATE refreshToken SET revokedAt = ? WHERE familyId = (SELECT familyId FROM refreshToken WHERE tokenHash = ? AND userId = ?)", [now, hash, userId])
            try db.execute("DELETE FROM refreshToken WHERE expiresAt < ?", [now])
        }
    }

    // MARK: Profiles

    /// A user's profile as `viewerId` sees it.
    public func profile(of userId: Int64, viewer viewerId: Int64) async throws -> Profile {
        try await storage.read { db in try Self.profile(db, userId, viewer: viewerId) }
    }

    static func profile(_ db: any SocialSession, _ userId: Int64, viewer viewerId: Int64) throws -> Profile {
        guard let row = try db.fetchOne("SELECT * FROM \"user\" WHERE id = ?", [userId]) else {
            throw SocialError.notFound("user \(userId)")
        }
        return try Profile(
            id: userId, displayName: row["displayName"], bio: row["bio"],
            avatarUrl: avatarURL(userId: userId, version: row["avatarVersion"], type: row["avatarType"]),
            role: Role(rawValue: row["role"]) ?? .listener,
            followerCount: try db.value(as: Int.self, "SELECT COUNT(*) FROM follow WHERE followeeId = ?", [userId]) ?? 0,
            followingCount: try db.value(as: Int.self, "SELECT COUNT(*) FROM follow WHERE followerId = ?", [userId]) ?? 0,
            followedByYou: try follows(db, follower: viewerId, followee: userId),
            ownedArtistIds: try db.values(as: Int64.self, "SELECT artistId FROM artistOwner WHERE userId = ? ORDER BY artistId", [userId]),
            createdAt: row["createdAt"])
    }

    /// The signed-in user's account.
    public func ownAccount(_ userId: Int64) async throws -> OwnAccount {
        try await storage.read { db in
            let profile = try Self.profile(db, userId, viewer: userId)
            let row = try db.fetchOne("SELECT email, nowPlayingVisibility FROM \"user\" WHERE id = ?", [userId])
            return try OwnAccount(
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
        try await storage.write { db in
            if let name { try db.execute("UPDATE \"user\" SET displayName = ? WHERE id = ?", [name, userId]) }
            if let bio { try db.execute("UPDATE \"user\" SET bio = ? WHERE id = ?", [bio, userId]) }
            if let nowPlayingVisibility {
                try db.execute("UPDATE \"user\" SET nowPlayingVisibility = ? WHERE id = ?", [nowPlayingVisibility.rawValue, userId])
            }
            if let row = try db.fetchOne("SELECT displayName, bio FROM \"user\" WHERE id = ?", [userId]) {
                try Self.indexUser(db, id: userId, displayName: row["displayName"], bio: row["bio"])
            }
        }
        return try await ownAccount(userId)
    }

    /// Stores the user's avatar (an image the caller checked) with its media type; returns its new version. It
    /// lives in the store, so every instance serves it.
    public func setAvatar(_ userId: Int64, mediaType: String, image: [UInt8]) async throws -> Int64 {
        try await storage.write { db in
            try db.execute(
                "INSERT INTO avatar (userId, image) VALUES (?, ?) ON CONFLICT (userId) DO UPDATE SET image = excluded.image", [userId, image])
            try db.execute("UPDATE \"user\" SET avatarType = ?, avatarVersion = avatarVersion + 1 WHERE id = ?", [mediaType, userId])
            return try db.value(as: Int64.self, "SELECT avatarVersion FROM \"user\" WHERE id = ?", [userId]) ?? 0
        }
    }

    /// A user's avatar and its media type, if they have one.
    public func avatar(of userId: Int64) async throws -> (mediaType: String, image: [UInt8])? {
        try await storage.read { db in
            guard let row = try db.fetchOne(
                "SELECT u.avatarType, a.image FROM \"user\" u JOIN avatar a ON a.userId = u.id WHERE u.id = ? AND u.avatarType IS NOT NULL", [userId])
            else { return nil }
            return (try row["avatarType"], try row["image"])
        }
    }

    /// Users with an avatar type but no stored image: avatars an earlier version kept as files, to move in.
    public func usersWithAvatarFiles() async throws -> [Int64] {
        try await storage.read { db in
            try db.fetchAll(
                "SELECT id FROM \"user\" u WHERE avatarType IS NOT NULL AND NOT EXISTS (SELECT 1 FROM avatar a WHERE a.userId = u.id) ORDER BY id", []
            ).map { try $0["id"] }
        }
    }

    /// Stores an avatar an earlier version kept as a file, leaving its media type and version as they were.
    public func moveInAvatar(_ userId: Int64, image: [UInt8]) async throws {
        try await storage.write { db in
            try db.execute("INSERT INTO avatar (userId, image) VALUES (?, ?) ON CONFLICT (userId) DO NOTHING", [userId, image])
        }
    }

    // MARK: Follows

    /// A user hears at most once in this many seconds that the same person followed them.
    static let followNotificationInterval: TimeInterval = 24 * 3600

    /// `followerId` follows `followeeId` (again is fine); the followee is notified the first time.
    public func follow(_ followerId: Int64, _ followeeId: Int64, now: Date) async throws -> Outcome<Void> {
        guard followerId != followeeId else { throw SocialError.invalid(field: "userId", message: "you cannot follow yourself") }
        return try await commit { db in
            guard try Self.userExists(db, followeeId) else { throw SocialError.notFound("user \(followeeId)") }
            let added = try db.execute(
                "INSERT INTO follow (followerId, followeeId, createdAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [followerId, followeeId, now])
            guard added > 0 else { return Outcome(value: (), events: []) }
            // Following again soon after unfollowing does not notify again.
            let notifiedLately = try db.value(as: Bool.self, """
                    SELECT EXISTS(SELECT 1 FROM notification WHERE userId = ? AND kind = ? AND actorId = ? AND createdAt > ?)
                    """, [followeeId, Notification.Kind.follow.rawValue, followerId, now.addingTimeInterval(-Self.followNotificationInterval)]) ?? false
            guard !notifiedLately else { return Outcome(value: (), events: []) }
            let event = try Self.notify(
                db, userId: followeeId, kind: .follow, actorId: followerId, subjectKind: "user", subjectId: String(followerId), now: now)
            return Outcome(value: (), events: [event])
        }
    }

    public func unfollow(_ followerId: Int64, _ followeeId: Int64) async throws {
        try await storage.write { db in
            try db.execute("DELETE FROM follow WHERE followerId = ? AND followeeId = ?", [followerId, followeeId])
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
        try await storage.read { db in
            guard try Self.userExists(db, userId) else { throw SocialError.notFound("user \(userId)") }
            let rows = try db.fetchAll("SELECT rowid, \(selecting) AS other FROM follow WHERE \(matching) = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?", [userId, page.cursor ?? Int64.max, page.limit + 1])
            let users = try Self.summaries(db, rows.map { try $0["other"] as Int64 })
            return try page.page(rows, id: { try $0["rowid"] }) { row in
                guard let user = try users[row["other"]] else { throw SocialError.notFound("user") }
                return user
            }
        }
    }
}
