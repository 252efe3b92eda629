import Foundation
import Hummingbird
import PublicationFormat
import Social
import WorkArea

/// Every method of the Subsonic API musikk-server answers, with OpenSubsonic's extensions: the route table of
/// `/rest`. ``SubsonicAPI/answer(_:_:)`` switches over it, so a method listed here cannot lack a handler.
enum SubsonicMethod: String, CaseIterable, Sendable {
    // System
    case ping, getLicense, getOpenSubsonicExtensions, getUser
    // Browsing
    case getMusicFolders, getIndexes, getMusicDirectory, getArtists, getArtist, getAlbum, getSong, getGenres
    case getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre, getTopSongs, getSimilarSongs2, getCoverArt
    // Searching
    case search2, search3
    // Playing
    case stream, download
    // Listening
    case scrobble, getNowPlaying, star, unstar, getStarred, getStarred2, setRating
    // Playlists
    case getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist
    // Play queue
    case getPlayQueue, savePlayQueue, getPlayQueueByIndex, savePlayQueueByIndex
    // Lyrics
    case getLyrics, getLyricsBySongId

    /// Methods that change something: they count against the user's writes per minute, as the JSON API's do.
    var isWrite: Bool {
        switch self {
        case .scrobble, .star, .unstar, .setRating, .createPlaylist, .updatePlaylist, .deletePlaylist, .savePlayQueue, .savePlayQueueByIndex: true
        default: false
        }
    }

    /// OpenSubsonic requires this one to answer without credentials, so clients can ask before signing in.
    var isPublic: Bool { self == .getOpenSubsonicExtensions }
}

/// The OpenSubsonic extensions this server implements, with their versions.
enum SubsonicExtensions {
    static let all: [(name: String, versions: [Int])] = [
        ("apiKeyAuthentication", [1]),
        ("formPost", [1]),
        ("indexBasedQueue", [1]),
        ("songLyrics", [1]),
    ]
}

/// One call of a method: its parameters, its user, and the published catalog arranged for Subsonic.
struct SubsonicCall: Sendable {
    let method: SubsonicMethod
    let parameters: SubsonicParameters
    let user: AuthenticatedUser
    let catalog: SubsonicCatalog
    let request: Request
    /// The client's name (`c`), to tell the user's apps apart in the queue and now playing.
    var client: String { String((parameters.first("c") ?? "app").prefix(30)) }

    func required(_ name: String) throws -> String {
        guard let value = parameters.first(name), !value.isEmpty else { throw SubsonicError.missing(name, method.rawValue) }
        return value
    }

    /// An integer parameter within `range`, or `fallback` when absent.
    func integer(_ name: String, _ fallback: Int? = nil, in range: ClosedRange<Int> = 0...Int(Int32.max)) throws -> Int? {
        guard let text = parameters.first(name), !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw SubsonicError.invalid(name, method.rawValue, "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func flag(_ name: String) -> Bool? {
        parameters.first(name).map { $0.lowercased() == "true" || $0 == "1" }
    }
}

/// What a handler answers: a payload in the Subsonic envelope, or a file (stream, download, cover art).
enum SubsonicAnswer: Sendable {
    case payload(SubsonicNode?)
    case file(Response)
}

/// The Subsonic API (`/rest/METHOD` and `/rest/METHOD.view`, GET or form POST) over the same catalog, likes,
/// listens, playlists and play queue as the web app, so listeners' own apps (DSub, Symfonium, Feishin, Amperfy…)
/// and the web app see one library.
struct SubsonicAPI: Sendable {
    let store: SocialStore
    let library: CatalogLibrary
    let authenticator: SubsonicAuthenticator
    let limiter: RateLimiter
    let configuration: ServerConfiguration
    /// The catalog arranged for Subsonic, made once per publication.
    let arranged = MemoCache<Date, SubsonicCatalog>(capacity: 2)
    var reader: MediaFileReader { MediaFileReader(root: library.root.path) }

    func addRoutes(to router: Router<ServerRequestContext>) {
        router.get("/rest/:method", use: handle)
        router.post("/rest/:method", use: handle)
        router.head("/rest/:method", use: handle)
    }

