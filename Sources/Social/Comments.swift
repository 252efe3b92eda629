import Foundation

extension SocialStore {
    /// Replies a top-level comment takes (its whole conversation), so that a page of comments stays bounded.
    public static let maxReplies = 200

    /// Adds a comment (or forum post) on a subject the caller has checked exists and is visible. Notifies the author
    /// of the parent comment (a reply) and the owner of a commented playlist; pushes it to the subject's watchers
    /// and to the author's followers.
    public func addComment(
        by authorId: Int64, on subject: CommentSubject, id subjectId: String, parentId: Int64?, body: String, embeds: [Embed], now: Date
    ) async throws -> Outcome<Comment> {
        let text = try Self.checkedText(body, field: "body", max: 5000, multiline: true)
        guard embeds.count <= 10 else { throw SocialError.invalid(field: "embeds", message: "a post embeds at most 10 items") }
        return try await commit { db in
            try Self.insertComment(db, by: authorId, on: subject, id: subjectId, parentId: parentId, text: text, embeds: embeds, now: now)
        }
    }

    /// Stores a checked comment with the events it raises, inside the caller's transaction.
    private static func insertComment(
        _ db: any SocialSession, by authorId: Int64, on subject: CommentSubject, id subjectId: String, parentId: Int64?, text: String, embeds: [Embed],
        now: Date
    ) throws -> Outcome<Comment> {
        let storedEmbeds = embeds.map { Embed(kind: $0.kind, id: $0.id) }
        let embedText = String(decoding: try Self.jsonEncoder.encode(storedEmbeds), as: UTF8.self)
        var rootId: Int64?
        var parentAuthor: Int64?
        if let parentId {
            guard let parent = try db.fetchOne("SELECT authorId, rootId, subjectKind, subjectId FROM comment WHERE id = ?", [parentId]),
                try parent["subjectKind"] == subject.rawValue, try parent["subjectId"] == subjectId
            else {
                throw SocialError.invalid(field: "parentId", message: "comment \(parentId) is not on this \(subject.rawValue)")
            }
            rootId = try (parent["rootId"] as Int64?) ?? parentId
            parentAuthor = try parent["authorId"]
            let replies = try db.value(as: Int.self, "SELECT COUNT(*) FROM comment WHERE rootId = ?", [rootId]) ?? 0
            guard replies < Self.maxReplies else {
                throw SocialError.invalid(field: "parentId", message: "this conversation has \(Self.maxReplies) replies, the most it takes; start a new comment")
            }
        }
        let id = try db.insert("""
                INSERT INTO comment (subjectKind, subjectId, parentId, rootId, authorId, body, embeds, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [subject.rawValue, subjectId, parentId, rootId, authorId, text, embedText, now])
        let comment = Comment(
            id: id, subjectKind: subject, subjectId: subjectId, parentId: parentId, author: try Self.summary(db, authorId),
            body: text, embeds: storedEmbeds, createdAt: now, editedAt: nil, deleted: false, replies: [])

        var events = [try Self.storeEvent(
            db, subject: "\(subject.rawValue):\(subjectId)", type: "comment", payload: comment, audience: .about(subject.rawValue, subjectId), now: now)]
        if let parentAuthor, parentAuthor != authorId {
            events.append(try Self.notify(
                db, userId: parentAuthor, kind: .reply, actorId: authorId, subjectKind: subject.rawValue, subjectId: subjectId,
                commentId: id, now: now))
        }
        if subject == .playlist, let owner = try db.value(as: Int64.self, "SELECT ownerId FROM playlist WHERE id = ?", [Int64(subjectId)]),
            owner != authorId, owner != parentAuthor
        {
            events.append(try Self.notify(
                db, userId: owner, kind: .playlistComment, actorId: authorId, subjectKind: subject.rawValue, subjectId: subjectId,
                commentId: id, now: now))
        }
        events += try Self.recordActivity(
            db, actorId: authorId, kind: .comment, subjectKind: subject.rawValue, subjectId: subjectId, summary: Self.excerpt(text), now: now)
        return Outcome(value: comment, events: events)
    }

    /// The comments on a subject: a page of top-level comments, newest first (oldest first with `oldestFirst`), each
    /// with all its replies nested oldest first. With `onlyFollowedBy`, a flat page of the comments written by people
    /// that user follows.
    public func comments(
        on subject: CommentSubject, id subjectId: String, page: PageRequest, onlyFollowedBy: Int64? = nil, oldestFirst: Bool = false
    ) async throws -> Page<Comment> {
        try await storage.read { db in
            if let follower = onlyFollowedBy {
                let rows = try db.fetchAll("""
                        SELECT * FROM comment WHERE subjectKind = ? AND subjectId = ? AND id < ? AND deletedAt IS NULL
                        AND authorId IN (SELECT followeeId FROM follow WHERE followerId = ?) ORDER BY id DESC LIMIT ?
                        """, [subject.rawValue, subjectId, page.cursor ?? Int64.max, follower, page.limit + 1])
                let authors = try Self.summaries(db, rows.map { try $0["authorId"] as Int64 })
                return try page.page(rows, id: { try $0["id"] }) { try Self.comment(from: $0, authors: authors) }
            }
            let after: Int64 = page.cursor ?? (oldestFirst ? 0 : Int64.max)
            let roots = try db.fetchAll("SELECT * FROM comment WHERE subjectKind = ? AND subjectId = ? AND rootId IS NULL AND "
                    + (oldestFirst ? "id > ? ORDER BY id LIMIT ?" : "id < ? ORDER BY id DESC LIMIT ?"), [subject.rawValue, subjectId, after, page.limit + 1])
            let rootIds = try roots.prefix(page.limit).map { try $0["id"] as Int64 }
            let replies = rootIds.isEmpty ? [] : try db.fetchAll("SELECT * FROM comment WHERE rootId IN (\(placeholders(rootIds.count))) ORDER BY id", SQLArguments(rootIds.map(\.sqlValue)))
            let authors = try Self.summaries(db, (roots + replies).map { try $0["authorId"] as Int64 })
            var children: [Int64: [Comment]] = [:]
            for row in replies {
                let reply = try Self.comment(from: row, authors: authors)
                children[reply.parentId ?? 0, default: []].append(reply)
            }
            func nest(_ comment: Comment) -> Comment {
                var comment = comment
                comment.replies = (children[comment.id] ?? []).map(nest)
                return comment
            }
            return try page.page(roots, id: { try $0["id"] }) { nest(try Self.comment(from: $0, authors: authors)) }
        }
    }

    /// One comment without its replies.
    public func comment(_ id: Int64) async throws -> Comment {
        try await storage.read { db in try Self.comment(db, id) }
    }

    /// Replaces the text of one's own comment.
    public func editComment(_ id: Int64, by userId: Int64, body: String, now: Date) async throws -> Outcome<Comment> {
        let text = try Self.checkedText(body, field: "body", max: 5000, multiline: true)
        return try await commit { db in
            let existing = try Self.comment(db, id)
            guard existing.author.id == userId else { throw SocialError.forbidden("only its author can edit comment \(id)") }
            guard !existing.deleted else { throw SocialError.conflict("comment \(id) was deleted") }
            try db.execute("UPDATE comment SET body = ?, editedAt = ? WHERE id = ?", [text, now, id])
            let comment = try Self.comment(db, id)
            let event = try Self.storeEvent(
                db, subject: "\(comment.subjectKind.rawValue):\(comment.subjectId)", type: "comment-updated", payload: comment,
                audience: .about(comment.subjectKind.rawValue, comment.subjectId), now: now)
            return Outcome(value: comment, events: [event])
        }
    }

    /// Deletes one's own comment (an admin may delete any). Its replies stay, under a "deleted" placeholder.
    public func deleteComment(_ id: Int64, by userId: Int64, asAdmin: Bool, now: Date) async throws -> Outcome<Void> {
        try await commit { db in
            let existing = try Self.comment(db, id)
            guard existing.author.id == userId || asAdmin else { throw SocialError.forbidden("only its author can delete comment \(id)") }
            try db.execute("UPDATE comment SET body = '', embeds = '[]', deletedAt = ? WHERE id = ?", [now, id])
            let comment = try Self.comment(db, id)
            let event = try Self.storeEvent(
                db, subject: "\(comment.subjectKind.rawValue):\(comment.subjectId)", type: "comment-updated", payload: comment,
                audience: .about(comment.subjectKind.rawValue, comment.subjectId), now: now)
            return Outcome(value: (), events: [event])
        }
    }

    static func comment(_ db: any SocialSession, _ id: Int64) throws -> Comment {
        guard let row = try db.fetchOne("SELECT * FROM comment WHERE id = ?", [id]) else {
            throw SocialError.notFound("comment \(id)")
        }
        return try comment(from: row, authors: summaries(db, [row["authorId"] as Int64]))
    }

    static func comment(from row: SQLRow, authors: [Int64: UserSummary]) throws -> Comment {
        let authorId: Int64 = try row["authorId"]
        guard let author = authors[authorId], let subject = try CommentSubject(rawValue: row["subjectKind"]) else {
            throw SocialError.notFound("comment \((try? row["id"] as Int64) ?? 0)")
        }
        let embeds = try JSONDecoder().decode([Embed].self, from: Data((row["embeds"] as String).utf8))
        return try Comment(
            id: row["id"], subjectKind: subject, subjectId: row["subjectId"], parentId: row["parentId"], author: author,
            body: row["body"], embeds: embeds, createdAt: row["createdAt"], editedAt: row["editedAt"],
            deleted: row["deletedAt"] as Date? != nil, replies: [])
    }
}

extension SocialStore {
    // MARK: Forums

    public func createForum(name: String, description: String, by userId: Int64, now: Date) async throws -> Forum {
        let name = try Self.checkedText(name, field: "name", max: 80)
        let description = try Self.checkedText(description, field: "description", min: 0, max: 1000, multiline: true)
        return try await storage.write { db in
            if try db.value(as: Bool.self, "SELECT EXISTS(SELECT 1 FROM forum WHERE lower(name) = lower(?))", [name]) == true {
                throw SocialError.conflict("a forum named \"\(name)\" already exists")
            }
            let id = try db.insert("INSERT INTO forum (name, description, creatorId, createdAt) VALUES (?, ?, ?, ?)", [name, description, userId, now])
            return try Self.forum(db, id)
        }
    }

    /// Forums, newest first.
    public func forums(page: PageRequest) async throws -> Page<Forum> {
        try await storage.read { db in
            let ids = try db.values(as: Int64.self, "SELECT id FROM forum WHERE id < ? ORDER BY id DESC LIMIT ?", [page.cursor ?? Int64.max, page.limit + 1])
            return try page.page(ids, id: { $0 }) { try Self.forum(db, $0) }
        }
    }

    public func forum(_ id: Int64) async throws -> Forum {
        try await storage.read { db in try Self.forum(db, id) }
    }

    static func forum(_ db: any SocialSession, _ id: Int64) throws -> Forum {
        guard let row = try db.fetchOne("SELECT * FROM forum WHERE id = ?", [id]) else {
            throw SocialError.notFound("forum \(id)")
        }
        return try Forum(
            id: id, name: row["name"], description: row["description"], creator: try summary(db, row["creatorId"]),
            threadCount: try db.value(as: Int.self, "SELECT COUNT(*) FROM thread WHERE forumId = ?", [id]) ?? 0,
            createdAt: row["createdAt"])
    }

    /// Starts a thread; its first post is a comment on it.
    public func createThread(
        in forumId: Int64, title: String, body: String, embeds: [Embed], by userId: Int64, now: Date
    ) async throws -> Outcome<ForumThread> {
        let title = try Self.checkedText(title, field: "title", max: 200)
        let text = try Self.checkedText(body, field: "body", max: 5000, multiline: true)
        guard embeds.count <= 10 else { throw SocialError.invalid(field: "embeds", message: "a post embeds at most 10 items") }
        // One transaction: a thread never exists without its first post.
        return try await commit { db in
            _ = try Self.forum(db, forumId)
            let threadId = try db.insert("INSERT INTO thread (forumId, title, authorId, createdAt) VALUES (?, ?, ?, ?)", [forumId, title, userId, now])
            let post = try Self.insertComment(db, by: userId, on: .thread, id: String(threadId), parentId: nil, text: text, embeds: embeds, now: now)
            return Outcome(value: try Self.thread(db, threadId), events: post.events)
        }
    }

    /// A forum's threads, most recently active first.
    public func threads(in forumId: Int64, page: PageRequest) async throws -> Page<ForumThread> {
        try await storage.read { db in
            _ = try Self.forum(db, forumId)
            let ids = try db.values(as: Int64.self, "SELECT id FROM thread WHERE forumId = ? AND id < ? ORDER BY id DESC LIMIT ?", [forumId, page.cursor ?? Int64.max, page.limit + 1])
            return try page.page(ids, id: { $0 }) { try Self.thread(db, $0) }
        }
    }

    public func thread(_ id: Int64) async throws -> ForumThread {
        try await storage.read { db in try Self.thread(db, id) }
    }

    static func thread(_ db: any SocialSession, _ id: Int64) throws -> ForumThread {
        guard let row = try db.fetchOne("SELECT * FROM thread WHERE id = ?", [id]) else {
            throw SocialError.notFound("thread \(id)")
        }
        let posts = try db.fetchOne("SELECT COUNT(*) AS n, MAX(createdAt) AS last FROM comment WHERE subjectKind = 'thread' AND subjectId = ?", [String(id)])
        return try ForumThread(
            id: id, forumId: row["forumId"], title: row["title"], author: try summary(db, row["authorId"]),
            postCount: posts?["n"] ?? 0, createdAt: row["createdAt"], lastPostAt: posts?["last"] ?? row["createdAt"])
    }
}
