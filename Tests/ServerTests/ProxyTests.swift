import Foundation
@testable import MusikkServer
import Testing
import TestStores
import TestSupport

/// musikk-server behind a real nginx (the Debian package) configured by `admin nginx-config`, judged with curl.
@Suite("Behind nginx")
struct ProxyTests {
    /// curl's answer: the status, the decoded JSON body, and curl's own complaint (status 0 means none came).
    typealias CurlAnswer = (status: Int, json: [String: Any], error: String)

    /// curl's `--max-time`, for every call a test makes through nginx.
    static let maxTime = ["--max-time", String(ServerUnderTest.answerWait)]

    /// Calls curl on a thread of its own: the server it talks to runs in this process, and a blocked cooperative
    /// thread is one it cannot answer on.
    static func curl(_ arguments: [String]) async throws -> CurlAnswer {
        let result = try await Command.runInBackground("/usr/bin/curl", ["-sS"] + maxTime + ["-w", "\n%{http_code}"] + arguments)
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let body = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        return (status, json, result.standardError)
    }

    @Test("admin nginx-config puts the server behind nginx: the API through it, events streamed as they happen, clients' addresses forwarded", .serialized, arguments: StoreBackend.all)
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
            func signUp(_ name: String, from address: String) async throws -> CurlAnswer {
                try await Self.curl([
                    "-X", "POST", "-H", "Content-Type: application/json", "-H", "X-Forwarded-For: \(address)", "\(base)/api/auth/signup",
                    "--data", #"{"email":"\#(name)@example.org","password":"a long enough password","displayName":"\#(name)"}"#,
                ])
            }
            let ann = try await signUp("ann", from: "198.51.100.7")
            #expect(ann.status == 201, "\(ann)")
            let bob = try await signUp("bob", from: "198.51.100.7")
            #expect(bob.status == 201, "\(bob)")
            let cat = try await signUp("cat", from: "198.51.100.7")
            #expect(cat.status == 429, "\(cat)")
            let dan = try await signUp("dan", from: "198.51.100.8")
            #expect(dan.status == 201, "\(dan)")

            // An event stream held through nginx gets a comment posted through nginx at once: a buffering proxy would
            // hold those few hundred bytes until its buffer filled. (The configuration turns buffering off for the
            // stream, and the server asks the same with `X-Accel-Buffering: no`.)
            let token = try #require(ann.json["accessToken"] as? String)
            let stream = try CurlEventStream(url: "\(base)/api/events?access_token=\(token)&watch=track:\(track)")
            #expect(await stream.waitUntilConnected(timeout: 30), "no stream through nginx: \(stream.text)")
            let posted = try await Self.curl([
                "-X", "POST", "-H", "Content-Type: application/json", "-H", "Authorization: Bearer \(token)",
                "\(base)/api/tracks/\(track)/comments", "--data", #"{"body":"through the proxy"}"#,
            ])
            #expect(posted.status == 201, "\(posted)")
            let arrived = await stream.waitFor(timeout: 20) { $0.type == "comment" && $0.data.contains("through the proxy") }
            #expect(arrived != nil, "the comment did not arrive through nginx within 20 s (a buffering proxy holds it until its keep-alives fill a buffer, a minute or more): \(stream.text)")
            stream.stop()

