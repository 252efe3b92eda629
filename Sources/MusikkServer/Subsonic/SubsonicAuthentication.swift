import Crypto
import Foundation
import Hummingbird
import Social
import WorkArea

/// The parameters of a Subsonic request: its query string and, for a form POST, its body
/// (`application/x-www-form-urlencoded`; `+` is a space). A name may repeat (`id=1&id=2`).
struct SubsonicParameters: Sendable {
    private var pairs: [(name: String, value: String)] = []

    /// Parameters one request may carry: a 10,000-track playlist with room to spare.
    static let maxCount = 20_000
    /// Bytes a form body may have.
    static let maxBody = 1024 * 1024

    init() {}

    init(query: String?, form: String?) throws(SubsonicError) {
        for text in [query, form] {
            guard let text, !text.isEmpty else { continue }
            for part in text.split(separator: "&", omittingEmptySubsequences: true) {
                guard pairs.count < Self.maxCount else {
                    throw SubsonicError(code: .generic, message: "the request has more than \(Self.maxCount) parameters")
                }
                let equals = part.firstIndex(of: "=")
                let name = Self.decode(part[..<(equals ?? part.endIndex)])
                let value = equals.map { Self.decode(part[part.index(after: $0)...]) } ?? ""
                pairs.append((name, value))
            }
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    func first(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}

/// Seals app passwords under a key derived from the server's token key, so the store never holds them in clear
/// and an instance sharing the store (and so the key) can open them.
struct AppPasswordSealer: Sendable {
    private let key: SymmetricKey

    init(serverKey: String) {
        let material = SymmetricKey(data: Data(base64Encoded: serverKey) ?? Data(serverKey.utf8))
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data("musikk-app-passwords-v1".utf8), outputByteCount: 32)
    }

    func seal(_ password: String) throws -> String {
        guard let combined = try AES.GCM.seal(Data(password.utf8), using: key).combined else {
            throw APIError(.internalServerError, "seal_failed", "the app password could not be sealed; try again")
        }
        return combined.base64EncodedString()
    }

    /// The password, or nil for a sealed value this key did not make.
    func open(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key) else { return nil }
        return String(data: plain, encoding: .utf8)
    }
}

/// Who a Subsonic request acts for, by the OpenSubsonic `apiKey` or by `u` (the account's email) with an app
/// password: `t` = md5(password + `s`), or `p` in clear or `enc:` hex. Failures count against the client's address
/// and the account, as log-ins do on the JSON API, and lock them out for a while past the same limits.
struct SubsonicAuthenticator: Sendable {
    let store: SocialStore
    let limiter: RateLimiter
    let sealer: AppPasswordSealer
    let configuration: ServerConfiguration

    /// Where a user learns to make credentials (OpenSubsonic's `helpUrl`).
    static let helpPath = "/me#listener-apps"

    func authenticate(_ parameters: SubsonicParameters, clientAddress: String) async throws -> AuthenticatedUser {
        let apiKey = parameters.first("apiKey")
        let user = parameters.first("u")
        if apiKey != nil, user != nil {
            throw SubsonicError(code: .conflictingMechanisms, message: "send either apiKey or u (with t and s, or p), not both")
        }
        if let apiKey {
            return try await byAPIKey(apiKey, clientAddress: clientAddress)
        }
        guard let user, !user.isEmpty else {
            throw SubsonicError(
                code: .missingParameter, message: "sign in with apiKey, or with u (your account's email) and an app password (t and s, or p)",
                helpURL: Self.helpPath)
        }
        let token = parameters.first("t"), salt = parameters.first("s"), password = parameters.first("p")
        if token != nil && password != nil {
            throw SubsonicError(code: .conflictingMechanisms, message: "send either t and s, or p, not both")
        }
        if let token {
            guard configuration.subsonicLegacyAuthentication else {
                throw SubsonicError(code: .tokenAuthenticationNotSupported, message: "this server accepts API keys only; make one in the web app", helpURL: Self.helpPath)
            }
            guard let salt, !salt.isEmpty else { throw SubsonicError.missing("s", "authentication") }
            return try await byAppPassword(user, clientAddress: clientAddress) { candidate in
                MediaSigner.constantTimeEqual(FileDigest.hex(Insecure.MD5.hash(data: Data((candidate + salt).utf8))).utf8, token.lowercased().utf8)
            }
        }
        if let password {
            guard configuration.subsonicLegacyAuthentication else {
                throw SubsonicError(code: .mechanismNotSupported, message: "this server accepts API keys only; make one in the web app", helpURL: Self.helpPath)
            }
            // A malformed `enc:` is a failed sign-in like any other (it counts towards the lock-outs).
            let clear = password.hasPrefix("enc:") ? Self.hexDecoded(password.dropFirst(4)) : password
            return try await byAppPassword(user, clientAddress: clientAddress) { candidate in clear.map { MediaSigner.constantTimeEqual(candidate.utf8, $0.utf8) } ?? false }
        }
        throw SubsonicError(code: .missingParameter, message: "with u, send t and s (token) or p (app password)", helpURL: Self.helpPath)
    }

