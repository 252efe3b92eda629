import Crypto
import Foundation

/// Short-lived signed media URLs: `BASE/EXPIRES/SIGNATURE/PATH`, where EXPIRES is a Unix time and SIGNATURE is
/// the unpadded base64url HMAC-SHA256 of `musikk-media-v1:EXPIRES` under the media key. The token sits in the
/// path, not the query, so the relative URIs inside HLS playlists and DASH MPDs inherit it; one token opens the
/// whole publication until it expires. Expiry times are rounded up to 5 minutes so URLs repeat and caches work.
/// An edge checks: EXPIRES in the future, SIGNATURE equal (constant-time) to the HMAC, then serves PATH.
final class MediaSigner: Sendable {
    let key: SymmetricKey
    /// Where signed paths start: `/stream` on this server, or the CDN's base URL.
    let base: String
    let lifetime: TimeInterval
    /// What the HMAC covers before the expiry: a version, so a later scheme cannot be confused with this one.
    static let context = "musikk-media-v1:"
    /// Expiry times are multiples of this many seconds.
    static let expiryStep: Int64 = 300
    /// Signatures by expiry. Links share an expiry for 5 minutes, so nearly every link made or checked finds its
    /// signature here instead of computing an HMAC; only expiries this server could have issued are ever stored.
    private let signatures = MemoCache<Int64, String>(capacity: 64)

    init(secret: String, base: String, lifetime: TimeInterval) {
        self.key = SymmetricKey(data: Data(base64Encoded: secret) ?? Data(secret.utf8))
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.lifetime = lifetime
    }

    /// When URLs signed at `now` expire.
    func expiry(now: Date) -> Int64 {
        let raw = Int64(now.timeIntervalSince1970 + lifetime)
        return (raw + Self.expiryStep - 1) / Self.expiryStep * Self.expiryStep
    }

    /// The signed URL of a file of the publication (a path relative to its root).
    func url(for path: String, expires: Int64) -> String {
        "\(base)/\(expires)/\(signature(expires: expires))/\(path)"
    }

    func signature(expires: Int64) -> String {
        signatures.value(for: expires) {
            Data(HMAC<SHA256>.authenticationCode(for: Data("\(Self.context)\(expires)".utf8), using: key)).base64URLEncoded()
        }
    }

    /// Whether a token taken from a path is genuine and unexpired. Besides the signature, the expiry must be one
    /// this server issues: a multiple of 5 minutes, no further ahead than the link lifetime.
    func isValid(expires: String, signature: String, now: Date) -> Bool {
        let now = now.timeIntervalSince1970
        guard let expiry = Int64(expires), expiry % Self.expiryStep == 0, Double(expiry) > now,
              Double(expiry) <= now + lifetime + Double(Self.expiryStep) else { return false }
        return Self.constantTimeEqual(signature.utf8, self.signature(expires: expiry).utf8)
    }

    /// Compares without stopping at the first difference, so the time taken does not tell how much of a guess was right.
    private static func constantTimeEqual(_ given: String.UTF8View, _ expected: String.UTF8View) -> Bool {
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
