import Crypto
import Foundation
import WorkArea

/// The secret every content key of a catalog is derived from (the key-encryption key, KEK): 32 random bytes,
/// kept as 64 hex digits in `WORK/keys/kek` (mode 0600) or in a file given with `--key-file`. Ingest derives
/// each track's key from it to encrypt; musikk-server derives the same key from a key id to answer a licence
/// request. Nothing derived from it but key ids is ever published.
///
/// Derivation (HKDF-SHA256, salt `musikk cbcs v1`):
/// - key id (KID) of a track: 16 bytes, info `kid:` + the track id;
/// - content key of a KID: 16 bytes, info `key:` + the KID;
/// - IV secret of a KID: 32 bytes, info `iv:` + the KID. Each sample's IV is the first 16 bytes of
///   HMAC-SHA256(IV secret, rendition name + `:` + sample number), so no IV repeats under one key.
public struct KeyEncryptionKey: Sendable {
    private let secret: SymmetricKey

    /// Bytes a key file may hold: 64 hex digits and white space around them.
    static let maximumFileSize = 4096
    private static let salt = Data("musikk cbcs v1".utf8)

    /// A new random key, kept in memory only.
    public static func random() -> KeyEncryptionKey {
        KeyEncryptionKey(secret: SymmetricKey(size: .bits256))
    }

    private init(secret: SymmetricKey) {
        self.secret = secret
    }

    /// Reads a key file: 64 hex digits.
    public static func read(from url: URL) throws(KeyFileError) -> KeyEncryptionKey {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw .unreadable(path: url.path, detail: error.localizedDescription)
        }
        guard data.count <= maximumFileSize else {
            throw .malformed(path: url.path, detail: "it is larger than a key file (\(maximumFileSize) bytes at most)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = FileDigest.bytes(hex: text), bytes.count == 32 else {
            throw .malformed(path: url.path, detail: "it must hold 64 hex digits (32 random bytes), e.g. from `openssl rand -hex 32`")
        }
        return KeyEncryptionKey(secret: SymmetricKey(data: bytes))
    }

    /// Reads the key file at `url`, or creates it (mode 0600, its folder 0700) with 32 random bytes when absent.
    public static func readOrCreate(at url: URL) throws(KeyFileError) -> KeyEncryptionKey {
        let manager = FileManager.default
        if !manager.fileExists(atPath: url.path) {
            let folder = url.deletingLastPathComponent()
            do {
                try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .unwritable(path: folder.path, detail: error.localizedDescription)
            }
            let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            let text = FileDigest.hex(bytes) + "\n"
            // O_EXCL: of two runs creating it at once, one wins and the other reads the winner's.
            let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, text.utf8.count) }
                let synced = fsync(descriptor)
                close(descriptor)
                guard written == text.utf8.count, synced == 0 else {
                    unlink(url.path)
                    throw .unwritable(path: url.path, detail: String(cString: strerror(errno)))
                }
            } else if errno != EEXIST {
                throw .unwritable(path: url.path, detail: String(cString: strerror(errno)))
            }
        }
        return try read(from: url)
    }

    /// The key id of a track.
    public func keyID(forTrack trackID: String) -> [UInt8] {
        derive(info: Data("kid:".utf8) + Data(trackID.utf8), count: 16)
    }

    /// The content key and IV secret of a key id.
    public func contentKey(keyID: [UInt8]) -> ContentKey {
        ContentKey(
            keyID: keyID, key: derive(info: Data("key:".utf8) + Data(keyID), count: 16),
            ivSecret: derive(info: Data("iv:".utf8) + Data(keyID), count: 32)
        )
    }

    /// A short public name of this key (not secret; derived one-way): provenance records it, so renditions made
    /// under another key are made again.
    public var fingerprint: String {
        FileDigest.hex(derive(info: Data("fingerprint".utf8), count: 8))
    }

    private func derive(info: Data, count: Int) -> [UInt8] {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, salt: Self.salt, info: info, outputByteCount: count)
            .withUnsafeBytes { Array($0) }
    }
}

/// One track's content key: what encrypts its renditions and what a licence hands to a player.
public struct ContentKey: Sendable, Equatable {
    public let keyID: [UInt8]
    public let key: [UInt8]
    /// Makes each sample's IV (see ``KeyEncryptionKey``); never leaves the ingest.
    public let ivSecret: [UInt8]
}

/// Why a key file could not be used.
public enum KeyFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, detail: String)
    case unwritable(path: String, detail: String)
    case malformed(path: String, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(path, detail):
            return "\(path): cannot read the key file (\(detail)); check the path and its permissions"
        case let .unwritable(path, detail):
            return "\(path): cannot create the key file (\(detail)); check the work folder's permissions and free space"
        case let .malformed(path, detail):
            return "\(path): not a key file: \(detail)"
        }
    }
}

/// Where musikk-server answers key requests: manifests name it (root-relative by default), the server routes it.
public enum LicenseEndpoint {
    /// EME ClearKey licences (`POST`), and under it the HLS key URI of each key id (`GET …/HEX`).
    public static let path = "/api/drm/clearkey"
}
