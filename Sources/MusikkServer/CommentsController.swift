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

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        for subject in CommentSubject.allCases {
            let path = "\(subject.rawValue)s/:\(subject.rawValue)Id/comments"
            group.get(RouterPath(path)) { request, context in try await list(subject, request, context) }
            group.post(RouterPath(path)) { request, context in try await add(subject, request, context) }
        }
        group.patch("comments/:commentId") { request, context in
            let edit = try await request.decode(as: CommentEdit.self, context: context)
            let user = try context.requireUser()
            let outcome = try await services.store.editComment(
                try request.id("commentId", context: context, what: "comment"), by: user.id, body: edit.body, now: services.now)
            services.push(outcome.events)
            return JSON(try await services.resolved(outcome.value, viewer: user.id))
        }
        group.delete("comments/:commentId") { request, context in
            let user = try context.requireUser()
            let outcome = try await services.store.deleteComment(
                try request.id("commentId", context: context, what: "comment"), by: user.id, asAdmin: user.role == .admin, now: services.now)
            services.push(outcome.events)
            return Response(status: .noContent)
        }

        group.get("forums") { request, _ in JSON(try await services.store.forums(page: try request.pageRequest())) }
        group.post("forums") { request, context in
            let input = try await request.decode(as: NewForum.self, context: context)
            return JSON(
                try await services.store.createForum(name: input.name, description: input.description ?? "", by: try context.requireUser().id, now: services.now),
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
            let user = try context.requireUser()
            try await services.checkEmbeds(input.embeds ?? [], viewer: user.id)
            let outcome = try await services.store.createThread(
                in: try request.id("forumId", context: context, what: "forum"), title: input.title, body: input.body, embeds: input.embeds ?? [],
                by: user.id, now: services.now)
            services.push(outcome.events)
            return JSON(outcome.value, status: .created)
        }
        group.get("threads/:threadId") { request, context in
            let thread = try await services.store.thread(try request.id("threadId", context: context, what: "thread"))
            return JSON(ThreadDetail(thread: thread, forum: try await services.store.forum(thread.forumId)))
        }
    }

    /// `GET …/comments?from=following` gives only comments by people the viewer follows (flat, newest first).
    private func list(_ subject: CommentSubject, _ request: Request, _ context: ServerRequestContext) async throws -> JSON<Page<Comment>> {
        let user = try context.requireUser()
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await services.checkSubject(subject, subjectId, viewer: user.id)
        let from = request.uri.queryParameters["from"]
        guard from == nil || from == "following" else { throw APIError.badRequest("from is either absent or `following`") }
        var page = try await services.store.comments(
            on: subject, id: subjectId, page: try request.pageRequest(), onlyFollowedBy: from == "following" ? user.id : nil)
        var resolved: [Comment] = []
        for comment in page.items { resolved.append(try await services.resolved(comment, viewer: user.id)) }
        page.items = resolved
        return JSON(page)
    }

    private func add(_ subject: CommentSubject, _ request: Request, _ context: ServerRequestContext) async throws -> JSON<Comment> {
        let input = try await request.decode(as: NewComment.self, context: context)
        let user = try context.requireUser()
        let subjectId = context.parameters.get("\(subject.rawValue)Id") ?? ""
        try await services.checkSubject(subject, subjectId, viewer: user.id)
        try await services.checkEmbeds(input.embeds ?? [], viewer: user.id)
        let outcome = try await services.store.addComment(
            by: user.id, on: subject, id: subjectId, parentId: input.parentId, body: input.body, embeds: input.embeds ?? [], now: services.now)
        services.push(outcome.events)
        return JSON(try await services.resolved(outcome.value, viewer: user.id), status: .created)
    }
}
