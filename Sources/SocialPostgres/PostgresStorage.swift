import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Social

/// The social data in PostgreSQL, shared by any number of server instances. Writes run SERIALIZABLE and are
/// retried on a serialization failure, so every rule the domain checks inside a transaction holds across
/// instances as it does in SQLite's one-writer world (a refresh token is spent once, an email taken once).
///
/// The domain's transactions are synchronous code; each runs on a thread of this storage's own pool, on a
/// connection leased from postgres-nio's pool, and waits for its queries there, never on Swift's cooperative
/// threads or an event loop.
public final class PostgresStorage: SocialStorage {
    let client: PostgresClient
    let threads: NIOThreadPool
    let logger: Logger
    private let running: Task<Void, Never>

    /// Why the database could not be used, naming the URL (without its password) and what to check.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The channel on which committed events are announced (`NOTIFY`), for ``PostgresEventListener``.
    public static let eventChannel = "musikk_events"
    /// Times a write is tried when PostgreSQL finds it conflicted with a concurrent one.
    static let attempts = 20

    /// Connects to `url` (`postgres://user:password@host:port/database`) and migrates the schema.
    public static func connect(url: String, connections: Int = 20, logger: Logger = Logger(label: "musikk.postgres")) async throws -> PostgresStorage {
        let storage = PostgresStorage(configuration: try configuration(url), connections: connections, logger: logger)
        do {
            try await PostgresMigrations.migrate(storage)
        } catch {
            await storage.close()
            throw Failure(description: "cannot prepare the database at \(redacted(url)): \(describe(error)); check that the server runs and the user may create tables")
        }
        return storage
    }

    init(configuration: PostgresClient.Configuration, connections: Int, logger: Logger) {
        var configuration = configuration
        configuration.options.maximumConnections = connections
        // postgres-nio warns when a connection is leased before `run()` has started, which the first lease after
        // connecting always races with; its errors still show.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: connections)
        threads.start()
        running = Task { await client.run() }
    }

    public func close() async {
        running.cancel()
        try? await threads.shutdownGracefully()
    }

