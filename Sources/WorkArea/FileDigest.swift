import Crypto
import Foundation

/// SHA-256 digests of files, read in 1 MiB blocks: memory does not grow with the file.
public enum FileDigest {
    /// Why a file could not be hashed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var detail: String
        public var description: String { "\(path): cannot be read (\(detail)); check that it exists and is readable" }
    }

    /// SHA-256 (lowercase hex) of the file at `url`.
    public static func sha256(of url: URL) throws(Failure) -> String {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw Failure(path: url.path, detail: error.localizedDescription)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(data: block)
            }
        } catch {
            throw Failure(path: url.path, detail: error.localizedDescription)
        }
        return hex(hasher.finalize())
    }

    /// SHA-256 of a file, or of a folder by ``sha256(ofFolder:)`` over the files directly inside it.
    public static func sha256(ofItemAt url: URL) throws(Failure) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw Failure(path: url.path, detail: "no such file")
        }
        guard isDirectory.boolValue else { return try sha256(of: url) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            throw Failure(path: url.path, detail: error.localizedDescription)
        }
        var digests: [String: String] = [:]
        for name in names {
            digests[name] = try sha256(of: url.appendingPathComponent(name))
        }
        return sha256(ofFolder: digests)
    }

    /// SHA-256 of a folder of files: of the lines `NAME SHA256`, one per file in `namesAndDigests`, sorted by name.
    /// Names a rendition written as segment files by all of its bytes and file names at once.
    public static func sha256(ofFolder namesAndDigests: [String: String]) -> String {
        let listing = namesAndDigests.keys.sorted().map { "\($0) \(namesAndDigests[$0] ?? "")\n" }.joined()
        return sha256(of: Data(listing.utf8))
    }

    /// SHA-256 (lowercase hex) of bytes in memory.
    public static func sha256(of data: Data) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Bytes as lowercase hex: the one hex encoder of the package (digests in names, tokens, validators).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var text = ""
        for byte in bytes {
            text.append(Self.digits[Int(byte >> 4)])
            text.append(Self.digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// Hex (either case), two digits a byte, as bytes; nil for anything else (odd length, a non-hex character).
    /// The one hex decoder of the package.
    public static func bytes(hex text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[pair]), let low = value(digits[pair + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static let digits = Array("0123456789abcdef")
}
