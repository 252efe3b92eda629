import Foundation
import Hummingbird
import Social

/// Comments with replies on tracks, releases, playlists and forum threads; forums and their threads.
struct CommentsController: Sendable {
    let services: Services

    struct NewComment: Decodable {
        var body: String
        var parentId: Int64?
        var embeds: [Embed]?
    }

    struct CommentEdit: Decodable {
        var body: String
    }

    struct NewForum: Decodable {
        var name: String
        var description: String?
    }

    struct NewThread: Decodable {
        var title: String
        var body: String
        var embeds: [Embed]?
    }

    /// A thread with its forum, as the thread page shows it.
    struct ThreadDetail: Encodable, Sendable {
        var thread: ForumThread
        var forum: Forum
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        for subject in CommentSubject.allCases {
            let path = "\(subject.rawValue)s/:\(subject.rawValue)Id/comments"
            group.get(RouterPath(path)) { request, context in try await list(subject, request, context) }
            group.post(RouterPath(path)) { request, context in try await add(subject, request, context) }
        }
        group.patch("comments/:commentId") { request, context in
            let edit = try await request.decode(as: CommentEdit.self, context: context)
            let user = context.user
            let outcome = try await services.store.editComment(
                try request.id("commentId", context: context, what: "comment"), by: user.id, body: edit.body, now: services.now)
            return JSON(try await services.resolved(outcome.value, viewer: user.id))
        }
        group.delete("comments/:commentId") { request, context in
            let user = context.user
            _ = try await services.store.deleteComment(
                try request.id("commentId", context: context, what: "comment"), by: user.id, asAdmin: user.role == .admin, now: services.now)
            return Response(status: .noContent)
        }

        group.get("forums") { request, _ in JSON(try await services.store.forums(page: try request.pageRequest())) }
        group.post("forums") { request, context in
            let input = try await request.decode(as: NewForum.self, context: context)
            let user = context.user
            try await services.limitPosting(user)
            return JSON(
                try await services.store.createForum(name: input.name, description: input.description ?? "", by: user.id, now: services.now),
                status: .created)
        }
        group.get("forums/:forumId") { request, context in
            JSON(try await services.store.forum(try request.id("forumId", context: context, what: "forum")))
        }
        group.get("forums/:forumId/threads") { request, context in
            JSON(try await services.store.threads(in: try request.id("forumId", context: context, what: "forum"), page: try request.pageRequest()))
        }
        group.post("forums/:forumId/threads") { request, context in
            let input = try await request.decode(as: NewThread.self, context: context)
            let user = context.user
            try await services.checkEmbeds(input.embeds ?? [], viewer: user.id)
            try await services.limitPosting(user)
            let outcome = try await services.store.createThread(
                in: try request.id("forumId", context: context, what: "forum"), title: input.title, body: input.body, embeds: input.embeds ?? [],
                by: user.id, now: services.now)
            return JSON(outcome.value, status: .created)
        }
        group.get("threads/:threadId") { request, context in
            let thread = try await services.store.thread(try request.id("threadId", context: context, what: "thread"))
            return JSON(ThreadDetail(thread: thread, forum: try await services.store.forum(thread.forumId)))
        }
    }

    /// `GET …/comments?from=following` gives only comments by people the viewer follows (flat, newest first);
    /// `order=oldest` reads a conversation from its start (forum threads).
    private func list(_ subject: CommentSubject, _ request: Request, _ context: AuthenticatedRequestContext) async throws -> EncodedJSON {
        let user = context.user
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await services.checkSubject(subject, subjectId, viewer: user.id)
        let from = request.uri.queryParameters["from"]
        guard from == nil || from == "following" else { throw APIError.badRequest("from is either absent or `following`") }
        let order = request.uri.queryParameters["order"]
        guard order == nil || order == "newest" || order == "oldest" else { throw APIError.badRequest("order is `newest` (the default) or `oldest`") }
        let page = try await services.store.comments(
            on: subject, id: subjectId, page: try request.pageRequest(), onlyFollowedBy: from == "following" ? user.id : nil,
            oldestFirst: order == "oldest")
        return try await boundedPage(page, viewer: user.id)
    }

    /// Bytes a page of comments may take: a page ends early (its cursor at the last comment sent) once its
    /// comments with their replies and embeds pass this.
    static let pageBudget = 1 << 20

    /// The page with its comments' embeds resolved, cut at ``pageBudget`` bytes (at least one comment is sent).
    private func boundedPage(_ page: Page<Comment>, viewer: Int64) async throws -> EncodedJSON {
        var items: [ByteBuffer] = []
        var bytes = 0
        var nextCursor = page.nextCursor
        for comment in page.items {
            let encoded = try JSONCoding.encoder.encode(try await services.resolved(comment, viewer: viewer))
            if !items.isEmpty, bytes + encoded.count > Self.pageBudget {
                nextCursor = page.items[items.count - 1].id.description
                break
            }
            items.append(ByteBuffer(bytes: encoded))
            bytes += encoded.count + 1
        }
        var body = ByteBuffer(string: "{\"items\":[")
        for (index, item) in items.enumerated() {
            if index > 0 { body.writeString(",") }
            body.writeImmutableBuffer(item)
        }
        body.writeString("]")
        if let nextCursor { body.writeString(",\"nextCursor\":\"\(nextCursor)\"") }
        body.writeString("}")
        return EncodedJSON(body: body)
    }

    private func add(_ subject: CommentSubject, _ request: Request, _ context: AuthenticatedRequestContext) async throws -> JSON<Comment> {
        let input = try await request.decode(as: NewComment.self, context: context)
        let user = context.user
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await services.checkSubject(subject, subjectId, viewer: user.id)
        try await services.checkEmbeds(input.embeds ?? [], viewer: user.id)
        try await services.limitPosting(user)
        let outcome = try await services.store.addComment(
            by: user.id, on: subject, id: subjectId, parentId: input.parentId, body: input.body, embeds: input.embeds ?? [], now: services.now)
        return JSON(try await services.resolved(outcome.value, viewer: user.id), status: .created)
    }
}
