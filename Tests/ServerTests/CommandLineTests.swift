import Foundation
import NIOCore
import Testing
import TestStores
import TestSupport

@Suite("musikk-server command line")
struct CommandLineTests {
    let binary = Repository.executable("musikk-server").path

    @Test("admin grant-owner makes a signed-up user the content owner of artists of the publication; unknown emails and artists fail with a reason", .serialized, arguments: StoreBackend.all)
    func grantOwner(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        let userId = try await server.withRouter { api in try await api.signUp("Label").userId }
        let store = server.storeArguments
        let publication = try PublishedFixtures.get().path
        // Two artists of the publication, as its artist list names them.
        let page = try JSONSerialization.jsonObject(with: Data(contentsOf: try PublishedFixtures.get().appendingPathComponent("api/artists/page-1.json")))
        let artistIds = ((page as? [String: Any])?["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        try #require(artistIds.count >= 3)
        let (first, second) = (artistIds[1], artistIds[2])
        let granted = try Command.run(
            binary, ["admin", "grant-owner", "label@example.org", "--artist", String(first), "--artist", String(second), "--publication", publication] + store)
        #expect(granted.status == 0, "\(granted.standardError)")
        // An artist the publication does not have is refused, naming it (issue 17: `--artist 99` was accepted).
        let missing = try Command.run(
            binary, ["admin", "grant-owner", "label@example.org", "--artist", String(first), "--artist", "99", "--publication", publication] + store)
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("no artist 99"), "\(missing.standardError)")
        try await server.withRouter { api in
            let viewer = try await api.signUp("Fan")
            let profile = try await api.object(.get, "/api/users/\(userId)", as: viewer)
            #expect(profile["role"] as? String == "owner")
            #expect(profile["ownedArtistIds"] as? [Int] == [first, second].sorted())
        }
        let unknown = try Command.run(binary, ["admin", "grant-admin", "nobody@example.org"] + store)
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("nobody@example.org"))
    }

    @Test("usage errors exit with 2 and say what to do")
    func usageErrors() throws {
        let noPublication = try Command.run(binary, ["--data", "/tmp/unused"])
        #expect(noPublication.status == 2)
        #expect(noPublication.standardError.contains("--publication"))
        let notPublished = try Command.run(binary, ["--publication", "/tmp"])
        #expect(notPublished.status == 2)
        #expect(notPublished.standardError.contains("musikk-publish"))
        let badURL = try Command.run(binary, ["--publication", try PublishedFixtures.get().path, "--media-base-url", "cdn"])
        #expect(badURL.status == 2)
        let noArtist = try Command.run(binary, ["admin", "grant-owner", "a@example.org"])
        #expect(noArtist.status == 2)
    }