    private func byAPIKey(_ key: String, clientAddress: String) async throws -> AuthenticatedUser {
        // A key is 256 random bits: guessing one is hopeless, so a valid key costs one lookup and no limit check.
        if key.utf8.count <= 256, let owner = try await store.apiKeyOwner(lookup: Self.apiKeyLookup(key)) {
            return AuthenticatedUser(id: owner.userId, role: owner.role)
        }
        try await failed(keys: ["subsonic-address:\(clientAddress)"])
        throw SubsonicError(code: .invalidAPIKey, message: "this API key is unknown or was revoked; make a new one in the web app", helpURL: Self.helpPath)
    }

    private func byAppPassword(_ email: String, clientAddress: String, matches: (String) -> Bool) async throws -> AuthenticatedUser {
        let now = configuration.clock()
        let addressKey = "subsonic-address:\(clientAddress)"
        if let wait = try await limiter.retryAfter(addressKey, limit: configuration.loginAttemptsPerAddress, window: configuration.loginWindow, now: now) {
            throw Self.lockedOut(wait, "too many failed sign-ins from your address")
        }
        let account = email.utf8.count <= 254 ? try await store.appPasswords(email: email.trimmingCharacters(in: .whitespaces)) : nil
        let accountKey = account.map { "subsonic-account:\($0.owner.userId)" }
        if let accountKey,
           let wait = try await limiter.retryAfter(accountKey, limit: configuration.loginFailuresPerAccount, window: configuration.loginWindow, now: now)
        {
            throw Self.lockedOut(wait, "too many failed sign-ins for this account")
        }
        if let account, account.sealed.lazy.compactMap(sealer.open).contains(where: matches) {
            return AuthenticatedUser(id: account.owner.userId, role: account.owner.role)
        }
        try await failed(keys: [addressKey] + (accountKey.map { [$0] } ?? []))
        throw SubsonicError(
            code: .wrongCredentials,
            message: "wrong email or app password: u is your account's email, and the password is an app password made in the web app, not your login password",
            helpURL: Self.helpPath)
    }

    /// Counts a failure; past the address's limit, the refusal says how long to wait.
    private func failed(keys: [String]) async throws {
        let now = configuration.clock()
        for key in keys { try await limiter.record(key, now: now) }
        if let wait = try await limiter.retryAfter(keys[0], limit: configuration.loginAttemptsPerAddress, window: configuration.loginWindow, now: now) {
            throw Self.lockedOut(wait, "too many failed sign-ins from your address")
        }
    }

    private static func lockedOut(_ wait: TimeInterval, _ reason: String) -> SubsonicError {
        let seconds = Int(wait.rounded(.up))
        return SubsonicError(
            code: .wrongCredentials, message: "\(reason); wait \(seconds) s and try again", status: .tooManyRequests,
            headers: [.retryAfter: String(seconds)])
    }

    /// What the store keeps of an API key: its SHA-256 in hex.
    static func apiKeyLookup(_ key: String) -> String {
        FileDigest.hex(SHA256.hash(data: Data(key.utf8)))
    }

    /// A new API key: 256 random bits, base64url, with a prefix that tells what it is when found in a config file.
    static func newAPIKey() -> String {
        "msk_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded()
    }

    /// A new app password: 24 letters and digits that are hard to mistake for each other (about 119 bits),
    /// in groups of six for typing into a phone.
    static func newAppPassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let letters = (0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }
        return stride(from: 0, to: 24, by: 6).map { String(letters[$0..<($0 + 6)]) }.joined(separator: "-")
    }

    /// `enc:`'s hex, two digits a byte, as UTF-8; nil for anything else (odd length, a non-hex character).
    static func hexDecoded(_ text: Substring) -> String? {
        FileDigest.bytes(hex: text).flatMap { String(bytes: $0, encoding: .utf8) }
    }
}