            // The web app's pages come through too.
            let page = try await Command.runInBackground("/usr/bin/curl", ["-sS"] + Self.maxTime + ["-o", "/dev/null", "-w", "%{http_code}", "\(base)/playlists"])
            #expect(page.text == "200")
        }
    }

    /// The njs module Debian's libnginx-mod-http-js installs.
    static let njsModule = "/usr/lib/nginx/modules/ngx_http_js_module.so"

    @Test(
        "with --media-from, nginx checks signed links itself (njs for HMAC-SHA256, secure_link for its MD5 scheme): expired, forged and out-of-tree links get 403, good ones exact ranges, and ffmpeg plays HLS with the server stopped",
        .serialized, arguments: StoreBackend.all, MediaSignature.allCases)
    func mediaByNginx(_ backend: StoreBackend, _ scheme: MediaSignature) async throws {
        let binary = Repository.executable("musikk-server").path
        let publication = try PublishedFixtures.get()
        let track = try #require(try PublishedFixtures.trackIds().first)
        // Real time: nginx checks the expiry against its own clock.
        let server = try ServerUnderTest(backend) {
            $0.clock = { Date() }
            $0.mediaSignature = scheme
        }
        let script = try Repository.temporaryDirectory("njs").appendingPathComponent("musikk-media.js").path
        let key = try await server.withRouter { _ in try server.mediaKey() }  // the key exists once the server started
        let (nginx, progressive, hls) = try await server.withLiveServer { api in
            let upstream = try #require(api.port)
            let nginx = try NginxServer(modules: [Self.njsModule]) { port in
                let result = try Command.run(binary, [
                    "admin", "nginx-config", "--upstream", "127.0.0.1:\(upstream)", "--listen", "127.0.0.1:\(port)",
                    "--media-from", publication.path, "--media-script", script, "--media-signature", scheme.rawValue,
                ] + server.storeArguments)
                guard result.status == 0 else { throw SetupError(description: result.standardError) }
                return result.text
            }
            // A listener gets signed links from the server through nginx, as the web app does.
            let signUp = try await Self.curl([
                "-X", "POST", "-H", "Content-Type: application/json", "\(nginx.baseURL)/api/auth/signup",
                "--data", #"{"email":"ann@example.org","password":"a long enough password","displayName":"Ann"}"#,
            ])
            let token = try #require(signUp.json["accessToken"] as? String)
            let playback = try await Self.curl(["-H", "Authorization: Bearer \(token)", "\(nginx.baseURL)/api/tracks/\(track)/playback"])
            return (nginx, playback.json["progressive"] as? String ?? "", playback.json["hls"] as? String ?? "")
        }
        defer { nginx.stop() }
        // The server has stopped: whatever answers now is nginx alone.
        let parts = progressive.split(separator: "/").map(String.init)  // stream, EXPIRES, SIGNATURE, PATH…
        try #require(parts.count > 4 && parts[0] == "stream")
        let (expires, signature, path) = (parts[1], parts[2], parts[3...].joined(separator: "/"))
        let file = try Data(contentsOf: publication.appendingPathComponent(path))

        func fetch(_ url: String, range: String? = nil) async throws -> (status: Int, body: Data) {
            let output = try Repository.temporaryDirectory("nginx-fetch").appendingPathComponent("body").path
            let result = try await Command.runInBackground(
                "/usr/bin/curl", ["-sS"] + Self.maxTime + ["-o", output, "-w", "%{http_code}"] + (range.map { ["-H", "Range: \($0)"] } ?? []) + [url])
            return (Int(result.text) ?? 0, (try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data())
        }
        // A good link: exact bytes of any range, 206.
        let ranged = try await fetch("\(nginx.baseURL)\(progressive)", range: "bytes=100-4195")
        #expect(ranged.status == 206)
        #expect(ranged.body == file.subdata(in: 100..<4196))
        let suffix = try await fetch("\(nginx.baseURL)\(progressive)", range: "bytes=-500")
        #expect(suffix.status == 206 && suffix.body == file.suffix(500))

        // Python signs links as the README describes each scheme: a genuine signature on an expired time is
        // refused, as is (with njs) one too far ahead, a forged signature, and any path outside media/, hls/, dash/.
        func sign(_ expiry: Int) throws -> String {
            let result = try Command.run("/usr/bin/python3", ["-c", """
                import base64, hashlib, hmac, sys
                key, expires, scheme = sys.argv[1:4]
                if scheme == "hmac-sha256":
                    mac = hmac.new(base64.b64decode(key), ("musikk-media-v1:" + expires).encode(), hashlib.sha256).digest()
                else:
                    mac = hashlib.md5((expires + " musikk-media-v1:" + key).encode()).digest()
                print(base64.urlsafe_b64encode(mac).decode().rstrip("="))
                """, key, String(expiry), scheme.rawValue])
            return String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let now = Int(Date().timeIntervalSince1970)
        #expect(try sign(Int(expires) ?? 0) == signature, "the README's scheme and the server's links disagree")
        let past = now / 300 * 300 - 300
        let farAhead = (now / 300 + 1000) * 300
        // The first character: the last one's low bits carry no signature bits, and base64 decoders ignore them.
        let forged = (signature.first == "A" ? "B" : "A") + String(signature.dropFirst())
        let tooFar = scheme == .hmacSHA256 ? [("too far ahead", "/stream/\(farAhead)/\(try sign(farAhead))/\(path)")] : []
        for (name, url) in tooFar + [
            ("expired", "/stream/\(past)/\(try sign(past))/\(path)"),
            ("forged", "/stream/\(expires)/\(forged)/\(path)"),
            ("out of the tree: api", "/stream/\(expires)/\(signature)/api/index.json"),
            ("out of the tree: publish.json", "/stream/\(expires)/\(signature)/publish.json"),
            ("out of the tree: dot-dot", "/stream/\(expires)/\(signature)/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
            ("no signature", "/stream/\(expires)/\(path)"),
        ] {
            #expect(try await fetch("\(nginx.baseURL)\(url)").status == 403, "\(name)")
        }
        // ffmpeg plays the HLS master through nginx to the end (its relative URIs carry the token).
        let played = try await Command.runInBackground("/usr/bin/ffmpeg", ["-v", "error", "-nostdin", "-i", "\(nginx.baseURL)\(hls)", "-f", "null", "-"])
        #expect(played.status == 0, "\(played.standardError)")
        #expect(!nginx.requests().contains { $0.contains("/stream/") && $0.hasSuffix(" 502") })
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
