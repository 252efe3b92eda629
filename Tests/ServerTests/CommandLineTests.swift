import Foundation
import Testing
import TestSupport

@Suite("musikk-server command line")
struct CommandLineTests {
    let binary = Repository.executable("musikk-server").path

    @Test("admin grant-owner makes a signed-up user the content owner of artists; unknown emails fail with a reason")
    func grantOwner() async throws {
        let server = try ServerUnderTest()
        let userId = try await server.withRouter { api in try await api.signUp("Label").userId }
        let data = server.configuration.dataDirectory.path
        let granted = try Command.run(binary, ["admin", "grant-owner", "label@example.org", "--artist", "2", "--artist", "3", "--data", data])
        #expect(granted.status == 0, "\(granted.standardError)")
        try await server.withRouter { api in
            let viewer = try await api.signUp("Fan")
            let profile = try await api.object(.get, "/api/users/\(userId)", as: viewer)
            #expect(profile["role"] as? String == "owner")
            #expect(profile["ownedArtistIds"] as? [Int] == [2, 3])
        }
        let unknown = try Command.run(binary, ["admin", "grant-admin", "nobody@example.org", "--data", data])
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
}
