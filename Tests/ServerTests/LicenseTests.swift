import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import MusikkServer
import Synchronization
import Testing
import TestStores
import TestSupport

/// A protected publication (two masters, AAC 64 kb/s, cbcs) made by the real musikk-ingest and musikk-publish,
/// and the key file it was made under.
enum ProtectedFixtures {
    static let made: Result<(out: URL, keyFile: URL, keyHex: String), SetupError> = Result { () throws(SetupError) in
        do {
            let root = try Repository.temporaryDirectory("protected-fixtures")
            let masters = root.appendingPathComponent("masters")
            try Masters.makeTone(at: masters.appendingPathComponent("A/one.flac"), frequency: 440, seconds: 3, title: "One")
            try Masters.makeTone(at: masters.appendingPathComponent("A/two.flac"), frequency: 660, seconds: 3, title: "Two")
            let keyHex = ContentKeyJudge.randomKeyHex()
            let keyFile = root.appendingPathComponent("kek")
            try Data(keyHex.utf8).write(to: keyFile)
            let profile = root.appendingPathComponent("profile.toml")
            try Data("[[rendition]]\ncodec = \"aac\"\nbitrate = 64\n\n[protection]\nscheme = \"cbcs\"\n".utf8).write(to: profile)
            let work = root.appendingPathComponent("work")
            let out = root.appendingPathComponent("out")
            let ingest = try Command.run(Repository.executable("musikk-ingest").path, [
                masters.path, work.path, "--profile", profile.path, "--key-file", keyFile.path, "--quiet", "--no-analysis",
            ])
            guard ingest.status == 0 else { throw SetupError(description: ingest.standardError) }
            let publish = try Command.run(Repository.executable("musikk-publish").path, [work.path, out.path, "--quiet"])
            guard publish.status == 0 else { throw SetupError(description: publish.standardError) }
            return (out, keyFile, keyHex)
        } catch let error as SetupError {
            throw error
        } catch {
            throw SetupError(description: "\(error)")
        }
    }
}

/// Keeps every log message and its metadata, to search them for keys.
final class CollectedLogs: Sendable {
    let lines = Mutex<[String]>([])

    struct Handler: LogHandler {
        let logs: CollectedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            logs.lines.withLock { $0.append("\(event.message) \(all)") }
        }
    }
}

/// A publication with a clear track and a protected one (`[protection] folders`), both with the lossless rung.
enum TierFixtures {
    static let made: Result<(out: URL, keyFile: URL, clear: String, protected: String), SetupError> = Result { () throws(SetupError) in
        do {
            let root = try Repository.temporaryDirectory("tier-fixtures")
            let masters = root.appendingPathComponent("masters")
            try Masters.makeTone(at: masters.appendingPathComponent("Clear/01 open.flac"), frequency: 440, seconds: 12, title: "Open")
            try Masters.makeTone(at: masters.appendingPathComponent("Protected/01 locked.flac"), frequency: 550, seconds: 12, title: "Locked")
            let keyFile = root.appendingPathComponent("kek")
            try Data(ContentKeyJudge.randomKeyHex().utf8).write(to: keyFile)
            let profile = root.appendingPathComponent("profile.toml")
            try Data("""
                [[rendition]]
                codec = "aac"
                bitrate = 128

                [[rendition]]
                codec = "flac"

                [protection]
                scheme = "cbcs"
                folders = ["Protected"]

                """.utf8).write(to: profile)
            let work = root.appendingPathComponent("work")
            let out = root.appendingPathComponent("out")
            let ingest = try Command.run(Repository.executable("musikk-ingest").path, [
                masters.path, work.path, "--profile", profile.path, "--key-file", keyFile.path, "--json", "--no-analysis",
            ])
            guard ingest.status == 0 else { throw SetupError(description: ingest.standardError) }
            let report = try JSONSerialization.jsonObject(with: ingest.standardOutput) as? [String: Any]
            let files = (report?["files"] as? [[String: Any]]) ?? []
            func id(_ prefix: String) throws -> String {
                guard let id = files.first(where: { ($0["path"] as? String)?.hasPrefix(prefix) == true })?["track_id"] as? String else {
                    throw SetupError(description: "no \(prefix) track in \(files)")
                }
                return id
            }
            let publish = try Command.run(Repository.executable("musikk-publish").path, [work.path, out.path, "--quiet"])
            guard publish.status == 0 else { throw SetupError(description: publish.standardError) }
            return (out, keyFile, try id("Clear/"), try id("Protected/"))
        } catch let error as SetupError {
            throw error
        } catch {
            throw SetupError(description: "\(error)")
        }
    }
}

