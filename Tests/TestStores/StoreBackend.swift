import Foundation
import Synchronization
import Social
import SocialPostgres
import SocialSQLite
import TestSupport

/// The two social stores every Social and server test runs against. PostgreSQL is the throwaway cluster
/// scripts/test starts (`MUSIKK_TEST_POSTGRES`); each test gets a schema of its own in it.
public enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    public static let all = allCases
    public var description: String { rawValue }

    /// A fresh, empty, migrated storage.
    public func storage() async throws -> any SocialStorage {
        switch self {
        case .sqlite: try SQLiteStorage.inMemory()
        case .postgres: try await PostgresStorage.connect(url: try Self.freshPostgresURL(), connections: 4)
        }
    }

    /// A store over a fresh storage.
    public func store(events sink: any LiveEventSink = NoLiveEvents()) async throws -> SocialStore {
        SocialStore(try await storage(), events: sink)
    }

    /// The URL of the test cluster's database with a new, empty schema first on the search path. Schemas are made
    /// in advance, all in one psql call: starting a process per test would block the cooperative threads the
    /// in-process servers of other tests answer on.
    public static func freshPostgresURL() throws -> String {
        let base = try cluster.get()
        let index = nextSchema.add(1, ordering: .relaxed).oldValue
        let schema = "t_\(runTag)_\(index)"
        if index >= preparedSchemas { try psql(base, "CREATE SCHEMA \(schema)") }
        // libpq's options, URL-encoded: "-c search_path=SCHEMA,public".
        return base + "&options=-c%20search_path%3D\(schema)%2Cpublic"
    }

    /// Schemas made when the cluster is first used.
    static let preparedSchemas = 200
    private static let nextSchema = Atomic<Int>(0)
    /// Tells this run's schemas from an earlier run's on the same cluster.
    private static let runTag = UUID().uuidString.prefix(8).lowercased()

    /// The cluster's URL, with the extension the schema needs created once for all schemas, and the schemas.
    private static let cluster: Result<String, SetupError> = Result { () throws(SetupError) in
        guard let url = ProcessInfo.processInfo.environment["MUSIKK_TEST_POSTGRES"], !url.isEmpty else {
            throw SetupError(description: "MUSIKK_TEST_POSTGRES is not set: run the suite with scripts/test, which starts a throwaway PostgreSQL")
        }
        let schemas = (0..<preparedSchemas).map { "CREATE SCHEMA t_\(runTag)_\($0);" }.joined(separator: " ")
        try psql(url, "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public; " + schemas)
        return url
    }

    /// Runs one statement with psql, the PostgreSQL project's own client, and gives what it printed (rows as
    /// `|`-separated lines).
    @discardableResult
    public static func psql(_ url: String, _ statement: String) throws(SetupError) -> String {
        do {
            let result = try Command.run("/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement])
            guard result.status == 0 else { throw SetupError(description: "psql \(statement): \(result.standardError)") }
            return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch let error as SetupError {
            throw error
        } catch {
            throw SetupError(description: "psql \(statement): \(error)")
        }
    }
}
