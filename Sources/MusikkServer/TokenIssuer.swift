import Crypto
import Foundation
import JWTKit
import Social
import WorkArea

/// Issues and checks the two kinds of token: short-lived JWT access tokens (HS256) and rotating refresh tokens
/// (random, stored only as SHA-256 hashes, one family per login).
struct TokenIssuer: Sendable {
    struct AccessClaims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var role: String

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    /// What a client keeps after signing in.
    struct Tokens: Codable, Sendable {
        var accessToken: String
        var refreshToken: String
        var tokenType = "Bearer"
        /// Seconds until the access token expires.
        var expiresIn: Int
        var userId: Int64
    }

    let keys: JWTKeyCollection
    let store: SocialStore
    let configuration: ServerConfiguration
    /// Access tokens already verified, with what they say: a client sends the same token with every request for
    /// 15 minutes, and its signature and claims cannot change in that time. Expiry is still checked on every use.
    private let verified = MemoCache<String, (user: AuthenticatedUser, expires: Date)>(capacity: 10_000)

    init(secret: String, store: SocialStore, configuration: ServerConfiguration) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.store = store
        self.configuration = configuration
    }

    /// Signs in: a new access token and a refresh token starting a family.
    func issue(userId: Int64, role: Role) async throws -> Tokens {
        let refresh = Self.randomToken()
        try await store.storeRefreshToken(
            hash: Self.hash(refresh), userId: userId, familyId: Self.randomToken(), expiresAt: refreshTokenExpiry())
        return try await tokens(userId: userId, role: role, refreshToken: refresh)
    }

    /// A new access token beside a refresh token already stored.
    func tokens(userId: Int64, role: Role, refreshToken: String) async throws -> Tokens {
        let now = configuration.clock()
        let claims = AccessClaims(
            sub: .init(value: String(userId)), exp: .init(value: now.addingTimeInterval(configuration.accessTokenLifetime)),
            iat: .init(value: now), role: role.rawValue)
        return Tokens(
            accessToken: try await keys.sign(claims), refreshToken: refreshToken, expiresIn: Int(configuration.accessTokenLifetime), userId: userId)
    }

    /// When a refresh token issued now expires.
    func refreshTokenExpiry() -> Date {
        configuration.clock().addingTimeInterval(configuration.refreshTokenLifetime)
    }

    /// The user an access token speaks for. Expiry is checked against the configured clock.
    func verify(accessToken: String) async throws -> AuthenticatedUser {
        if let known = verified[accessToken] {
            guard known.expires > configuration.clock() else {
                throw APIError(.unauthorized, "token_expired", "the access token expired; get a new one from /api/auth/refresh")
            }
            return known.user
        }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(accessToken, as: AccessClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw APIError(.unauthorized, "token_expired", "the access token expired; get a new one from /api/auth/refresh")
        } catch {
            throw APIError(.unauthorized, "invalid_token", "the access token is not valid; sign in again")
        }
        guard claims.exp.value > configuration.clock() else {
            throw APIError(.unauthorized, "token_expired", "the access token expired; get a new one from /api/auth/refresh")
        }
        guard let id = Int64(claims.sub.value), let role = Role(rawValue: claims.role) else {
            throw APIError(.unauthorized, "invalid_token", "the access token is not valid; sign in again")
        }
        let user = AuthenticatedUser(id: id, role: role)
        verified.store((user, claims.exp.value), for: accessToken)
        return user
    }

    static func hash(_ token: String) -> String {
        FileDigest.sha256(of: Data(token.utf8))
    }

    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded()
    }
}

extension Data {
    /// Unpadded base64url (RFC 4648 §5), as tokens, signed links and ClearKey key ids are written.
    func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads base64url with or without padding; nil for anything else.
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
