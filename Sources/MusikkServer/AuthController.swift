import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOPosix
import Social

/// Sign-up, log-in, token refresh and log-out.
struct AuthController: Sendable {
    let services: Services

    struct SignUp: Decodable {
        var email: String
        var password: String
        var displayName: String
    }

    struct LogIn: Decodable {
        var email: String
        var password: String
    }

    struct Refresh: Decodable {
        var refreshToken: String
    }

    /// A bcrypt hash that matches no password, checked when the account does not exist so that timing does not
    /// tell which emails have accounts.
    private static let decoyHash = Bcrypt.hash("musikk-decoy-password", cost: 4)

    func addPublicRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("signup", use: signUp)
        group.post("login", use: logIn)
        group.post("refresh", use: refresh)
    }

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("logout", use: logOut)
    }

    @Sendable func signUp(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: SignUp.self, context: context)
        try await limitAddress(context)
        let email = try Self.checkedEmail(input.email)
        try Self.checkPassword(input.password)
        let cost = services.configuration.bcryptCost
        let password = input.password
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        let id = try await services.store.createAccount(email: email, passwordHash: hash, displayName: input.displayName, now: services.now)
        return JSON(try await services.tokens.issue(userId: id, role: .listener), status: .created)
    }

    @Sendable func logIn(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: LogIn.self, context: context)
        try await limitAddress(context)
        let email = input.email.trimmingCharacters(in: .whitespaces).lowercased()
        let configuration = services.configuration
        let accountKey = "account:\(email)"
        if let wait = await services.limiter.retryAfter(
            accountKey, limit: configuration.loginFailuresPerAccount, window: configuration.loginWindow, now: services.now)
        {
            throw Self.tooMany(wait, "too many failed log-ins for this account; wait and try again, or reset the password")
        }
        let credentials = try await services.store.credentials(email: email)
        let password = input.password
        let hash = credentials?.passwordHash ?? Self.decoyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard matches, let credentials else {
            await services.limiter.record(accountKey, now: services.now)
            throw APIError(.unauthorized, "invalid_credentials", "the email or password is wrong")
        }
        await services.limiter.reset(accountKey)
        return JSON(try await services.tokens.issue(userId: credentials.userId, role: credentials.role))
    }

    @Sendable func refresh(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: Refresh.self, context: context)
        switch try await services.store.useRefreshToken(hash: TokenIssuer.hash(input.refreshToken), now: services.now) {
        case .valid(let userId, let familyId):
            guard let role = try await services.store.role(of: userId) else {
                throw APIError(.unauthorized, "invalid_refresh_token", "the account no longer exists")
            }
            return JSON(try await services.tokens.issue(userId: userId, role: role, family: familyId))
        case .reused:
            throw APIError(.unauthorized, "refresh_token_reused", "this refresh token was already used, so all sessions started with it were signed out; sign in again")
        case .invalid:
            throw APIError(.unauthorized, "invalid_refresh_token", "the refresh token is unknown, expired or revoked; sign in again")
        }
    }

    @Sendable func logOut(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let input = try await request.decode(as: Refresh.self, context: context)
        try await services.store.revokeRefreshTokenFamily(hash: TokenIssuer.hash(input.refreshToken), userId: user.id, now: services.now)
        return Response(status: .noContent)
    }

    private func limitAddress(_ context: ServerRequestContext) async throws {
        let configuration = services.configuration
        let key = "address:\(context.clientAddress)"
        if let wait = await services.limiter.retryAfter(key, limit: configuration.loginAttemptsPerAddress, window: configuration.loginWindow, now: services.now) {
            throw Self.tooMany(wait, "too many sign-in attempts from your address; wait and try again")
        }
        await services.limiter.record(key, now: services.now)
    }

    private static func tooMany(_ wait: TimeInterval, _ message: String) -> APIError {
        APIError(.tooManyRequests, "rate_limited", message, headers: [.retryAfter: String(Int(wait.rounded(.up)))])
    }

    static func checkedEmail(_ text: String) throws -> String {
        let email = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !email.contains(where: { $0.isWhitespace || $0.isNewline })
        else {
            throw APIError(.unprocessableContent, "invalid_email", "enter an email address like name@example.org")
        }
        return email
    }

    /// bcrypt reads at most 72 bytes, so longer passwords would be silently cut; refuse them instead.
    static func checkPassword(_ password: String) throws {
        guard password.count >= 8, password.utf8.count <= 72 else {
            throw APIError(.unprocessableContent, "invalid_password", "choose a password of 8 or more characters and at most 72 bytes")
        }
    }
}
