import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import MusikkServer
import Testing
import TestStores
import TestSupport

@Suite("Accounts and access")
struct AuthTests {
    @Test("sign up, see my account, log in again; the password is stored as a bcrypt hash of cost 12 by default", .serialized, arguments: StoreBackend.all)
    func signUpAndLogIn(_ backend: StoreBackend) async throws {
        // The harness lowers the cost for speed; put back the default a real server runs with.
        let server = try ServerUnderTest(backend) { $0.bcryptCost = ServerConfiguration(publication: $0.publication, dataDirectory: $0.dataDirectory).bcryptCost }
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            let me = try await api.object(.get, "/api/me", as: ann)
            #expect(me["email"] as? String == "ann@example.org")
            #expect((me["profile"] as? [String: Any])?["displayName"] as? String == "Ann")
            let again = try await api.object(.post, "/api/auth/login", json: ["email": "ANN@example.org", "password": "correct horse battery"])
            #expect(again["userId"] as? Int == Int(ann.userId))
        }
        let hash = try server.storeValue("SELECT passwordHash FROM \"user\"")
        #expect(hash.hasPrefix("$2b$12$"))
        #expect(!hash.contains("correct horse"))
    }

    @Test("sign-up refuses a taken email (answered as a bad one), a short password, one over bcrypt's 72 bytes or with NUL, a bad email and a control character or too many bytes in the name", .serialized, arguments: StoreBackend.all)
    func signUpValidation(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend) { $0.signUpsPerAddress = 100 }.withRouter { api in
            _ = try await api.signUp("Ann")
            // 64 characters, each a letter with 30 combining marks: 64 graphemes, but 3,904 bytes.
            let heavyName = String(repeating: "a" + String(repeating: "\u{0301}", count: 30), count: 64)
            let cases: [([String: Any], HTTPResponse.Status, String)] = [
                (["email": "ann@example.org", "password": "long enough", "displayName": "Ann 2"], .unprocessableContent, "invalid_email"),
                (["email": "bob@example.org", "password": "\u{0}abcdefgh", "displayName": "Bob"], .unprocessableContent, "invalid_password"),
                (["email": "bob\u{0}@example.org", "password": "long enough", "displayName": "Bob"], .unprocessableContent, "invalid_email"),
                (["email": "bob@example.org", "password": "long enough", "displayName": heavyName], .unprocessableContent, "invalid_displayName"),
                (["email": "bob@example.org", "password": "short", "displayName": "Bob"], .unprocessableContent, "invalid_password"),
                (["email": "bob@example.org", "password": String(repeating: "é", count: 40), "displayName": "Bob"], .unprocessableContent, "invalid_password"),
                (["email": "bob at example", "password": "long enough", "displayName": "Bob"], .unprocessableContent, "invalid_email"),
                (["email": "bob@example.org", "password": "long enough", "displayName": "Bob\u{0007}"], .unprocessableContent, "invalid_displayName"),
                (["email": "bob@example.org", "password": "long enough", "displayName": "   "], .unprocessableContent, "invalid_displayName"),
            ]
            for (body, status, code) in cases {
                let response = try await api.call(.post, "/api/auth/signup", json: body)
                #expect(response.status == status, "\(body)")
                #expect(api.errorCode(response) == code, "\(body)")
            }
            // A taken email and a malformed one get the very same answer.
            let taken = try await api.call(.post, "/api/auth/signup", json: ["email": "ann@example.org", "password": "long enough", "displayName": "X"])
            let malformed = try await api.call(.post, "/api/auth/signup", json: ["email": "ann at example", "password": "long enough", "displayName": "X"])
            #expect(taken.status == .unprocessableContent && taken.status == malformed.status && taken.body == malformed.body,
                    "\(String(buffer: taken.body)) vs \(String(buffer: malformed.body))")
            // A body over the limit is 413, not a server error.
            let huge = try await api.call(.post, "/api/auth/signup", json: ["email": "c@example.org", "password": "long enough", "displayName": String(repeating: "x", count: 300_000)])
            #expect(huge.status == .contentTooLarge)
            #expect(api.errorCode(huge) == "body_too_large")
            let notJSON = try await api.call(.post, "/api/auth/signup", body: ByteBuffer(string: "{nope"))
            #expect(notJSON.status == .badRequest)
            #expect(api.errorCode(notJSON) == "invalid_json")
        }
    }

    @Test("everything but sign-up, log-in, refresh and health needs a valid token", .serialized, arguments: StoreBackend.all)
    func tokensRequired(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            #expect(try await api.call(.get, "/health").status == .ok)
            let none = try await api.call(.get, "/api/tracks")
            #expect(none.status == .unauthorized)
            #expect(api.errorCode(none) == "unauthenticated")
            #expect(none.headers[.wwwAuthenticate] == "Bearer")

            let garbage = try await api.call(.get, "/api/tracks", headers: [.authorization: "Bearer not.a.jwt"])
            #expect(api.errorCode(garbage) == "invalid_token")

            // A well-formed HS256 token signed with another key.
            let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URLEncoded()
            let claims = Data(#"{"sub":"1","exp":4102444800,"iat":1,"role":"admin"}"#.utf8).base64URLEncoded()
            let signature = Data(HMAC<SHA256>.authenticationCode(for: Data("\(header).\(claims)".utf8), using: SymmetricKey(size: .bits256)))
                .base64URLEncoded()
            let forged = try await api.call(.get, "/api/tracks", headers: [.authorization: "Bearer \(header).\(claims).\(signature)"])
            #expect(forged.status == .unauthorized)
            #expect(api.errorCode(forged) == "invalid_token")
        }
    }

    @Test("an access token expires after 15 minutes; the refresh token gets a new pair", .serialized, arguments: StoreBackend.all)
    func expiryAndRefresh(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            server.clock.advance(14 * 60)
            #expect(try await api.call(.get, "/api/me", as: ann).status == .ok)
            server.clock.advance(2 * 60)
            let expired = try await api.call(.get, "/api/me", as: ann)
            #expect(expired.status == .unauthorized)
            #expect(api.errorCode(expired) == "token_expired")

            let renewed = try API.session(try await api.object(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken]))
            #expect(renewed.refreshToken != ann.refreshToken)
            #expect(try await api.call(.get, "/api/me", as: renewed).status == .ok)

            // A refresh token lasts 30 days.
            server.clock.advance(31 * 24 * 3600)
            let stale = try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": renewed.refreshToken])
            #expect(api.errorCode(stale) == "invalid_refresh_token")
        }
    }

    @Test("a refresh token used again after the reuse grace revokes its whole family, including the token issued in its place", .serialized, arguments: StoreBackend.all)
    func refreshReuse(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        try await server.withRouter { api in
            let ann = try await api.signUp("Ann")
            let next = try API.session(try await api.object(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken]))
            server.clock.advance(server.configuration.refreshTokenReuseGrace + 1)
            let replay = try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken])
            #expect(replay.status == .unauthorized)
            #expect(api.errorCode(replay) == "refresh_token_reused")
            let afterTheft = try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": next.refreshToken])
            #expect(afterTheft.status == .unauthorized)
            #expect(api.errorCode(afterTheft) == "invalid_refresh_token")
            // Another login is a separate family and still works.
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "correct horse battery"])
        }
    }

    @Test("log-out revokes the refresh token; another user's refresh token is not theirs to revoke", .serialized, arguments: StoreBackend.all)
    func logOut(_ backend: StoreBackend) async throws {
        try await ServerUnderTest(backend).withRouter { api in
            let ann = try await api.signUp("Ann")
            let bob = try await api.signUp("Bob")
            #expect(try await api.call(.post, "/api/auth/logout", as: bob, json: ["refreshToken": ann.refreshToken]).status == .noContent)
            let annStill = try API.session(try await api.object(.post, "/api/auth/refresh", json: ["refreshToken": ann.refreshToken]))
            #expect(try await api.call(.post, "/api/auth/logout", as: annStill, json: ["refreshToken": annStill.refreshToken]).status == .noContent)
            let after = try await api.call(.post, "/api/auth/refresh", json: ["refreshToken": annStill.refreshToken])
            #expect(api.errorCode(after) == "invalid_refresh_token")
        }
    }

    @Test("failed log-ins are limited per account (then 429 with Retry-After) and attempts per client address", .serialized, arguments: StoreBackend.all)
    func rateLimits(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend) { $0.loginAttemptsPerAddress = 10 }
        try await server.withRouter { api in
            _ = try await api.signUp("Ann")
            for _ in 0..<5 {
                let wrong = try await api.call(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "wrong password"])
                #expect(api.errorCode(wrong) == "invalid_credentials")
            }
            let limited = try await api.call(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "correct horse battery"])
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            // Other accounts are not locked by Ann's failures...
            _ = try await api.signUp("Bob")
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "bob@example.org", "password": "correct horse battery"])
            // ...but the address has now used its 10 attempts (7 log-ins, and these; sign-ups have their own budget).
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<4 {
                statuses.append(try await api.call(.post, "/api/auth/login", json: ["email": "bob@example.org", "password": "correct horse battery"]).status)
            }
            #expect(statuses == [.ok, .ok, .ok, .tooManyRequests])
            // The window passes.
            server.clock.advance(16 * 60)
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "ann@example.org", "password": "correct horse battery"])
        }
    }

    /// (Several instances on PostgreSQL share their keys through the database: MultiInstanceTests.)
    @Test("the signing keys are generated on first start into secrets.json with mode 0600, and kept", arguments: [StoreBackend.sqlite])
    func secretsFile(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend)
        let token = try await server.withRouter { api in try await api.signUp("Ann").accessToken }
        let path = server.configuration.dataDirectory.appendingPathComponent("secrets.json").path
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        // A restart with the same data directory accepts tokens issued before it.
        try await server.withRouter { api in
            let response = try await api.call(.get, "/api/me", headers: [.authorization: "Bearer \(token)"])
            #expect(response.status == .ok)
        }
        // A secrets file others can read stops the server from starting.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        await #expect(throws: (any Error).self) { try await server.withRouter { _ in } }
    }

    @Test("sign-ups are limited per client address (429 with Retry-After), apart from the log-in budget", .serialized, arguments: StoreBackend.all)
    func signUpLimit(_ backend: StoreBackend) async throws {
        let server = try ServerUnderTest(backend) { $0.signUpsPerAddress = 3 }
        try await server.withRouter { api in
            for name in ["A", "B", "C"] { _ = try await api.signUp(name) }
            let fourth = try await api.call(.post, "/api/auth/signup", json: ["email": "d@example.org", "password": "long enough", "displayName": "D"])
            #expect(fourth.status == .tooManyRequests)
            #expect(Int(fourth.headers[.retryAfter] ?? "") ?? 0 > 0)
            _ = try await api.object(.post, "/api/auth/login", json: ["email": "a@example.org", "password": "correct horse battery"])
            server.clock.advance(3601)
            _ = try await api.signUp("D")
        }
    }
}
