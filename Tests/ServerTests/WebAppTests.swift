import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@Suite("The web app", .serialized)
struct WebAppTests {
    @Test("every page URL gets the shell with a strict security policy; app files have validators and unknown ones are 404")
    func shellAndFiles() async throws {
        try await ServerUnderTest().withRouter { api in
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
            let script = try await api.call(.get, "/app/app.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            let etag = try #require(script.headers[.eTag])
            #expect(try await api.call(.get, "/app/app.js", headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(try await api.call(.get, "/app/nope.js").status == .notFound)
            #expect(try await api.call(.get, "/app/..%2Fapp.js").status == .notFound)
        }
    }

    @Test("in headless Chromium: sign up, search and play, seek on the waveform, live comments and queue across two browsers, a forum embed that plays, the owner's playlist, no console error, a friendly failure")
    func inChromium() async throws {
        let track = try PublishedFixtures.longestTrack()
        let title = try #require(try PublishedFixtures.trackDocument(track)["title"] as? String)
        let server = try ServerUnderTest { $0.clock = { Date() } }
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

    /// Where the journey's screenshots go: a temporary folder, or `docs/screenshots` when scripts/screenshots asks
    /// (`MUSIKK_SCREENSHOTS`), so that a test run never rewrites tracked files.
    static func screenshots() throws -> URL {
        if let directory = ProcessInfo.processInfo.environment["MUSIKK_SCREENSHOTS"] { return URL(fileURLWithPath: directory) }
        return try Repository.temporaryDirectory("screenshots")
    }
}
