import Foundation
import Hummingbird
@testable import MusikkServer
import Social
import SocialSQLite
import Testing
import TestStores
import TestSupport

@Suite("docs/openapi.yaml")
struct OpenAPITests {
    /// "METHOD /path" for every operation of the document, read by PyYAML (not by our code).
    static func documentedOperations() throws -> Set<String> {
        let script = """
            import sys, yaml
            doc = yaml.safe_load(open(sys.argv[1]))
            assert doc["openapi"].startswith("3.1"), doc["openapi"]
            for path, item in doc["paths"].items():
                for method in item:
                    if method in ("get", "put", "post", "patch", "delete", "head"):
                        print(method.upper(), path)
            """
        let result = try Command.run("/usr/bin/python3", ["-c", script, Repository.root.appendingPathComponent("docs/openapi.yaml").path])
        guard result.status == 0 else { throw SetupError(description: result.standardError) }
        return Set(String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    @Test("every route of the server is documented, and every documented operation is a route", .serialized, arguments: StoreBackend.all)
    func routesMatchDocument(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        try await server.withRouter { _ in }  // creates the data directory and secrets as the server would
        let services = try await TestServices.make(server.configuration)
        let routes = Set(buildRouter(services).routes.map { route in
            "\(route.method.rawValue) \(route.path.description.replacingOccurrences(of: "**", with: "{path}"))"
        })
        let documented = try Self.documentedOperations()
        #expect(routes.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
        #expect(documented.subtracting(routes).sorted() == [], "documented operations the server does not have")
        #expect(routes.count > 50)
    }

    @Test("every documented path parameter is named as the route names it")
    func pathParametersDeclared() throws {
        let script = """
            import re, sys, yaml
            doc = yaml.safe_load(open(sys.argv[1]))
            for path, item in doc["paths"].items():
                names = set(re.findall(r"{(\\w+)}", path))
                for method, operation in item.items():
                    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
                    if declared != names:
                        print(method, path, sorted(names), sorted(declared))
            """
        let result = try Command.run("/usr/bin/python3", ["-c", script, Repository.root.appendingPathComponent("docs/openapi.yaml").path])
        #expect(result.status == 0)
        #expect(String(decoding: result.standardOutput, as: UTF8.self) == "")
    }
}

/// The services buildApplication wires, for tests that look at the router itself.
enum TestServices {
    static func make(_ configuration: ServerConfiguration) async throws -> Services {
        let secrets = try ServerSecrets.loadOrCreate(in: configuration.dataDirectory)
        let store = SocialStore(try SQLiteStorage.inMemory())
        return Services(
            configuration: configuration, store: store, library: try CatalogLibrary(publication: configuration.publication),
            tokens: await TokenIssuer(secret: secrets.tokenKey, store: store, configuration: configuration),
            signer: MediaSigner(secret: secrets.mediaKey, base: "/stream", lifetime: 60), hub: EventHub(), limiter: RateLimiter(store: store),
            passwords: PasswordHashing(), sealer: AppPasswordSealer(serverKey: secrets.tokenKey), decoyHash: "")
    }
}
