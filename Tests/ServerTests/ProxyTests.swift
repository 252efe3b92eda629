import Foundation
@testable import MusikkServer
import Testing
import TestStores
import TestSupport

/// musikk-server behind a real nginx (the Debian package) configured by `admin nginx-config`, judged with curl.
@Suite("Behind nginx")
struct ProxyTests {
    /// curl's answer: the status and the decoded JSON body. On a thread of its own: the server it talks to runs in
    /// this process, and a blocked cooperative thread is one it cannot answer on.
    static func curl(_ arguments: [String]) async throws -> (status: Int, json: [String: Any]) {
        let result = try await Command.runInBackground("/usr/bin/curl", ["-sS", "--max-time", "20", "-w", "\n%{http_code}"] + arguments)
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let body = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        return (status, json)
    }

    @Test("admin nginx-config puts the server behind nginx: the API through it, events streamed as they happen, clients' addresses forwarded", arguments: StoreBackend.all)
    func behindNginx(_ backend: StoreBackend) async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let binary = Repository.executable("musikk-server").path
        let server = try ServerUnderTest(backend) {
            $0.trustedProxies = ["127.0.0.1/32", "::1/128"].compactMap(IPNetwork.init)
            $0.signUpsPerAddress = 2
        }
        try await server.withLiveServer { api in
            let upstream = try #require(api.port)
            let nginx = try NginxServer { port in
                let result = try Command.run(binary, ["admin", "nginx-config", "--upstream", "127.0.0.1:\(upstream)", "--listen", "127.0.0.1:\(port)"])
                guard result.status == 0 else { throw SetupError(description: result.standardError) }
                return result.text
            }
            defer { nginx.stop() }
            let base = nginx.baseURL

            // Sign-ups are limited per client address: nginx forwards each client's, so one address runs out and
            // another does not.
            func signUp(_ name: String, from address: String) async throws -> (status: Int, json: [String: Any]) {
                try await Self.curl([
                    "-X", "POST", "-H", "Content-Type: application/json", "-H", "X-Forwarded-For: \(address)", "\(base)/api/auth/signup",
                    "--data", #"{"email":"\#(name)@example.org","password":"a long enough password","displayName":"\#(name)"}"#,
                ])
            }
            let ann = try await signUp("ann", from: "198.51.100.7")
            #expect(ann.status == 201, "\(ann)")
            #expect(try await signUp("bob", from: "198.51.100.7").status == 201)
            #expect(try await signUp("cat", from: "198.51.100.7").status == 429)
            #expect(try await signUp("dan", from: "198.51.100.8").status == 201)

            // An event stream held through nginx gets a comment posted through nginx at once: a buffering proxy would
            // hold those few hundred bytes until its buffer filled. (The configuration turns buffering off for the
            // stream, and the server asks the same with `X-Accel-Buffering: no`.)
            let token = try #require(ann.json["accessToken"] as? String)
            let stream = try CurlEventStream(url: "\(base)/api/events?access_token=\(token)&watch=track:\(track)")
            #expect(await stream.waitUntilConnected(timeout: 10), "no stream through nginx: \(stream.text)")
            let posted = try await Self.curl([
                "-X", "POST", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer \(token)",
                "\(base)/api/tracks/\(track)/comments", "--data", #"{"body":"through the proxy"}"#,
            ])
            #expect(posted.status == 201, "\(posted)")
            let arrived = await stream.waitFor(timeout: 3) { $0.type == "comment" && $0.data.contains("through the proxy") }
            #expect(arrived != nil, "the comment did not arrive through nginx within 3 s: \(stream.text)")
            stream.stop()

            // The web app's pages come through too.
            let page = try await Command.runInBackground("/usr/bin/curl", ["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "\(base)/playlists"])
            #expect(page.text == "200")
        }
    }

    @Test("admin nginx-config refuses what cannot go in a configuration")
    func refusesBadInput() throws {
        let binary = Repository.executable("musikk-server").path
        for arguments in [[], ["--upstream", "localhost"], ["--upstream", "127.0.0.1:8080;}"], ["--upstream", "127.0.0.1:8080", "--listen", "80; include /etc"]] {
            let result = try Command.run(binary, ["admin", "nginx-config"] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.text)")
        }
    }
}
