import Foundation
import Hummingbird
import Mustache
import WorkArea

/// The browser app: every page URL answers with the same server-rendered shell (header, player bar, queue panel)
/// and the JavaScript modules under `/app/` fill the page from the JSON API, so playback goes on while the listener
/// moves between pages. Templates are Mustache; the scripts and styles are plain files, no third-party code.
public struct WebApp: Sendable {
    /// One static file of the app, kept in memory with its validator.
    struct Asset: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        var etag: String
    }

    /// Why the app's files could not be loaded (a broken install: the resource bundle is missing or damaged).
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// One page of the app: its URL, the script view that renders it, and who may open it.
    struct Page: Encodable, Sendable {
        enum Access: String, Encodable, Sendable {
            /// Signed-in listeners; others are sent to log in.
            case member
            /// Signed-out visitors only (log in, sign up); the signed-in are sent home.
            case guest
        }

        var path: String
        var view: String
        var access: Access = .member
    }

    /// The page URLs the app handles, the one table of them: the server answers each with the shell, and the shell
    /// carries the table to the scripts, which pick the view from it and link to items through it.
    static let pages = [
        Page(path: "/", view: "home"), Page(path: "/login", view: "login", access: .guest),
        Page(path: "/signup", view: "signup", access: .guest), Page(path: "/search", view: "search"),
        Page(path: "/tracks/:id", view: "track"), Page(path: "/releases/:id", view: "release"), Page(path: "/artists/:id", view: "artist"),
        Page(path: "/playlists", view: "playlists"), Page(path: "/playlists/:id", view: "playlist"), Page(path: "/forums", view: "forums"),
        Page(path: "/forums/:id", view: "forum"), Page(path: "/threads/:id", view: "thread"), Page(path: "/users/:id", view: "user"),
        Page(path: "/me", view: "me"), Page(path: "/feed", view: "feed"), Page(path: "/notifications", view: "notifications"),
    ]

    let assets: [String: Asset]
    let contentSecurityPolicy: String
    /// The shell, rendered once from the templates.
    let shellPage: ByteBuffer

    /// Loads the templates and static files. `mediaOrigin` is the CDN origin when media is not served by this
    /// server (so the page's security policy lets it load covers and audio from there).
    public init(mediaOrigin: String? = nil) async throws {
        guard let resources = Bundle.module.resourceURL else { throw LoadError(description: "the web app's resources are missing; reinstall musikk-server") }
        let templateDirectory = resources.appendingPathComponent("Templates")
        let templates: MustacheLibrary
        do {
            templates = try await MustacheLibrary(directory: templateDirectory.path)
        } catch {
            throw LoadError(description: "cannot load the web app's templates in \(templateDirectory.path): \(error)")
        }
        let pageTable: String
        do {
            pageTable = String(decoding: try JSONEncoder().encode(Self.pages), as: UTF8.self)
        } catch {
            throw LoadError(description: "cannot encode the web app's page table: \(error)")
        }
        guard let html = templates.render(["appName": "Musikk", "pages": pageTable], withTemplate: "shell") else {
            throw LoadError(description: "the web app's shell template is missing from \(templateDirectory.path); reinstall musikk-server")
        }
        shellPage = ByteBuffer(string: html)
        let staticDirectory = resources.appendingPathComponent("Static")
        var assets: [String: Asset] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staticDirectory.path)) ?? []
        for name in names {
            guard let data = FileManager.default.contents(atPath: staticDirectory.appendingPathComponent(name).path) else { continue }
            let digest = FileDigest.sha256(of: data).prefix(16)
            assets[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(of: name), etag: "\"\(digest)\"")
        }
        guard assets["app.js"] != nil, assets["app.css"] != nil else {
            throw LoadError(description: "the web app's scripts are missing from \(staticDirectory.path); reinstall musikk-server")
        }
        self.assets = assets
        let media = mediaOrigin.map { " \($0)" } ?? ""
        contentSecurityPolicy = [
            "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:\(media)",
            "media-src 'self' blob:\(media)", "connect-src 'self'\(media)", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// Adds the page routes and `/app/FILE`, for GET and HEAD (monitors and link checkers ask with HEAD).
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for entry in Self.pages {
            router.get(RouterPath(entry.path), use: page)
            router.head(RouterPath(entry.path), use: page)
        }
        router.get("/app/:file", use: asset)
        router.head("/app/:file", use: asset)
    }

    @Sendable func page(_ request: Request, context: some RequestContext) -> Response {
        Self.answer(request, shell())
    }

    @Sendable func asset(_ request: Request, context: some RequestContext) throws -> Response {
        guard let name = context.parameters.get("file"), let asset = assets[name] else { throw HTTPError(.notFound) }
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: [.eTag: asset.etag, .cacheControl: "no-cache"])
        }
        return Self.answer(request, Response(
            status: .ok, headers: [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: asset.bytes)))
    }

    /// The shell every page URL gets; the scripts read the URL and render the page.
    func shell() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: contentSecurityPolicy, .cacheControl: "no-cache"],
            body: .init(byteBuffer: shellPage))
    }

    /// The response as the request's method has it: for HEAD, the same status and headers with the body's length
    /// and no body.
    static func answer(_ request: Request, _ response: Response) -> Response {
        guard request.method == .head else { return response }
        var headers = response.headers
        if let length = response.body.contentLength { headers[.contentLength] = String(length) }
        return Response(status: response.status, headers: headers, body: .init())
    }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        default: "application/octet-stream"
        }
    }
}
