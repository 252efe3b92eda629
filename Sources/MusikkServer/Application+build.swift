import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Logging
import Protection
import ServiceLifecycle
import Social
import SocialPostgres
import SocialSQLite
import WebApp

/// Why the server could not start.
public struct ServerStartError: Error, CustomStringConvertible {
    public var description: String
}

/// Builds the server: opens (or creates) the data directory, reads the publication, and wires the routes.
/// Tests call this with their own configuration and drive the result with HummingbirdTesting.
public func buildApplication(_ configuration: ServerConfiguration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    let logger = logger ?? Logger(label: "musikk-server")
    let library: CatalogLibrary
    do {
        try DataDirectory.prepare(configuration.dataDirectory)
        library = try CatalogLibrary(publication: configuration.publication)
    } catch {
        throw ServerStartError(description: "\(error)")
    }
    let hub = EventHub(maximumPerUser: configuration.eventStreamsPerUser)
    var postgres: PostgresStorage?
    let store: SocialStore
    let secrets: ServerSecrets
    var background: [any Service] = []
    do {
        if let url = configuration.database {
            postgres = try await PostgresStorage.connect(url: url, connections: configuration.databaseConnections, logger: logger)
        }
        secrets = try await ServerSecrets.load(dataDirectory: configuration.dataDirectory, shared: postgres)
        if let postgres {
            // Several instances: every instance's events reach this one's streams through the relay, its own included.
            store = SocialStore(postgres)
            background.append(EventRelay(storage: postgres, store: store, hub: hub, logger: logger))
        } else {
            // The store hands the events of each committed change to the hub, which pushes them to open streams.
            store = SocialStore(try SQLiteStorage.open(atPath: DataDirectory.database(in: configuration.dataDirectory).path), events: hub)
            try await AvatarFiles.moveIntoStore(from: configuration.dataDirectory, store)
        }
    } catch {
        await postgres?.close()
        throw ServerStartError(description: "\(error)")
    }
    do {
        try DataDirectory.restrict(configuration.dataDirectory)
    } catch {
        throw ServerStartError(description: "\(error)")
    }
    let cost = configuration.bcryptCost
    var services = Services(
        configuration: configuration, store: store, library: library,
        tokens: await TokenIssuer(secret: secrets.tokenKey, store: store, configuration: configuration),
        signer: MediaSigner(secret: secrets.mediaKey, base: configuration.mediaBaseURL ?? "/stream", lifetime: configuration.mediaURLLifetime,
            scheme: configuration.mediaSignature),
        hub: hub, limiter: RateLimiter(store: store), passwords: PasswordHashing(), sealer: AppPasswordSealer(serverKey: secrets.tokenKey),
        decoyHash: try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(TokenIssuer.randomToken(), cost: cost) })
    try await CatalogWatcher.index(library.snapshot, into: store, now: configuration.clock())
    if let keyFile = configuration.keyFile {
        do {
            services.contentKeys = try KeyEncryptionKey.read(from: keyFile)
        } catch {
            throw ServerStartError(description: "\(error) (--key-file)")
        }
    }

    let router = buildRouter(services)
    do {
        try await WebApp(mediaOrigin: configuration.mediaBaseURL.flatMap(origin(of:))).addRoutes(to: router)
    } catch {
        throw ServerStartError(description: "\(error)")
    }
    let idleTimeout = TimeAmount.nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1)))
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: idleTimeout)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "musikk-server"),
        services: background + [CatalogWatcher(library: library, store: store, hub: hub, configuration: configuration, logger: logger)],
        logger: logger)
}

/// `scheme://host[:port]` of a URL, as a security policy names origins.
func origin(of url: String) -> String? {
    guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
    return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
}

/// The API's routes (the web app's pages are added beside them by `buildApplication`). Each controller gets only
/// what it uses.
func buildRouter(_ services: Services) -> Router<ServerRequestContext> {
    let configuration = services.configuration
    let (store, clock, links, subjects) = (services.store, configuration.clock, services.links, services.subjects)
    let router = Router(context: ServerRequestContext.self)
    router.add(middleware: ClientAddressMiddleware(trustedProxies: configuration.trustedProxies))
    if configuration.accessLog { router.add(middleware: AccessLogMiddleware()) }
    router.add(middleware: ErrorShapeMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.get("/health", use: health)
    SubsonicAPI(
        store: store, library: services.library,
        authenticator: SubsonicAuthenticator(store: store, limiter: services.limiter, sealer: services.sealer, configuration: configuration),
        limiter: services.limiter, configuration: configuration
    ).addRoutes(to: router)
    if configuration.mediaBaseURL == nil {
        MediaController(rootPath: services.library.root.path, signer: services.signer, clock: clock).addRoutes(to: router)
    }

    let auth = AuthController(
        store: store, tokens: services.tokens, limiter: services.limiter, passwords: services.passwords, decoyHash: services.decoyHash,
        configuration: configuration)
    auth.addPublicRoutes(to: router.group("/api/auth"))

    let api = router.group("/api")
        .add(middleware: AuthenticationMiddleware(tokens: services.tokens))
        .add(middleware: WriteLimitMiddleware(limiter: services.limiter, perMinute: configuration.writesPerMinute, clock: clock))
        .group(context: AuthenticatedRequestContext.self)
    auth.addRoutes(to: api.group("auth"))
    UsersController(store: store, subjects: subjects, clock: clock).addRoutes(to: api)
    CatalogController(store: store, links: links).addRoutes(to: api)
    CommentsController(store: store, subjects: subjects, posting: services.posting, clock: clock).addRoutes(to: api)
    PlaylistsController(store: store, links: links, subjects: subjects, clock: clock).addRoutes(to: api)
    ActivityController(store: store, subjects: subjects, clock: clock).addRoutes(to: api)
    PlaybackController(store: store, links: links, clock: clock).addRoutes(to: api)
    EventsController(store: store, subjects: subjects, hub: services.hub).addRoutes(to: api)
    AppCredentialsController(store: store, sealer: services.sealer, clock: clock).addRoutes(to: api)
    LicenseController(
        keys: services.contentKeys, links: links, limiter: services.limiter, perMinute: services.configuration.licensesPerMinute, clock: clock
    ).addRoutes(to: api)
    return router
}

/// `GET /health`: answers while the process serves requests (load balancers and `curl -f` probe it).
@Sendable func health(_ request: Request, context: ServerRequestContext) -> JSON<[String: String]> {
    JSON(["status": "ok"])
}
