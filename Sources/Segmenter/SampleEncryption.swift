import Crypto
import Foundation
import _CryptoExtras
import WorkArea

/// What the init segment says about a protected track: the scheme and the key id (published in manifests).
public struct TrackProtection: Sendable, Equatable, Codable {
    /// Only `cbcs` (ISO/IEC 23001-7 §10.4), which FairPlay, Widevine, PlayReady and ClearKey all decrypt.
    public var scheme: String
    /// 16 bytes.
    public var keyID: [UInt8]
    /// Where players ask for the key: musikk-server's ClearKey licence endpoint (the manifests name it).
    public var licenseURL: String

    public init(keyID: [UInt8], licenseURL: String) {
        scheme = "cbcs"
        self.keyID = keyID
        self.licenseURL = licenseURL
    }

    /// The key id as a UUID string (`cenc:default_KID`).
    public var keyIDUUID: String {
        [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { FileDigest.hex(keyID[$0]) }.joined(separator: "-")
    }

    /// The key id as lowercase hex.
    public var keyIDHex: String { FileDigest.hex(keyID) }

    /// Bytes of each sample's IV in `senc` (ISO/IEC 23001-7 allows 16 for `cbcs`; no constant IV is used, so no
    /// IV repeats under a key).
    static let ivSize = 16
    /// The ClearKey system id (W3C EME), for the `pssh` box a player's `encrypted` event carries.
    static let clearKeySystemID: [UInt8] = [
        0x10, 0x77, 0xef, 0xec, 0xc0, 0xb2, 0x4d, 0x02, 0xac, 0xe3, 0x3c, 0x1e, 0x52, 0xe2, 0xfb, 0x4b,
    ]
}

/// Encrypts samples with `cbcs` as audio has it: each sample's whole 16-byte blocks in AES-128-CBC from that sample's
/// IV (no pattern: crypt 0, skip 0), a partial last block left clear; no subsamples.
public struct SampleEncryptor: Sendable {
    public let protection: TrackProtection
    private let key: SymmetricKey
    private let ivSecret: SymmetricKey
    private let rendition: String

    /// - Parameters:
    ///   - key: the 16-byte content key.
    ///   - ivSecret: what each sample's IV is derived from, with `rendition` and the sample's number.
    public init(keyID: [UInt8], key: [UInt8], ivSecret: [UInt8], rendition: String, licenseURL: String) {
        protection = TrackProtection(keyID: keyID, licenseURL: licenseURL)
        self.key = SymmetricKey(data: key)
        self.ivSecret = SymmetricKey(data: ivSecret)
        self.rendition = rendition
    }

    /// The IV of sample `number` (counted from 0 over the whole rendition).
    func iv(ofSample number: Int) -> [UInt8] {
        let message = Data("\(rendition):\(number)".utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: ivSecret).prefix(TrackProtection.ivSize))
    }

    /// The sample encrypted under `iv`.
    func encrypt(_ sample: [UInt8], iv: [UInt8]) throws(SegmenterError) -> [UInt8] {
        let whole = sample.count / 16 * 16
        guard whole > 0 else { return sample }
        do {
            let encrypted = try AES._CBC.encrypt(
                sample[..<whole], using: key, iv: try AES._CBC.IV(ivBytes: iv), noPadding: true
            )
            return Array(encrypted) + sample[whole...]
        } catch {
            throw .encryption(detail: "\(error)")
        }
    }
}
