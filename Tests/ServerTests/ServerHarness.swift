import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MusikkServer
import Synchronization
import Testing
import TestStores
import TestSupport

/// The good fixtures ingested and published once per test process (by the real musikk-ingest and musikk-publish).
enum PublishedFixtures {
    static let publication: Result<URL, SetupError> = Result { () throws(SetupError) in
        do {
            let root = try Repository.temporaryDirectory("server-fixtures")
            let work = root.appendingPathComponent("work")
            let out = root.appendingPathComponent("out")
            let ingest = try Command.run(Repository.executable("musikk-ingest").path,
                                         [Repository.goodMasters.path, work.path, "--jobs", "2", "--quiet"])
            guard ingest.status == 0 else { throw SetupError(description: ingest.standardError) }
            let publish = try Command.run(Repository.executable("musikk-publish").path, [work.path, out.path, "--quiet"])
            guard publish.status == 0 else { throw SetupError(description: publish.standardError) }
            return out
        } catch let error as SetupError {
            throw error
        } catch {
            throw SetupError(description: "\(error)")
        }
    }

    static func get() throws -> URL { try publication.get() }

    /// The published JSON document of a track.
    static func trackDocument(_ id: String) throws -> [String: Any] {
        let data = try Data(contentsOf: get().appendingPathComponent("api/tracks/\(id).json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The id of the longest published track.
    static func longestTrack() throws -> String {
        let durations = try trackIds().map { ($0, try trackDocument($0)["duration"] as? Double ?? 0) }
        guard let longest = durations.max(by: { $0.1 < $1.1 }) else { throw SetupError(description: "no tracks published") }
        return longest.0
    }

    /// The published track ids, from the first page of the JSON catalog.
    static func trackIds() throws -> [String] {
        let data = try Data(contentsOf: get().appendingPathComponent("api/tracks/page-1.json"))
        let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }
}

/// A clock the tests move forward.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_900_000_000))

    func now() -> Date { current.withLock { $0 } }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// One server under test: its configuration (fresh data directory, or a fresh PostgreSQL schema, cheap bcrypt, a
/// test clock) and helpers to call it.
struct ServerUnderTest {
    /// Seconds a test waits for the answer to one request to a live server, directly or through nginx: what is
    /// checked is the answer, not how fast a 2-core machine running every suite at once gives it.
    static let answerWait = 60

    let configuration: ServerConfiguration
    let clock: TestClock

    init(_ backend: StoreBackend, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws {
        let clock = TestClock()
        var configuration = ServerConfiguration(
            publication: try PublishedFixtures.get(), dataDirectory: try Repository.temporaryDirectory("server-data").appendingPathComponent("data"))
        if backend == .postgres {
            configuration.database = try StoreBackend.freshPostgresURL()
            // Dozens of servers run at once against one throwaway cluster.
            configuration.databaseConnections = 4
        }
        configuration.port = 0
        configuration.bcryptCost = 4
        configuration.clock = { clock.now() }
        configuration.catalogCheckInterval = .milliseconds(200)
        configuration.eventKeepAliveInterval = .milliseconds(200)
        configuration.accessLog = false
        adjust(&configuration)
        self.configuration = configuration
        self.clock = clock
    }

    /// The options that point an admin command at this server's store.
    var storeArguments: [String] {
        ["--data", configuration.dataDirectory.path] + (configuration.database.map { ["--database", $0] } ?? [])
    }

    /// The first column of the first row `sql` selects from this server's store, read by the database's own
    /// client (sqlite3 or psql), not by Musikk's code.
    func storeValue(_ sql: String) throws -> String {
        if let url = configuration.database { return try StoreBackend.psql(url, sql) }
        let result = try Command.run("/usr/bin/sqlite3", [configuration.dataDirectory.appendingPathComponent("social.sqlite").path, sql])
        guard result.status == 0 else { throw SetupError(description: "\(sql): \(result.standardError)") }
        return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The key media links are signed with: in secrets.json, or in the database several instances share.
    func mediaKey() throws -> String {
        if configuration.database != nil { return try storeValue("SELECT value FROM serverSecret WHERE name = 'mediaKey'") }
        let data = try Data(contentsOf: configuration.dataDirectory.appendingPathComponent("secrets.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["mediaKey"] as? String ?? ""
    }

    /// Runs `body` against the router (no sockets).
    func withRouter<Value: Sendable>(_ body: @Sendable (API) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(configuration)
        return try await app.test(.router) { client in try await body(API(client: client)) }
    }

    /// Runs `body` against the server listening on a loopback port.
    func withLiveServer<Value: Sendable>(_ body: @Sendable (API) async throws -> Value) async throws -> Value {
        let app = try await buildApplication(configuration)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            let patient = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(Self.answerWait)))
            patient.connect()
            do {
                let value = try await body(API(live: patient, port: port))
                try await patient.shutdown()
                return value
            } catch {
                try? await patient.shutdown()
                throw error
            }
        }
    }
}

/// Signed-in user as a test sees them.
struct Session: Sendable {
    var userId: Int64
    var accessToken: String
    var refreshToken: String
}

/// An answer as tests read it, whichever way the request went.
struct Answer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// JSON calls to the API.
struct API: Sendable {
    /// Sends one request: through the router, or over a socket to the live server.
    private let send: @Sendable (_ uri: String, _ method: HTTPRequest.Method, _ headers: HTTPFields, _ body: ByteBuffer?) async throws -> Answer
    let port: Int?

    init(client: any TestClientProtocol) {
        port = client.port
        send = { uri, method, headers, body in
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
            return Answer(status: response.status, headers: response.headers, body: response.body)
        }
    }

    /// Over a socket, with a client that waits 60 s for an answer: HummingbirdTesting's own live client gives up
    /// after 20 s, which CI (every suite at once on two cores) has exceeded.
    init(live client: TestClient, port: Int) {
        self.port = port
        send = { uri, method, headers, body in
            var headers = headers
            headers[.connection] = "keep-alive"
            let response = try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
            return Answer(status: response.status, headers: response.headers, body: response.body ?? ByteBuffer())
        }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, as session: Session? = nil, json: Any? = nil, headers extra: HTTPFields = [:],
        body raw: ByteBuffer? = nil
    ) async throws -> Answer {
        var headers = extra
        if let session { headers[.authorization] = "Bearer \(session.accessToken)" }
        var body = raw
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        return try await send(path, method, headers, body)
    }

    /// Calls and decodes a JSON object answer, expecting `status`.
    func object(
        _ method: HTTPRequest.Method, _ path: String, as session: Session? = nil, json: Any? = nil, expect status: HTTPResponse.Status = .ok,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: Any] {
        let response = try await call(method, path, as: session, json: json)
        #expect(response.status == status, "\(method) \(path): \(String(buffer: response.body))", sourceLocation: sourceLocation)
        return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// Calls and decodes a JSON array answer.
    func array(_ method: HTTPRequest.Method, _ path: String, as session: Session? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let response = try await call(method, path, as: session)
        #expect(response.status == .ok, "\(method) \(path): \(String(buffer: response.body))", sourceLocation: sourceLocation)
        return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [[String: Any]] ?? []
    }

    /// The `items` of a page.
    func items(_ path: String, as session: Session, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        try await object(.get, path, as: session, sourceLocation: sourceLocation)["items"] as? [[String: Any]] ?? []
    }

    /// The error code of an error answer (the one error shape).
    func errorCode(_ response: Answer) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    func signUp(_ name: String, email: String? = nil, password: String = "correct horse battery") async throws -> Session {
        let tokens = try await object(
            .post, "/api/auth/signup", json: ["email": email ?? "\(name.lowercased())@example.org", "password": password, "displayName": name],
            expect: .created)
        return try Self.session(tokens)
    }

    static func session(_ tokens: [String: Any]) throws -> Session {
        guard let id = tokens["userId"] as? Int, let access = tokens["accessToken"] as? String, let refresh = tokens["refreshToken"] as? String else {
            throw SetupError(description: "no tokens in \(tokens)")
        }
        return Session(userId: Int64(id), accessToken: access, refreshToken: refresh)
    }
}

/// An SSE client that is not ours: `curl -N` reading the stream, its output collected as it arrives.
final class CurlEventStream: Sendable {
    private let process: Process
    private let output = Mutex("")

    init(url: String, headers: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sN", "--max-time", "120"] + headers.flatMap { ["-H", $0] } + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        self.process = process
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            if !data.isEmpty { self.output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        try process.run()
    }

    var text: String { output.withLock { $0 } }

    /// The events received so far: (id, type, data).
    var events: [(id: String, type: String, data: String)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id = "", type = "message", data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return id.isEmpty ? nil : (id, type, data)
        }
    }

    /// Waits until an event matches, up to `timeout` seconds.
    func waitFor(timeout: Double = 30, _ matches: ((id: String, type: String, data: String)) -> Bool) async -> (id: String, type: String, data: String)? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let event = events.first(where: matches) { return event }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Waits until the server has sent the stream's opening comment; false at once if curl has ended without it.
    /// The default is long because CI runs every suite at once on two cores.
    func waitUntilConnected(timeout: Double = 60) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if text.contains(": connected") { return true }
            if !process.isRunning { return text.contains(": connected") }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Ends curl. SIGKILL, because a child of the test process may inherit a mask that blocks SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
