import Crypto
import Foundation

/// How a signed link's signature is computed; the edge that checks links must use the same.
public enum MediaSignature: String, Sendable, CaseIterable {
    /// The unpadded base64url HMAC-SHA256 of `musikk-media-v1:EXPIRES` under the media key (43 characters): checked
    /// by this server, by a CDN edge, or by nginx with njs. The default.
    case hmacSHA256 = "hmac-sha256"
    /// The unpadded base64url MD5 of `EXPIRES musikk-media-v1:KEY`, KEY being the media key's base64 text (22
    /// characters): what nginx's own `secure_link` module computes (`secure_link_md5`), so that nginx checks links
    /// in C at nearly the speed of plain file serving. MD5 here is a secret-suffix MAC over an expiry the server
    /// chooses, not a collision-resistant hash: forging a link needs a second preimage, which no known attack finds.
    case nginxSecureLink = "nginx-secure-link"
}

/// Short-lived signed media URLs: `BASE/EXPIRES/SIGNATURE/PATH`, where EXPIRES is a Unix time and SIGNATURE is
/// the unpadded base64url HMAC-SHA256 of `musikk-media-v1:EXPIRES` under the media key. The token sits in the
/// path, not the query, so the relative URIs inside HLS playlists and DASH MPDs inherit it; one token opens the
/// whole publication until it expires. Expiry times are rounded up to 5 minutes so URLs repeat and caches work.
/// An edge checks: EXPIRES in the future, SIGNATURE equal (constant-time) to the HMAC, then serves PATH.
final class MediaSigner: Sendable {
    let key: SymmetricKey
    /// The key as configured (base64), which the secure_link scheme hashes as text, as nginx's configuration holds it.
    let keyText: String
    let scheme: MediaSignature
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

    init(secret: String, base: String, lifetime: TimeInterval, scheme: MediaSignature = .hmacSHA256) {
        self.key = SymmetricKey(data: Data(base64Encoded: secret) ?? Data(secret.utf8))
        self.keyText = secret
        self.scheme = scheme
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
            switch scheme {
            case .hmacSHA256:
                Data(HMAC<SHA256>.authenticationCode(for: Data("\(Self.context)\(expires)".utf8), using: key)).base64URLEncoded()
            case .nginxSecureLink:
                Data(Insecure.MD5.hash(data: Data(Self.secureLinkText(expires: String(expires), key: keyText).utf8))).base64URLEncoded()
            }
        }
    }

    /// What the secure_link scheme hashes, as nginx's `secure_link_md5` expression writes it with `expires`
    /// standing for `$musikk_expires`.
    static func secureLinkText(expires: String, key: String) -> String {
        "\(expires) \(context)\(key)"
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
    static func constantTimeEqual(_ given: String.UTF8View, _ expected: String.UTF8View) -> Bool {
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
