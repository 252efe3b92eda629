import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestStores
import TestSupport

@Suite("The web app", .serialized)
struct WebAppTests {
    @Test("every page URL gets the shell with a strict security policy; app files have validators and unknown ones are 404", .serialized, arguments: StoreBackend.all)
    func shellAndFiles(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            for path in ["/", "/tracks/abc", "/forums/3", "/login"] {
                let page = try await api.call(.get, path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                let policy = page.headers[values: .contentSecurityPolicy]
                #expect(policy.count == 1 && policy.first?.contains("script-src 'self'") == true && policy.first?.contains("unsafe") == false, "\(policy)")
                let html = String(buffer: page.body)
                #expect(html.contains(#"<script type="module" src="/app/app.js"></script>"#) && html.contains(#"id="waveform""#))
            }
            // HEAD answers as GET does, without the body.
            for path in ["/", "/playlists/1", "/app/app.js"] {
                let get = try await api.call(.get, path)
                let head = try await api.call(.head, path)
                #expect(head.status == .ok && head.body.readableBytes == 0, "HEAD \(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType] && head.headers[.contentLength] == String(get.body.readableBytes), "HEAD \(path)")
            }
            #expect(try await api.call(.head, "/app/nope.js").status == .notFound)
            // The shell carries the server's page table, the scripts' only one; every page in it is served.
            let shell = String(buffer: try await api.call(.get, "/").body)
            let start = try #require(shell.range(of: #"<script type="application/json" id="page-table">"#))
            let end = try #require(shell.range(of: "</script>", range: start.upperBound..<shell.endIndex))
            let table = try #require(try JSONSerialization.jsonObject(with: Data(shell[start.upperBound..<end.lowerBound].utf8)) as? [[String: String]])
            #expect(table.count >= 16 && Set(table.compactMap { $0["view"] }).count == table.count)
            for page in table {
                let path = try #require(page["path"]).replacingOccurrences(of: ":id", with: "1")
                #expect(try await api.call(.get, path).status == .ok, "\(path)")
            }
            #expect(try await api.call(.get, "/nowhere").status == .notFound)
            let script = try await api.call(.get, "/app/app.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            let etag = try #require(script.headers[.eTag])
            #expect(try await api.call(.get, "/app/app.js", headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(try await api.call(.get, "/app/nope.js").status == .notFound)
            #expect(try await api.call(.get, "/app/..%2Fapp.js").status == .notFound)
        }
    }

    @Test("in headless Chromium, as two listeners on a desktop and a phone: every flow of the app, axe-core on every page at both widths in both themes, no console error", .serialized, arguments: StoreBackend.all)
    func inChromium(_ backend: StoreBackend) async throws {
        let track = try PublishedFixtures.longestTrack()
        let title = try #require(try PublishedFixtures.trackDocument(track)["title"] as? String)
        let server = try ServerUnderTest(backend) { $0.clock = { Date() } }
        try await server.withLiveServer { api in
            let port = try #require(api.port)
            let result = try await Command.runInBackground("/usr/bin/python3", [
                Repository.root.appendingPathComponent("Tests/Browser/web_app.py").path, "--base", "http://127.0.0.1:\(port)",
                "--track-title", title, "--screenshots", try Self.screenshots().path,
            ])
            #expect(result.status == 0, "\(result.text)\n\(result.standardError.suffix(3000))")
            #expect(result.text.contains("all browser checks passed"))
        }
    }

    @Test("in headless Chromium: lossless plays native, progressive and through MSE; the protected track plays through MSE + EME for two listeners, lossy and lossless; a visitor, a wrong key and the network down do not play; no console error; axe passes")
    func tiersInChromium() async throws {
        let fixtures = try TierFixtures.made.get()
        let wrongKey = try Repository.temporaryDirectory("wrong-key").appendingPathComponent("kek")
        try Data(ContentKeyJudge.randomKeyHex().utf8).write(to: wrongKey)
        let server = try ServerUnderTest(.sqlite) { configuration in
            configuration.publication = fixtures.out
            configuration.keyFile = fixtures.keyFile
            configuration.clock = { Date() }
        }
        let wrong = try ServerUnderTest(.sqlite) { configuration in
            configuration.publication = fixtures.out
            configuration.keyFile = wrongKey
            configuration.clock = { Date() }
        }
        try await server.withLiveServer { api in
            let port = try #require(api.port)
            try await wrong.withLiveServer { wrongAPI in
                let wrongPort = try #require(wrongAPI.port)
                let result = try await Command.runInBackground("/usr/bin/python3", [
                    Repository.root.appendingPathComponent("Tests/Browser/tiers.py").path, "--base", "http://127.0.0.1:\(port)",
                    "--wrong-key-base", "http://127.0.0.1:\(wrongPort)", "--clear-track", fixtures.clear, "--protected-track", fixtures.protected,
                ])
                #expect(result.status == 0, "\(result.text)\n\(result.standardError.suffix(3000))")
                #expect(result.text.contains("all tier checks passed"))
            }
        }
    }

    /// Where the journey's screenshots go: a temporary folder, or `docs/screenshots` when scripts/screenshots asks
    /// (`MUSIKK_SCREENSHOTS`), so that a test run never rewrites tracked files.
    static func screenshots() throws -> URL {
        if let directory = ProcessInfo.processInfo.environment["MUSIKK_SCREENSHOTS"] { return URL(fileURLWithPath: directory) }
        return try Repository.temporaryDirectory("screenshots")
    }
}
