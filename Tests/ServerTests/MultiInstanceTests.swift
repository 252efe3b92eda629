import Foundation
import Testing
import TestStores
import TestSupport

/// Two real musikk-server processes on one PostgreSQL database, behind one real nginx configured by
/// `admin nginx-config`, on loopback; judged with curl.
@Suite("Several instances on PostgreSQL")
struct MultiInstanceTests {
    /// A musikk-server process of its own (so it can be stopped abruptly, as a crash or a node loss would).
    final class Instance: Sendable {
        let process: Process
        let port: Int
        let log: URL
        var base: String { "http://127.0.0.1:\(port)" }

        init(database: String, name: String) throws {
            port = try NginxServer.freePort()
            let data = try Repository.temporaryDirectory("instance-\(name)").appendingPathComponent("data")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Repository.executable("musikk-server").path)
            process.arguments = [
                "--publication", try PublishedFixtures.get().path, "--data", data.path, "--database", database, "--port", String(port),
                "--trusted-proxy", "127.0.0.1/32", "--database-connections", "4",
            ]
            let log = data.deletingLastPathComponent().appendingPathComponent("server.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            self.log = log
            self.process = process
        }

        /// Waits until it answers /health.
        func waitUntilUp() async throws -> Bool {
            for _ in 0..<300 {
                if try await Command.runInBackground("/usr/bin/curl", ["-sf", "--max-time", "2", "\(base)/health"]).status == 0 { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// SIGKILL: the instance vanishes mid-stream without closing anything.
        func kill() {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    @Test("an event raised on A reaches a stream on B; with A killed mid-stream the client resumes through nginx on B and misses nothing; log-in lock-outs, keys and avatars are shared")
    func twoInstances() async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let database = try StoreBackend.freshPostgresURL()
        let a = try Instance(database: database, name: "a")
        let b = try Instance(database: database, name: "b")
        defer { a.kill(); b.kill() }
        let aUp = try await a.waitUntilUp()
        let bUp = try await b.waitUntilUp()
        try #require(aUp && bUp, "A: \(a.logText)\nB: \(b.logText)")
        let binary = Repository.executable("musikk-server").path
        let nginx = try NginxServer { port in
            let result = try Command.run(
                binary, ["admin", "nginx-config", "--upstream", "127.0.0.1:\(a.port)", "--upstream", "127.0.0.1:\(b.port)", "--listen", "127.0.0.1:\(port)"])
            guard result.status == 0 else { throw SetupError(description: result.standardError) }
            return result.text
        }
        defer { nginx.stop() }

        // Sign up through the proxy; the token it gets is accepted by both instances (one shared key).
        let signUp = try await ProxyTests.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "\(nginx.baseURL)/api/auth/signup",
            "--data", #"{"email":"ann@example.org","password":"a long enough password","displayName":"Ann"}"#,
        ])
        #expect(signUp.status == 201, "\(signUp)")
        let token = try #require(signUp.json["accessToken"] as? String)
        for instance in [a, b] {
            #expect(try await ProxyTests.curl(["-H", "Authorization: Bearer \(token)", "\(instance.base)/api/me"]).status == 200)
        }
        // An avatar put through A is served by B: it lives in the database, not in A's --data.
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 42, count: 64)
        let folder = try Repository.temporaryDirectory("avatar")
        let sent = folder.appendingPathComponent("sent.png")
        let received = folder.appendingPathComponent("received.png")
        try Data(png).write(to: sent)
        #expect(try await ProxyTests.curl([
            "-X", "PUT", "-H", "Content-Type: image/png", "-H", "Authorization: Bearer \(token)", "\(a.base)/api/me/avatar",
            "--data-binary", "@\(sent.path)",
        ]).status == 200)
        let me = try await ProxyTests.curl(["-H", "Authorization: Bearer \(token)", "\(b.base)/api/me"])
        let avatarURL = try #require((me.json["profile"] as? [String: Any])?["avatarUrl"] as? String, "\(me)")
        let fetched = try await Command.runInBackground(
            "/usr/bin/curl", ["-s", "-o", received.path, "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", "\(b.base)\(avatarURL)"])
        #expect(fetched.text == "200")
        #expect(try Data(contentsOf: received) == Data(png))

        func comment(_ text: String, on instance: Instance) async throws {
            let posted = try await ProxyTests.curl([
                "-X", "POST", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer \(token)",
                "\(instance.base)/api/tracks/\(track)/comments", "--data", #"{"body":"\#(text)"}"#,
            ])
            #expect(posted.status == 201, "\(posted)")
        }
        let watch = "access_token=\(token)&watch=track:\(track)"

        // A comment posted on A reaches a stream held by B (LISTEN/NOTIFY), and one held by A.
        let onB = try CurlEventStream(url: "\(b.base)/api/events?\(watch)")
        let onA = try CurlEventStream(url: "\(a.base)/api/events?\(watch)")
        defer { onB.stop(); onA.stop() }
        let bConnected = await onB.waitUntilConnected(timeout: 30)
        let aConnected = await onA.waitUntilConnected(timeout: 30)
        #expect(bConnected && aConnected)
        try await comment("first, on A", on: a)
        #expect(await onB.waitFor(timeout: 30) { $0.type == "comment" && $0.data.contains("first, on A") } != nil, "B's stream: \(onB.text)")
        try await comment("second, on B", on: b)
        let second = await onA.waitFor(timeout: 30) { $0.type == "comment" && $0.data.contains("second, on B") }
        let lastOnA = try #require(second?.id, "A's stream: \(onA.text)")

        // A dies mid-stream. Meanwhile two more comments are posted on B; the client reconnects through nginx,
        // which can only reach B now, with the last id it saw: it gets both, and nothing twice.
        a.kill()
        onA.stop()
        try await comment("third, while A is down", on: b)
        try await comment("fourth, while A is down", on: b)
        let resumed = try CurlEventStream(url: "\(nginx.baseURL)/api/events?\(watch)", headers: ["Last-Event-ID: \(lastOnA)"])
        defer { resumed.stop() }
        #expect(await resumed.waitFor(timeout: 30) { $0.data.contains("fourth, while A is down") } != nil, "resumed: \(resumed.text)")
        let replayed = resumed.events.filter { $0.type == "comment" }.map(\.data)
        #expect(replayed.count == 2 && replayed[0].contains("third") && replayed[1].contains("fourth"), "\(replayed)")

        // The log-in lock-out counted on one instance holds on the other (both read the same counts).
        let c = try Instance(database: database, name: "c")
        defer { c.kill() }
        try #require(try await c.waitUntilUp())
        for _ in 0..<5 {
            let failed = try await ProxyTests.curl([
                "-X", "POST", "-H", "Content-Type: application/json", "\(b.base)/api/auth/login",
                "--data", #"{"email":"ann@example.org","password":"not the password"}"#,
            ])
            #expect(failed.status == 401, "\(failed)")
        }
        let locked = try await ProxyTests.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "\(c.base)/api/auth/login",
            "--data", #"{"email":"ann@example.org","password":"a long enough password"}"#,
        ])
        #expect(locked.status == 429, "\(locked)")
    }
}
