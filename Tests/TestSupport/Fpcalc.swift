import Foundation

/// What `fpcalc` (Debian's libchromaprint-tools, the reference implementation) prints for a file, and the raw
/// form Musikk's catalog stores, read back for comparison.
public enum Fpcalc {
    /// The `FINGERPRINT=` value `fpcalc -length LENGTH` prints (0: the whole file), raw items with `raw`;
    /// nil when it prints none (audio too short, or unreadable).
    public static func printed(_ path: String, length: Int = 0, raw: Bool) throws -> String? {
        let result = try Command.run("fpcalc", (raw ? ["-raw"] : []) + ["-length", "\(length)", path])
        return result.text.split(separator: "\n").first { $0.hasPrefix("FINGERPRINT=") }.map { String($0.dropFirst(12)) }
    }

    /// fpcalc's raw fingerprint: its 32-bit items.
    public static func raw(_ path: String, length: Int = 0) throws -> [UInt32]? {
        try printed(path, length: length, raw: true).map { $0.split(separator: ",").compactMap { UInt32($0) } }
    }

    /// The items of a raw fingerprint stored as uint32 little-endian bytes (the catalog's `fingerprintRaw`).
    public static func items(ofStored data: Data) -> [UInt32] {
        stride(from: 0, to: data.count - data.count % 4, by: 4).map { offset in
            data.subdata(in: offset..<offset + 4).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        }
    }
}
