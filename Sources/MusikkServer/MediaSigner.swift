import Crypto
import Foundation
import Synchronization

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
    /// The signature of the current expiry bucket: every link in a response, and every response in the same
    /// 5 minutes, shares it, so it is computed once per bucket instead of once per link.
    private let lastSignature = Mutex<(expires: Int64, signature: String)?>(nil)

    init(secret: String, base: String, lifetime: TimeInterval) {
        self.key = SymmetricKey(data: Data(base64Encoded: secret) ?? Data(secret.utf8))
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.lifetime = lifetime
    }

    /// When URLs signed at `now` expire.
    func expiry(now: Date) -> Int64 {
        let raw = Int64(now.timeIntervalSince1970 + lifetime)
        return (raw + 299) / 300 * 300
    }

    /// The signed URL of a file of the publication (a path relative to its root).
    func url(for path: String, expires: Int64) -> String {
        "\(base)/\(expires)/\(signature(expires: expires))/\(path)"
    }

    func signature(expires: Int64) -> String {
        if let cached = lastSignature.withLock({ $0 }), cached.expires == expires { return cached.signature }
        let signature = Self.sign(expires: expires, key: key)
        lastSignature.withLock { $0 = (expires, signature) }
        return signature
    }

    private static func sign(expires: Int64, key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data("musikk-media-v1:\(expires)".utf8), using: key)).base64URLEncoded()
    }

    /// Whether a token taken from a path is genuine and unexpired.
    func isValid(expires: String, signature: String, now: Date) -> Bool {
        guard let expiry = Int64(expires), Double(expiry) > now.timeIntervalSince1970,
              let given = Data(base64URLEncoded: signature)
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("musikk-media-v1:\(expiry)".utf8), using: key)
    }
}

extension Data {
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
