import Foundation
import Hummingbird
import Social

/// Comments with replies on tracks, releases, playlists and forum threads; forums and their threads.
struct CommentsController: Sendable {
    let store: SocialStore
    let subjects: Subjects
    let posting: PostingLimit
    let clock: @Sendable () -> Date

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
            let path = RouterPath("\(subject.rawValue)s/:\(subject.rawValue)Id/comments")
            group.get(path, use: comments(on: subject))
            group.post(path, use: addComment(on: subject))
        }
        group.patch("comments/:commentId", use: editComment)
        group.delete("comments/:commentId", use: deleteComment)
        group.get("forums", use: forums)
        group.post("forums", use: createForum)
        group.get("forums/:forumId", use: forum)
        group.get("forums/:forumId/threads", use: threads)
        group.post("forums/:forumId/threads", use: createThread)
        group.get("threads/:threadId", use: thread)
    }

    @Sendable func editComment(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Comment> {
        let edit = try await request.decode(as: CommentEdit.self, context: context)
        let outcome = try await store.editComment(
            try request.id("commentId", context: context, what: "comment"), by: context.user.id, body: edit.body, now: clock())
        return JSON(try await subjects.resolved(outcome.value, viewer: context.user.id))
    }

    @Sendable func deleteComment(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let user = context.user
        _ = try await store.deleteComment(
            try request.id("commentId", context: context, what: "comment"), by: user.id, asAdmin: user.role == .admin, now: clock())
        return Response(status: .noContent)
    }

    @Sendable func forums(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<Forum>> {
        JSON(try await store.forums(page: try request.pageRequest()))
    }

    @Sendable func createForum(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Forum> {
        let input = try await request.decode(as: NewForum.self, context: context)
        try await posting.take(context.user)
        return JSON(
            try await store.createForum(name: input.name, description: input.description ?? "", by: context.user.id, now: clock()),
            status: .created)
    }

    @Sendable func forum(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Forum> {
        JSON(try await store.forum(try request.id("forumId", context: context, what: "forum")))
    }

    @Sendable func threads(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<Page<ForumThread>> {
        JSON(try await store.threads(in: try request.id("forumId", context: context, what: "forum"), page: try request.pageRequest()))
    }

    @Sendable func createThread(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<ForumThread> {
        let input = try await request.decode(as: NewThread.self, context: context)
        let user = context.user
        try await subjects.checkEmbeds(input.embeds ?? [], viewer: user.id)
        try await posting.take(user)
        let outcome = try await store.createThread(
            in: try request.id("forumId", context: context, what: "forum"), title: input.title, body: input.body, embeds: input.embeds ?? [],
            by: user.id, now: clock())
        return JSON(outcome.value, status: .created)
    }

    @Sendable func thread(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<ThreadDetail> {
        let thread = try await store.thread(try request.id("threadId", context: context, what: "thread"))
        return JSON(ThreadDetail(thread: thread, forum: try await store.forum(thread.forumId)))
    }

    /// `GET …/comments?from=following` gives only comments by people the viewer follows (flat, newest first);
    /// `order=oldest` reads a conversation from its start (forum threads).
    func comments(on subject: CommentSubject) -> @Sendable (Request, AuthenticatedRequestContext) async throws -> EncodedJSON {
        { request, context in try await comments(on: subject, request, context) }
    }

    private func comments(on subject: CommentSubject, _ request: Request, _ context: AuthenticatedRequestContext) async throws -> EncodedJSON {
        let user = context.user
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await subjects.checkSubject(subject, subjectId, viewer: user.id)
        let from = request.uri.queryParameters["from"]
        guard from == nil || from == "following" else { throw APIError.badRequest("from is either absent or `following`") }
        let order = request.uri.queryParameters["order"]
        guard order == nil || order == "newest" || order == "oldest" else { throw APIError.badRequest("order is `newest` (the default) or `oldest`") }
        let page = try await store.comments(
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
            let encoded = try JSONCoding.encoder.encode(try await subjects.resolved(comment, viewer: viewer))
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

    func addComment(on subject: CommentSubject) -> @Sendable (Request, AuthenticatedRequestContext) async throws -> JSON<Comment> {
        { request, context in try await addComment(on: subject, request, context) }
    }

    private func addComment(on subject: CommentSubject, _ request: Request, _ context: AuthenticatedRequestContext) async throws -> JSON<Comment> {
        let input = try await request.decode(as: NewComment.self, context: context)
        let user = context.user
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await subjects.checkSubject(subject, subjectId, viewer: user.id)
        try await subjects.checkEmbeds(input.embeds ?? [], viewer: user.id)
        try await posting.take(user)
        let outcome = try await store.addComment(
            by: user.id, on: subject, id: subjectId, parentId: input.parentId, body: input.body, embeds: input.embeds ?? [], now: clock())
        return JSON(try await subjects.resolved(outcome.value, viewer: user.id), status: .created)
    }
}