@Suite("The protected tier's licence endpoint", .serialized)
struct LicenseTests {
    @Test("listeners' apps: Subsonic stream gives the lossless file for format=flac and raw, AAC otherwise, and never an encrypted file (error 70 says why)")
    func subsonicTiers() async throws {
        let fixtures = try TierFixtures.made.get()
        let server = try ServerUnderTest(.sqlite) { configuration in
            configuration.publication = fixtures.out
            configuration.keyFile = fixtures.keyFile
        }
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.out.appendingPathComponent("api/tracks/\(fixtures.clear).json"))) as? [String: Any]
        let renditions = (document?["renditions"] as? [[String: Any]]) ?? []
        let lossless = try #require(renditions.first { $0["tier"] as? String == "lossless" }?["url"] as? String)
        let aac = try #require(renditions.first { $0["codecs"] as? String == "mp4a.40.2" }?["url"] as? String)
        try await server.withRouter { api in
            let listener = try await api.signUp("AppUser")
            let key = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: listener, json: ["name": "Phone"], expect: .created)["apiKey"] as? String)
            for (format, file) in [("flac", lossless), ("raw", lossless), ("mp3", aac), ("", aac)] {
                let response = try await api.call(.get, "/rest/stream.view?apiKey=\(key)&id=\(fixtures.clear)&format=\(format)")
                #expect(response.status == .ok, "format \(format)")
                #expect(Data(response.body.readableBytesView) == (try Data(contentsOf: fixtures.out.appendingPathComponent(file))), "format \(format)")
            }
            let refused = try await api.call(.get, "/rest/stream.view?apiKey=\(key)&id=\(fixtures.protected)&f=json")
            let answer = (try JSONSerialization.jsonObject(with: Data(refused.body.readableBytesView)) as? [String: Any])?["subsonic-response"] as? [String: Any]
            let error = answer?["error"] as? [String: Any]
            #expect(error?["code"] as? Int == 70)
            #expect((error?["message"] as? String)?.contains("protected") == true, "\(String(describing: answer))")
        }
    }

    func server(keyFile: URL?, perMinute: Int = 60) throws -> ServerUnderTest {
        let fixtures = try ProtectedFixtures.made.get()
        return try ServerUnderTest(.sqlite) { configuration in
            configuration.publication = fixtures.out
            configuration.keyFile = keyFile
            configuration.licensesPerMinute = perMinute
        }
    }

    /// Every track of the publication with its key id (from its JSON) and content key (openssl's HKDF).
    func keys() throws -> [(track: String, kid: String, key: String)] {
        let fixtures = try ProtectedFixtures.made.get()
        let tree = fixtures.out
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: tree.appendingPathComponent("api/tracks/page-1.json"))) as? [String: Any]
        let ids = ((index?["items"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
        return try ids.map { id in
            let (kid, key) = try ContentKeyJudge.contentKey(keyHex: fixtures.keyHex, trackID: id)
            return (id, kid, key)
        }
    }

    @Test("a signed-in listener gets each track's key as a ClearKey licence and from the HLS key URI; the key decrypts the published media in ffmpeg")
    func grantsKeys() async throws {
        let fixtures = try ProtectedFixtures.made.get()
        let keys = try keys()
        #expect(keys.count == 2)
        let logs = CollectedLogs()
        let server = try ServerUnderTest(.sqlite) { configuration in
            configuration.publication = fixtures.out
            configuration.keyFile = fixtures.keyFile
            configuration.accessLog = true
        }
        let app = try await buildApplication(server.configuration, logger: Logger(label: "license-test") { _ in CollectedLogs.Handler(logs: logs) })
        try await app.test(.router) { client in
            let api = API(client: client)
            let listener = try await api.signUp("Listener")
            for entry in keys {
                let license = try await api.object(.post, "/api/drm/clearkey", as: listener, json: [
                    "kids": [ContentKeyJudge.base64URL(entry.kid)], "type": "temporary",
                ])
                let granted = try #require((license["keys"] as? [[String: Any]])?.first)
                #expect(granted["kty"] as? String == "oct")
                #expect(granted["kid"] as? String == ContentKeyJudge.base64URL(entry.kid))
                #expect(granted["k"] as? String == ContentKeyJudge.base64URL(entry.key), "track \(entry.track)")
                #expect(license["type"] as? String == "temporary")
                let raw = try await api.call(.get, "/api/drm/clearkey/\(entry.kid)", as: listener)
                #expect(raw.status == .ok)
                #expect(Hex.hex(Array(raw.body.readableBytesView)) == entry.key)
                #expect(raw.headers[.cacheControl] == "no-store")

                let playback = try await api.object(.get, "/api/tracks/\(entry.track)/playback", as: listener)
                let protected = try #require(playback["protected"] as? [String: Any])
                #expect(protected["licenseUrl"] as? String == "/api/drm/clearkey")
                let source = try #require((protected["sources"] as? [[String: Any]])?.first)
                #expect(source["kid"] as? String == entry.kid)
                #expect(source["mimeType"] as? String == "audio/mp4; codecs=\"mp4a.40.2\"")
            }
        }
        // The published media decrypt with the licensed key.
        let media = FileTree.files(under: fixtures.out).keys.filter { $0.hasPrefix("media/audio/") && $0.hasSuffix(".mp4") }
        #expect(media.count == 2)
        for path in media {
            let file = fixtures.out.appendingPathComponent(path).path
            let decodes = try keys.contains { entry in
                try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-decryption_key", entry.key, "-i", file, "-f", "null", "-"]).standardError.isEmpty
            }
            #expect(decodes, "\(path)")
        }
        let logged = logs.lines.withLock { $0 }
        #expect(logged.contains { $0.contains("licence granted") })
        for entry in keys {
            for form in [entry.key, ContentKeyJudge.base64URL(entry.key), entry.key.uppercased()] {
                #expect(!logged.contains { $0.contains(form) }, "a log line holds track \(entry.track)'s key")
            }
        }
    }

    @Test("no key without sign-in (401), for a key id no published track has (403), for malformed requests (400), past the rate limit (429 with Retry-After), or from a server without --key-file (503); none of those answers holds a key")
    func refusals() async throws {
        let fixtures = try ProtectedFixtures.made.get()
        let keys = try keys()
        let entry = try #require(keys.first)
        let secrets = keys.flatMap { [$0.key, ContentKeyJudge.base64URL($0.key)] }
        let limited = try server(keyFile: fixtures.keyFile, perMinute: 3)
        try await limited.withRouter { api in
            let body: [String: Any] = ["kids": [ContentKeyJudge.base64URL(entry.kid)], "type": "temporary"]
            var answers: [Answer] = []
            let visitor = try await api.call(.post, "/api/drm/clearkey", json: body)
            #expect(visitor.status == .unauthorized)
            answers.append(visitor)
            let visitorKey = try await api.call(.get, "/api/drm/clearkey/\(entry.kid)")
            #expect(visitorKey.status == .unauthorized)
            answers.append(visitorKey)
            let listener = try await api.signUp("Listener")
            let unknown = try await api.call(.post, "/api/drm/clearkey", as: listener, json: ["kids": [ContentKeyJudge.base64URL(String(repeating: "ab", count: 16))]])
            #expect(unknown.status == .forbidden)
            #expect(api.errorCode(unknown) == "no_access")
            answers.append(unknown)
            for malformed: Any in [["kids": []], ["kids": ["!!"]], ["kids": [ContentKeyJudge.base64URL("abcd")]],
                                   ["kids": [ContentKeyJudge.base64URL(entry.kid)], "type": "persistent-license"],
                                   ["kids": Array(repeating: ContentKeyJudge.base64URL(entry.kid), count: 17)]] {
                let response = try await api.call(.post, "/api/drm/clearkey", as: listener, json: malformed)
                #expect(response.status == .badRequest, "\(malformed)")
                answers.append(response)
            }
            let badHex = try await api.call(.get, "/api/drm/clearkey/zz", as: listener)
            #expect(badHex.status == .badRequest)
            // The rate limit counts requests that got as far as a key: one refused for its unknown key id so far.
            for _ in 0..<2 { #expect(try await api.call(.post, "/api/drm/clearkey", as: listener, json: body).status == .ok) }
            let limitedAnswer = try await api.call(.post, "/api/drm/clearkey", as: listener, json: body)
            #expect(limitedAnswer.status == .tooManyRequests)
            #expect(limitedAnswer.headers[.retryAfter] != nil)
            answers.append(limitedAnswer)
            for answer in answers {
                let text = String(buffer: answer.body)
                #expect(!secrets.contains { text.contains($0) }, "\(text)")
            }
        }
        try await server(keyFile: nil).withRouter { api in
            let listener = try await api.signUp("Listener")
            let response = try await api.call(.post, "/api/drm/clearkey", as: listener, json: ["kids": [ContentKeyJudge.base64URL(entry.kid)]])
            #expect(response.status == .serviceUnavailable)
            #expect(api.errorCode(response) == "no_keys")
        }
    }
}
