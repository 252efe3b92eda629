import Foundation

/// Hex both ways, written here so the tests judge Musikk's hex with their own.
public enum Hex {
    public static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    public static func bytes(_ hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// The protected tier's keys by the derivation the README documents, computed with openssl's HKDF: a judge that
/// shares no code with Musikk's.
public enum ContentKeyJudge {
    /// A random key-encryption key as a key file holds it (64 hex digits).
    public static func randomKeyHex() -> String {
        Hex.hex((0..<32).map { _ in UInt8.random(in: 0...255) })
    }

    /// A track's key id and content key (hex) under the KEK `keyHex`.
    public static func contentKey(keyHex: String, trackID: String) throws -> (kid: String, key: String) {
        func hkdf(_ info: [UInt8], length: Int) throws -> String {
            let result = try Command.run("openssl", [
                "kdf", "-keylen", String(length), "-kdfopt", "digest:SHA256", "-kdfopt", "hexkey:\(keyHex)",
                "-kdfopt", "salt:musikk cbcs v1", "-kdfopt", "hexinfo:\(Hex.hex(info))", "HKDF",
            ])
            guard result.status == 0 else { throw SetupError(description: "openssl kdf: \(result.standardError)") }
            return result.text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        }
        let kid = try hkdf(Array("kid:\(trackID)".utf8), length: 16)
        let key = try hkdf(Array("key:".utf8) + (Hex.bytes(kid) ?? []), length: 16)
        return (kid, key)
    }

    /// base64url without padding, as EME ClearKey writes key ids and keys.
    public static func base64URL(_ hex: String) -> String {
        Data(Hex.bytes(hex) ?? []).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
