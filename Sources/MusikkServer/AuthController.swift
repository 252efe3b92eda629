import Foundation
import Hummingbird
import Social

/// Sign-up, log-in, token refresh and log-out.
struct AuthController: Sendable {
    let store: SocialStore
    let tokens: TokenIssuer
    let limiter: RateLimiter
    let passwords: PasswordHashing
    /// A bcrypt hash at the configured cost that matches no password: log-ins with unknown emails are checked
    /// against it, so they take as long as those with known ones.
    let decoyHash: String
    /// Its limits, bcrypt cost, refresh-token grace and clock.
    let configuration: ServerConfiguration

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

    func addPublicRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("signup", use: signUp)
        group.post("login", use: logIn)
        group.post("refresh", use: refresh)
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.post("logout", use: logOut)
    }

    @Sendable func signUp(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: SignUp.self, context: context)
        try await limit(
            "signup:\(context.clientAddress)", configuration.signUpsPerAddress, window: configuration.signUpWindow,
            "too many sign-ups from your address; wait and try again")
        let email = try Self.checkedEmail(input.email)
        try Self.checkPassword(input.password)
        let hash = try await hashing { try await passwords.hash(input.password, cost: configuration.bcryptCost, lane: .signUp, client: context.clientAddress) }
        do {
            let id = try await store.createAccount(email: email, passwordHash: hash, displayName: input.displayName, now: configuration.clock())
            return JSON(try await tokens.issue(userId: id, role: .listener), status: .created)
        } catch SocialError.conflict {
            // The same answer as for an address that cannot be an email, after the same work.
            throw Self.unusableEmail
        }
    }

    @Sendable func logIn(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: LogIn.self, context: context)
        try await limit(
            "address:\(context.clientAddress)", configuration.loginAttemptsPerAddress, window: configuration.loginWindow,
            "too many sign-in attempts from your address; wait and try again")
        let email = input.email.trimmingCharacters(in: .whitespaces).lowercased()
        // bcrypt stops at a NUL byte: "\0anything" would match an empty password.
        guard !email.contains("\0"), !input.password.contains("\0") else {
            throw APIError(.unauthorized, "invalid_credentials", "the email or password is wrong")
        }
        let credentials = try await store.credentials(email: email)
        // Failures count per account and password, so a password reset ends a lock-out.
        let accountKey = credentials.map { "account:\($0.userId):\($0.passwordHash.suffix(16))" } ?? "account:\(email)"
        if let wait = try await limiter.retryAfter(
            accountKey, limit: configuration.loginFailuresPerAccount, window: configuration.loginWindow, now: configuration.clock())
        {
            throw Self.tooMany(
                wait, "too many failed log-ins for this account; wait and try again, or ask the operator to run `musikk-server admin reset-password EMAIL`")
        }
        // An unknown email is checked against a hash of the same cost, so the time taken does not tell which exist.
        let hash = credentials?.passwordHash ?? decoyHash
        let matches = try await hashing { try await passwords.verify(input.password, hash: hash, lane: .logIn, client: context.clientAddress) }
        guard matches, let credentials else {
            try await limiter.record(accountKey, now: configuration.clock())
            throw APIError(.unauthorized, "invalid_credentials", "the email or password is wrong")
        }
        try await limiter.reset(accountKey)
        return JSON(try await tokens.issue(userId: credentials.userId, role: credentials.role))
    }

    /// Runs a hash through the queue, turning its refusals into 503 and 429 with Retry-After.
    private func hashing<Value>(_ work: () async throws -> Value) async throws -> Value {
        do {
            return try await work()
        } catch PasswordHashing.Refusal.busy {
            throw APIError(.serviceUnavailable, "busy", "the server is busy checking passwords; try again in a few seconds", headers: [.retryAfter: "2"])
        } catch PasswordHashing.Refusal.clientWaiting {
            throw Self.tooMany(2, "your address already has a sign-in waiting; wait for it to finish")
        }
    }

    @Sendable func refresh(_ request: Request, context: ServerRequestContext) async throws -> JSON<TokenIssuer.Tokens> {
        let input = try await request.decode(as: Refresh.self, context: context)
        let successor = TokenIssuer.randomToken()
        let use = try await store.rotateRefreshToken(
            hash: TokenIssuer.hash(input.refreshToken), successorHash: TokenIssuer.hash(successor), expiresAt: tokens.refreshTokenExpiry(),
            grace: configuration.refreshTokenReuseGrace, now: configuration.clock())
        switch use {
        case .valid(let userId, _):
            guard let role = try await store.role(of: userId) else {
                throw APIError(.unauthorized, "invalid_refresh_token", "the account no longer exists")
            }
            return JSON(try await tokens.tokens(userId: userId, role: role, refreshToken: successor))
        case .reused:
            throw APIError(.unauthorized, "refresh_token_reused", "this refresh token was already used, so all sessions started with it were signed out; sign in again")
        case .invalid:
            throw APIError(.unauthorized, "invalid_refresh_token", "the refresh token is unknown, expired or revoked; sign in again")
        }
    }

    @Sendable func logOut(_ request: Request, context: AuthenticatedRequestContext) async throws -> Response {
        let user = context.user
        let input = try await request.decode(as: Refresh.self, context: context)
        try await store.revokeRefreshTokenFamily(hash: TokenIssuer.hash(input.refreshToken), userId: user.id, now: configuration.clock())
        return Response(status: .noContent)
    }

    /// Counts an attempt under `key`, refusing it with 429 once `limit` were made in `window` seconds.
    private func limit(_ key: String, _ limit: Int, window: TimeInterval, _ message: String) async throws {
        if let wait = try await limiter.take(key, limit: limit, window: window, now: configuration.clock()) {
            throw Self.tooMany(wait, message)
        }
    }

    private static func tooMany(_ wait: TimeInterval, _ message: String) -> APIError {
        APIError(.tooManyRequests, "rate_limited", message, headers: [.retryAfter: String(Int(wait.rounded(.up)))])
    }

    static let unusableEmail = APIError(
        .unprocessableContent, "invalid_email", "this email cannot be used to sign up: check it, or log in if you already have an account")

    static func checkedEmail(_ text: String) throws -> String {
        let email = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control })
        else {
            throw unusableEmail
        }
        return email
    }

    /// bcrypt reads at most 72 bytes and stops at a NUL, so such passwords would be silently cut; refuse them instead.
    static func checkPassword(_ password: String) throws {
        guard password.count >= 8, password.utf8.count <= 72, !password.contains("\0") else {
            throw APIError(.unprocessableContent, "invalid_password", "choose a password of 8 or more characters, at most 72 bytes, without NUL characters")
        }
    }
}