    public func read<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", attempts: 1, body)
    }

    @discardableResult
    public func write<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value {
        try await transaction(begin: "BEGIN ISOLATION LEVEL SERIALIZABLE", attempts: Self.attempts, body)
    }

    /// A transaction whose statements each see what committed before them: migrating, which first waits for
    /// another instance's migration (a lock) and must then see its tables.
    func readCommitted<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value {
        try await transaction(begin: "BEGIN ISOLATION LEVEL READ COMMITTED", attempts: 1, body)
    }

    private func transaction<Value: Sendable>(
        begin: String, attempts: Int, _ body: @escaping @Sendable (any SocialSession) throws -> Value
    ) async throws -> Value {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let logger = logger
                return try await client.withConnection { connection in
                    try await self.threads.runIfActive {
                        let session = Session(connection: connection, logger: logger)
                        try session.run(begin)
                        do {
                            let value = try body(session)
                            try session.run("COMMIT")
                            return value
                        } catch {
                            try? session.run("ROLLBACK")
                            throw error
                        }
                    }
                }
            } catch let error as PSQLError where attempt < attempts && Self.isRetryable(error) {
                // Another instance's transaction won; wait a little (more each time) and run this one again.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }

    /// Serialization failures and deadlocks: the transaction did nothing and may simply run again.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// postgres-nio's client configuration for a `postgres://` (or `postgresql://`) URL. TLS is used unless the URL
    /// says `sslmode=disable`.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user
        else {
            throw Failure(description: "\(redacted(url)) is not a PostgreSQL URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw Failure(description: "\(redacted(url)): sslmode=\(sslMode) is not one of disable, prefer, require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: tls)
        if let options = components.queryItems?.first(where: { $0.name == "options" })?.value {
            configuration.options.additionalStartupParameters = try startupParameters(options, url: url)
        }
        return configuration
    }

    /// libpq's `options` parameter (`-c name=value`, repeatable, e.g. `-c search_path=musikk`) as startup parameters.
    static func startupParameters(_ options: String, url: String) throws -> [(String, String)] {
        var parameters: [(String, String)] = []
        var words = options.split(separator: " ").map(String.init)[...]
        while let word = words.popFirst() {
            var setting: String
            if word == "-c", let next = words.popFirst() {
                setting = next
            } else if word.hasPrefix("-c") {
                setting = String(word.dropFirst(2))
            } else if word.hasPrefix("--") {
                setting = String(word.dropFirst(2))
            } else {
                throw Failure(description: "\(redacted(url)): options takes -c name=value settings, not \"\(word)\"")
            }
            setting = setting.replacingOccurrences(of: "-", with: "_", options: [], range: setting.startIndex..<(setting.firstIndex(of: "=") ?? setting.endIndex))
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Failure(description: "\(redacted(url)): options takes -c name=value settings, not \"\(setting)\"")
            }
            parameters.append((parts[0], parts[1]))
        }
        return parameters
    }

    /// The URL without its password, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "the database URL"
    }

    /// A PostgreSQL error as its server message (postgres-nio's own description hides it).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return "\(error.code)"
    }

    /// One transaction on one leased connection, run by one pool thread.
    final class Session: SocialSession {
        let connection: PostgresConnection
        let logger: Logger
        private var announcesEvents = false

        init(connection: PostgresConnection, logger: Logger) {
            self.connection = connection
            self.logger = logger
        }

        func run(_ sql: String) throws {
            _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
        }

        func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
            try query(sql, arguments).metadata.rows ?? 0
        }

        func fetchAll(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
            try query(sql, arguments).rows.map { row in
                try SQLRow(row.map { cell in (cell.columnName, try Self.value(cell)) })
            }
        }

        private func query(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
            let bound = try arguments.bind(sql) { "$\($0)" }
            var bindings = PostgresBindings(capacity: bound.values.count)
            for value in bound.values {
                switch value {
                case .null: bindings.appendNull()
                case .integer(let integer): bindings.append(integer)
                case .real(let real): bindings.append(real)
                case .text(let text): bindings.append(text)
                case .date(let date): bindings.append(date)
                case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
                }
            }
            do {
                return try connection.query(PostgresQuery(unsafeSQL: bound.sql, binds: bindings), logger: logger).wait()
            } catch let error as PSQLError where !PostgresStorage.isRetryable(error) {
                throw Failure(description: "PostgreSQL refused a statement: \(PostgresStorage.describe(error)) in: \(sql)")
            }
        }

        /// Each word folded the way the index folds names (``PostgresMigrations``: lower case, accents removed) and
        /// made a quoted prefix query, so no input is read as tsquery syntax; all must match. Ranked with the name
        /// weighing ten times the context.
        func searchClauses(words: [String]) -> SearchClauses {
            let query = "(" + words.map { _ in "to_tsquery('simple', quote_literal(trim(musikk_fold(?))) || ':*')" }.joined(separator: " && ") + ")"
            let arguments = words.map { SQLValue.text($0) }
            return SearchClauses(
                match: "searchIndex.document @@ \(query)", matchArguments: arguments,
                order: "ts_rank('{0, 0, 0.1, 1}', searchIndex.document, \(query)) DESC", orderArguments: arguments)
        }

        /// Takes the transaction-wide lock that makes event-storing transactions commit one at a time, in the order
        /// of their event ids, and announces the events to every instance when the transaction commits.
        func willStoreEvents() throws {
            guard !announcesEvents else { return }
            try run("SELECT pg_advisory_xact_lock(\(PostgresMigrations.eventOrderLock))")
            try run("NOTIFY \(PostgresStorage.eventChannel)")
            announcesEvents = true
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8: return .real(try cell.decode(Double.self))
            case .numeric:
                let text = try cell.decode(String.self)
                if let integer = Int64(text) { return .integer(integer) }
                return .real(Double(text) ?? .nan)
            case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
            case .timestamptz, .timestamp: return .date(try cell.decode(Date.self))
            case .bytea: return .bytes(Array(try cell.decode(ByteBuffer.self).readableBytesView))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}

extension PostgresStorage {
    /// Calls `announced` whenever some instance commits events (PostgreSQL `NOTIFY` on ``eventChannel``), and once
    /// each time the listening connection is (re)established, since announcements made while it was down are lost.
    /// Runs until the task is cancelled; a lost connection is retried every second.
    public func listenForEvents(_ announced: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.eventChannel) { notifications in
                        await announced()
                        for try await _ in notifications { await announced() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL event listener, reconnecting", metadata: ["error": "\(Self.describe(error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The value of a server-wide secret, generated by `generate` the first time any instance asks and stored in
    /// the database: every instance reads the same one, and it is never generated twice (the first insert wins).
    public func sharedSecret(_ name: String, generate: @escaping @Sendable () -> String) async throws -> String {
        try await write { db in
            try db.execute("INSERT INTO serverSecret (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [name, generate()])
            guard let value = try db.value(as: String.self, "SELECT value FROM serverSecret WHERE name = ?", [name]) else {
                throw Failure(description: "the secret \(name) could not be stored in the database")
            }
            return value
        }
    }
}