    @Sendable func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        // Until the body is read, the query alone (so even a refused request gets its answer in the format asked for).
        var parameters = (try? SubsonicParameters(query: request.uri.query, form: nil)) ?? SubsonicParameters()
        do {
            var form: String?
            if request.method == .post, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
                var request = request
                let body = try await request.collectBody(upTo: SubsonicParameters.maxBody)
                form = String(buffer: body)
            }
            parameters = try SubsonicParameters(query: request.uri.query, form: form)
            let name = context.parameters.get("method") ?? ""
            let methodName = name.hasSuffix(".view") ? String(name.dropLast(5)) : name
            guard let method = SubsonicMethod(rawValue: methodName) else {
                throw SubsonicError(code: .notFound, message: "the Subsonic method \(methodName) is not implemented by this server", status: .notFound)
            }
            let user: AuthenticatedUser
            if method.isPublic {
                user = AuthenticatedUser(id: 0, role: .listener)
            } else {
                user = try await authenticator.authenticate(parameters, clientAddress: context.clientAddress)
            }
            if method.isWrite, let wait = try await limiter.take("writes:\(user.id)", limit: configuration.writesPerMinute, window: 60, now: configuration.clock()) {
                throw SubsonicError(
                    code: .generic, message: "you are making changes faster than \(configuration.writesPerMinute) a minute; wait a little",
                    status: .tooManyRequests, headers: [.retryAfter: String(Int(wait.rounded(.up)))])
            }
            let call = SubsonicCall(method: method, parameters: parameters, user: user, catalog: catalog(), request: request)
            switch try await answer(method, call) {
            case .payload(let payload): return SubsonicEnvelope.response(payload, format: SubsonicFormat(parameters), serverVersion: MusikkVersion.current)
            case .file(let response): return response
            }
        } catch {
            return SubsonicEnvelope.response(nil, failure: Self.failure(error), format: SubsonicFormat(parameters), serverVersion: MusikkVersion.current)
        }
    }

    /// A thrown error as the Subsonic error a client understands.
    static func failure(_ error: any Error) -> SubsonicError {
        if let error = error as? SubsonicError { return error }
        guard let error = APIError.from(error) else {
            return SubsonicError(code: .generic, message: "the server could not answer; try again (\(type(of: error)))")
        }
        switch error.status {
        case .notFound: return SubsonicError(code: .notFound, message: error.message)
        case .forbidden: return SubsonicError(code: .notAuthorized, message: error.message)
        case .rangeNotSatisfiable, .contentTooLarge: return SubsonicError(code: .generic, message: error.message, status: error.status, headers: error.headers)
        default: return SubsonicError(code: .generic, message: error.message)
        }
    }

    func catalog() -> SubsonicCatalog {
        let snapshot = library.snapshot
        return arranged.value(for: snapshot.publishedAt ?? Date(timeIntervalSince1970: 0)) { SubsonicCatalog(snapshot) }
    }

    /// The route table's handlers.
    func answer(_ method: SubsonicMethod, _ call: SubsonicCall) async throws -> SubsonicAnswer {
        switch method {
        case .ping: .payload(nil)
        case .getLicense: .payload(license())
        case .getOpenSubsonicExtensions: .payload(extensions())
        case .getUser: .payload(try await user(call))
        case .getMusicFolders: .payload(musicFolders())
        case .getIndexes, .getArtists: .payload(try await artistIndex(call))
        case .getMusicDirectory: .payload(try await musicDirectory(call))
        case .getArtist: .payload(try await artist(call))
        case .getAlbum: .payload(try await album(call))
        case .getSong: .payload(try await song(call))
        case .getGenres: .payload(genres(call))
        case .getAlbumList, .getAlbumList2: .payload(try await albumList(call))
        case .getRandomSongs: .payload(try await randomSongs(call))
        case .getSongsByGenre: .payload(try await songsByGenre(call))
        case .getTopSongs: .payload(try await topSongs(call))
        case .getSimilarSongs2: .payload(try await similarSongs(call))
        case .getCoverArt: .file(try await coverArt(call))
        case .search2, .search3: .payload(try await search(call))
        case .stream, .download: .file(try await stream(call))
        case .scrobble: .payload(try await scrobble(call))
        case .getNowPlaying: .payload(try await nowPlaying(call))
        case .star, .unstar: .payload(try await star(call))
        case .getStarred, .getStarred2: .payload(try await starred(call))
        case .setRating: .payload(try await rate(call))
        case .getPlaylists: .payload(try await playlists(call))
        case .getPlaylist: .payload(try await playlist(call))
        case .createPlaylist: .payload(try await createPlaylist(call))
        case .updatePlaylist: .payload(try await updatePlaylist(call))
        case .deletePlaylist: .payload(try await deletePlaylist(call))
        case .getPlayQueue, .getPlayQueueByIndex: .payload(try await playQueue(call))
        case .savePlayQueue, .savePlayQueueByIndex: .payload(try await savePlayQueue(call))
        case .getLyrics: .payload(try await lyrics(call))
        case .getLyricsBySongId: .payload(try await lyricsBySong(call))
        }
    }

    // MARK: System

    func license() -> SubsonicNode {
        var license = SubsonicNode("license")
        license.set("valid", true)
        return .payload(license)
    }

    func extensions() -> SubsonicNode {
        var node = SubsonicNode("")
        node.addList("openSubsonicExtensions", SubsonicExtensions.all.map { item in
            var entry = SubsonicNode("openSubsonicExtensions")
            entry.set("name", item.name)
            entry.addScalars("versions", item.versions)
            return entry
        })
        return node
    }

    /// The signed-in user (an admin may ask for anyone by email). Musikk's roles map onto Subsonic's: everyone
    /// streams, downloads, scrobbles, comments and keeps playlists; only admins administer.
    func user(_ call: SubsonicCall) async throws -> SubsonicNode {
        let email = try await store.ownAccount(call.user.id).email
        let asked = try call.required("username")
        var subject = (id: call.user.id, role: call.user.role, email: email)
        if asked.lowercased() != email.lowercased() {
            guard call.user.role == .admin else { throw SubsonicError(code: .notAuthorized, message: "only an admin may read another user's settings") }
            guard let other = try await store.credentials(email: asked) else { throw SubsonicError.notFound("user \(asked)") }
            subject = (other.userId, other.role, try await store.ownAccount(other.userId).email)
        }
        var user = SubsonicNode("user")
        user.set("username", subject.email)
        user.set("email", subject.email)
        user.set("scrobblingEnabled", true)
        for (role, allowed) in [
            ("adminRole", subject.role == .admin), ("settingsRole", false), ("downloadRole", true), ("uploadRole", false),
            ("playlistRole", true), ("coverArtRole", false), ("commentRole", true), ("podcastRole", false), ("streamRole", true),
            ("jukeboxRole", false), ("shareRole", false), ("videoConversionRole", false),
        ] {
            user.set(role, allowed)
        }
        user.addScalars("folder", [Self.folderID])
        return .payload(user)
    }

    // MARK: Helpers shared by the handlers

    /// The one music folder: the whole publication.
    static let folderID = 1

    func musicFolders() -> SubsonicNode {
        var folders = SubsonicNode("musicFolders")
        var folder = SubsonicNode("musicFolder")
        folder.set("id", Self.folderID)
        folder.set("name", "Music")
        folders.addList("musicFolder", [folder])
        return .payload(folders)
    }

    /// A payload holding one element `name` with `items` as its list `itemName`.
    static func list(_ name: String, _ itemName: String, _ items: [SubsonicNode]) -> SubsonicNode {
        var element = SubsonicNode(name)
        element.addList(itemName, items)
        return .payload(element)
    }

    /// A `size`/`count` parameter: at most 500, as Subsonic servers bound lists.
    static let maxListSize = 500

    func marks(_ call: SubsonicCall) async throws -> ListenerMarks {
        try await store.marks(of: call.user.id)
    }
}
