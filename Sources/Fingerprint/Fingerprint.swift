internal import CChromaprint

/// A Chromaprint fingerprint: one 32-bit sub-fingerprint per 1365 samples at 11025 Hz (about 8 per second).
public struct Fingerprint: Sendable, Equatable {
    /// The sub-fingerprints, as `fpcalc -raw` prints them.
    public let raw: [UInt32]
    /// The compressed, URL-safe base64 form, as `fpcalc` prints it after `FINGERPRINT=` (and AcoustID takes).
    public let compressed: String

    /// Seconds of audio between sub-fingerprints: Chromaprint's hop of 1365 samples at 11025 Hz.
    public static let itemSeconds = 1365.0 / 11_025.0

    /// Wraps raw sub-fingerprints and compresses them as Chromaprint does.
    public init(raw: [UInt32]) throws(FingerprintError) {
        var encoded: UnsafeMutablePointer<CChar>?
        var encodedSize: Int32 = 0
        let result = raw.withUnsafeBufferPointer {
            chromaprint_encode_fingerprint(
                $0.baseAddress, Int32($0.count), Int32(CHROMAPRINT_ALGORITHM_DEFAULT.rawValue), &encoded, &encodedSize, 1
            )
        }
        defer { chromaprint_dealloc(encoded) }
        guard result == 1, let encoded else {
            throw FingerprintError(description: "Chromaprint could not compress a fingerprint of \(raw.count) items")
        }
        let bytes = UnsafeRawBufferPointer(start: encoded, count: Int(encodedSize))
        self.raw = raw
        self.compressed = String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a compressed fingerprint (as `fpcalc` prints it).
    public init(compressed: String) throws(FingerprintError) {
        var decoded: UnsafeMutablePointer<UInt32>?
        var size: Int32 = 0
        var algorithm: Int32 = 0
        let utf8 = Array(compressed.utf8)
        let result = utf8.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                chromaprint_decode_fingerprint($0.baseAddress, Int32($0.count), &decoded, &size, &algorithm, 1)
            }
        }
        defer { chromaprint_dealloc(decoded) }
        guard result == 1, let decoded, size > 0 else {
            throw FingerprintError(description: "not a compressed Chromaprint fingerprint: \(compressed.prefix(40))")
        }
        raw = Array(UnsafeBufferPointer(start: decoded, count: Int(size)))
        self.compressed = compressed
    }

    /// The raw sub-fingerprints as little-endian bytes, for storage.
    public var rawBytes: [UInt8] {
        raw.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    /// Reads sub-fingerprints stored by ``rawBytes``.
    public static func raw(fromBytes bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count - bytes.count % 4, by: 4).map { start in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + $1]) << (8 * $1) }
        }
    }
}
