import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOCore
import NIOPosix
import Logging
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
    let store: SocialStore
    let secrets: ServerSecrets
    var background: [any Service] = []
    if let url = configuration.database {
        // Several instances: every instance's events reach this one's streams through the relay, its own included.
        let postgres: PostgresStorage
        do {
            postgres = try await PostgresStorage.connect(url: url, connections: configuration.databaseConnections, logger: logger)
            store = SocialStore(postgres)
            secrets = try await ServerSecrets.shared(in: postgres)
        } catch {
            throw ServerStartError(description: "\(error)")
        }
        background.append(EventRelay(storage: postgres, store: store, hub: hub, logger: logger))
    } else {
        do {
            secrets = try ServerSecrets.loadOrCreate(in: configuration.dataDirectory)
            // The store hands the events of each committed change to the hub, which pushes them to open streams.
            store = SocialStore(try SQLiteStorage.open(atPath: DataDirectory.database(in: configuration.dataDirectory).path), events: hub)
        } catch {
            throw ServerStartError(description: "\(error)")
        }
    }
    do {
        try DataDirectory.restrict(configuration.dataDirectory)
    } catch {
        throw ServerStartError(description: "\(error)")
    }
    let cost = configuration.bcryptCost
    let services = Services(
        configuration: configuration, store: store, library: library,
        tokens: await TokenIssuer(secret: secrets.tokenKey, store: store, configuration: configuration),
        signer: MediaSigner(secret: secrets.mediaKey, base: configuration.mediaBaseURL ?? "/stream", lifetime: configuration.mediaURLLifetime,
            scheme: configuration.mediaSignature),
        hub: hub, limiter: RateLimiter(store: store), passwords: PasswordHashing(),
        decoyHash: try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(TokenIssuer.randomToken(), cost: cost) },
        avatars: configuration.dataDirectory.appendingPathComponent("avatars"))
    try await CatalogWatcher.index(library.snapshot, services: services)

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
        services: background + [CatalogWatcher(services: services, logger: logger)],
        logger: logger)
}

/// `scheme://host[:port]` of a URL, as a security policy names origins.
func origin(of url: String) -> String? {
    guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
    return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
}

/// The API's routes (the web app's pages are added beside them by `buildApplication`).
func buildRouter(_ services: Services) -> Router<ServerRequestContext> {
    let router = Router(context: ServerRequestContext.self)
    router.add(middleware: ClientAddressMiddleware(trustedProxies: services.configuration.trustedProxies))
    if services.configuration.accessLog { router.add(middleware: AccessLogMiddleware()) }
    router.add(middleware: ErrorShapeMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.get("/health") { _, _ in JSON(["status": "ok"]) }
    if services.configuration.mediaBaseURL == nil {
        MediaController(rootPath: services.library.root.path, signer: services.signer, clock: services.configuration.clock).addRoutes(to: router)
    }

    let auth = AuthController(services: services)
    auth.addPublicRoutes(to: router.group("/api/auth"))

    let api = router.group("/api")
        .add(middleware: AuthenticationMiddleware(tokens: services.tokens))
        .add(middleware: WriteLimitMiddleware(limiter: services.limiter, perMinute: services.configuration.writesPerMinute, clock: services.configuration.clock))
        .group(context: AuthenticatedRequestContext.self)
    auth.addRoutes(to: api.group("auth"))
    UsersController(services: services).addRoutes(to: api)
    CatalogController(services: services).addRoutes(to: api)
    CommentsController(services: services).addRoutes(to: api)
    PlaylistsController(services: services).addRoutes(to: api)
    ActivityController(services: services).addRoutes(to: api)
    PlaybackController(services: services).addRoutes(to: api)
    EventsController(services: services).addRoutes(to: api)
    return router
}