    @Test("SIGTERM with event streams open: the streams end, the process exits 0 within 10 s; the access log has no secrets")
    func gracefulStop() async throws {
        let port = try NginxServer.freePort()
        let data = try Repository.temporaryDirectory("server-stop").appendingPathComponent("data")
        let log = data.deletingLastPathComponent().appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--publication", try PublishedFixtures.get().path, "--data", data.path, "--port", String(port)]
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<300 where !up {
            try await Task.sleep(for: .milliseconds(100))
            up = (try? Command.run("/usr/bin/curl", ["-sf", "\(base)/health"]))?.status == 0
        }
        #expect(up)
        let password = "correct horse battery staple"
        let signUp = try Command.run("/usr/bin/curl", [
            "-sf", "-H", "Content-Type: application/json", "-d",
            #"{"email":"ann@example.org","password":"\#(password)","displayName":"Ann"}"#, "\(base)/api/auth/signup"])
        let tokens = try JSONSerialization.jsonObject(with: signUp.standardOutput) as? [String: Any] ?? [:]
        let access = try #require(tokens["accessToken"] as? String)
        let streams = try (0..<3).map { _ in try CurlEventStream(url: "\(base)/api/events?access_token=\(access)") }
        defer { streams.forEach { $0.stop() } }
        for stream in streams {
            let connected = await stream.waitUntilConnected()
            #expect(connected, "curl got \(stream.text); the server logged \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }

        let stopping = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, ContinuousClock.now - stopping < .seconds(15) { try await Task.sleep(for: .milliseconds(50)) }
        try #require(!process.isRunning, "still running 15 s after SIGTERM")
        #expect(ContinuousClock.now - stopping < .seconds(11))
        #expect(process.terminationStatus == 0)

        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("path=/api/auth/signup") && text.contains("status=201"), "\(text)")
        #expect(text.contains("path=/api/events"))
        for secret in [access, password, tokens["refreshToken"] as? String ?? "?"] { #expect(!text.contains(secret)) }
    }

    @Test("admin reset-password sets a new password, ends a lock-out at once and signs the account's sessions out", .serialized, arguments: StoreBackend.all)
    func resetPassword(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        let store = server.storeArguments
        let binary = binary
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            for _ in 0..<6 { _ = try await api.call(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "wrong password"]) }
            let locked = try await api.call(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "correct horse battery"])
            #expect(locked.status == .tooManyRequests)
            #expect(String(buffer: locked.body).contains("admin reset-password"))
            // While the server runs:
            let reset = try await Command.runInBackground("/bin/sh", [
                "-c", "printf 'brand new secret\\n' | \"$0\" admin reset-password ANN@example.org --password-stdin --cost 4 \"$@\"", binary] + store)
            #expect(reset.status == 0, "\(reset.standardError)")
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "brand new secret"])
            #expect(api.errorCode(try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken])) == "invalid_refresh_token")
            let generated = try await Command.runInBackground(binary, ["admin", "reset-password", "ann@example.org", "--cost", "4"] + store)
            let newPassword = try #require(generated.text.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(newPassword.count == 16)
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": newPassword])
        }
        let unknown = try Command.run(binary, ["admin", "reset-password", "nobody@example.org"] + store)
        #expect(unknown.status == 1 && unknown.standardError.contains("nobody@example.org"))
    }

    @Test("admin migrate-to-postgres copies a SQLite server's data with its ids into an empty PostgreSQL database; the server goes on from there")
    func migrateToPostgres() async throws {
        let track = try #require(try PublishedFixtures.trackIds().first)
        let source = try ServerUnderTest(.sqlite)
        let (ann, bob, appPassword, apiKey) = try await source.withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Björn")
            let appPassword = try #require(try await api.object(.post, "/api/me/subsonic/app-passwords", as: ann, expect: .created)["password"] as? String)
            let apiKey = try #require(try await api.object(.post, "/api/me/subsonic/api-keys", as: ann, expect: .created)["apiKey"] as? String)
            try await api.call(.put, "/api/users/\(bob.userId)/follow", as: ann)
            _ = try await api.object(.post, "/api/tracks/\(track)/comments", as: bob, json: ["body": "moved along"], expect: .created)
            try await api.call(.put, "/api/likes/track/\(track)", as: ann)
            try await api.call(.put, "/api/me/avatar", as: ann, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: Self.annAvatar))
            return (ann, bob, appPassword, apiKey)
        }
        // Bob's avatar is a file, as versions before avatars moved into the store kept it.
        let folder = source.configuration.dataDirectory.appendingPathComponent("avatars")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(Self.bobAvatar).write(to: folder.appendingPathComponent(String(bob.userId)))
        _ = try source.storeValue("UPDATE user SET avatarType = 'image/jpeg', avatarVersion = 1 WHERE id = \(bob.userId)")
        let url = try StoreBackend.freshPostgresURL()
        let binary = binary
        let migrated = try await Command.runInBackground(
            binary, ["admin", "migrate-to-postgres", "--from", source.configuration.dataDirectory.path, "--to", url])
        #expect(migrated.status == 0, "\(migrated.standardError)")
        #expect(migrated.text.contains("user: 2 rows") && migrated.text.contains("comment: 1 rows"), "\(migrated.text)")
        #expect(migrated.text.contains("App passwords sealed again under the database's key: 1"), "\(migrated.text)")
        // A second run finds the database no longer empty, and says so.
        let again = try await Command.runInBackground(
            binary, ["admin", "migrate-to-postgres", "--from", source.configuration.dataDirectory.path, "--to", url])
        #expect(again.status == 1 && again.standardError.contains("already holds data"), "\(again.standardError)")

        let target = try ServerUnderTest(.postgres) { $0.database = url }
        try await target.withRouter { api in
            // The same accounts, passwords and ids; the follow, the comment and the like came along.
            let login = try await api.object(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "correct horse battery"])
            let session = try API.session(login)
            #expect(session.userId == ann.userId)
            let following = try await api.items("/api/users/\(ann.userId)/following", as: session)
            #expect(following.map { $0["id"] as? Int } == [Int(bob.userId)])
            let comments = try await api.items("/api/tracks/\(track)/comments", as: session)
            #expect(comments.map { $0["body"] as? String } == ["moved along"])
            let likes = try await api.items("/api/users/\(ann.userId)/likes", as: session)
            #expect(likes.map { $0["id"] as? String } == [track])
            // Search found the migrated user, accents folded; new rows take ids after the copied ones.
            let hits = try await api.array(.get, "/api/search?q=bjorn&kinds=user", as: session)
            #expect(hits.map { $0["id"] as? String } == [String(bob.userId)])
            // Both avatars came along, the one put through the API and the one that was a file.
            for (user, image) in [(ann.userId, Self.annAvatar), (bob.userId, Self.bobAvatar)] {
                let avatar = try await api.call(.get, "/api/users/\(user)/avatar", as: session)
                #expect(Array(avatar.body.readableBytesView) == image)
            }
            let cat = try await api.signUp("Cat")
            #expect(cat.userId == bob.userId + 1)
            // Ann's apps go on: her app password was sealed again under the instances' key, her API key kept.
            for query in ["u=ann@example.org&p=\(appPassword)", "apiKey=\(apiKey)"] {
                let ping = String(buffer: try await api.call(.get, "/rest/ping?f=json&\(query)").body)
                #expect(ping.contains(#""status":"ok""#), "\(query): \(ping)")
            }
        }
    }

    static let annAvatar: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<200).map { UInt8($0) }
    static let bobAvatar: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + (0..<100).map { UInt8(255 - $0) }
}
