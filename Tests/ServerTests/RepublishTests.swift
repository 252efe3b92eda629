import Foundation
import HTTPTypes
@testable import MusikkServer
import Testing
import TestStores
import TestSupport

@Suite("A running server picks up a new publication")
struct RepublishTests {
    /// Ingests and publishes `folders` of the fixture masters into `root`'s work and out directories.
    static func publish(_ folders: [String], into root: URL) throws {
        let masters = root.appendingPathComponent("masters")
        for folder in folders {
            let target = masters.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Repository.goodMasters.appendingPathComponent(folder), to: target)
        }
        let work = root.appendingPathComponent("work").path, out = root.appendingPathComponent("out").path
        let ingest = try Command.run(Repository.executable("musikk-ingest").path, [masters.path, work, "--quiet"])
        try #require(ingest.status == 0, "\(ingest.standardError)")
        let publish = try Command.run(Repository.executable("musikk-publish").path, [work, out, "--quiet"])
        try #require(publish.status == 0, "\(publish.standardError)")
    }

    @Test("after musikk-publish switches the tree: new releases and tracks are listed, followers of the owner are notified", .serialized, arguments: StoreBackend.all)
    func newRelease(_ backend: StoreBackend) async throws {
        let root = try Repository.temporaryDirectory("republish")
        try Self.publish(["Sonic Pi/Ambient"], into: root)
        let server = try ServerUnderTest(backend) { $0.publication = root.appendingPathComponent("out") }
        try await server.withLiveServer { api in
            let olga = try await api.signUp("Olga")
            let ann = try await api.signUp("Ann")
            let releases = try await api.items("/api/releases", as: ann)
            #expect(releases.map { $0["title"] as? String } == ["Ambient"])
            let artist = try #require((releases.first?["artist"] as? [String: Any])?["id"] as? Int)
            let grant = try Command.run(
                Repository.executable("musikk-server").path,
                ["admin", "grant-owner", "olga@example.org", "--artist", String(artist), "--publication", root.appendingPathComponent("out").path]
                    + server.storeArguments)
            try #require(grant.status == 0, "\(grant.standardError)")
            #expect(try await api.call(.put, "/api/users/\(olga.userId)/follow", as: ann).status == .noContent)
            #expect(try await api.items("/api/tracks", as: ann).count == 3)  // this page is now cached

            try Self.publish(["Sonic Pi/Loops"], into: root)
            var titles: [String?] = []
            for _ in 0..<100 where titles.count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                titles = try await api.items("/api/releases", as: ann).map { $0["title"] as? String }
            }
            #expect(Set(titles) == ["Ambient", "Loops"])
            #expect(try await api.items("/api/tracks", as: ann).count == 6)

            let loops = try #require(try await api.items("/api/releases", as: ann).first { $0["title"] as? String == "Loops" }?["id"] as? Int)
            let notices = try await api.items("/api/notifications", as: ann)
            #expect(notices.map { $0["kind"] as? String } == ["release"])
            #expect(notices.first?["subjectId"] as? String == String(loops))
            #expect((notices.first?["actor"] as? [String: Any])?["id"] as? Int == Int(olga.userId))
            #expect(try await api.items("/api/notifications", as: olga).map { $0["kind"] as? String } == ["follow"])
        }
    }
}
