import Crypto
import Foundation

/// The keys the server signs with, generated on first start and kept in `DATA_DIR/secrets.json` (mode 0600).
struct ServerSecrets: Codable, Sendable {
    /// HMAC-SHA256 key for access tokens (JWT HS256).
    var tokenKey: String
    /// HMAC-SHA256 key for signed media URLs (share it with the CDN edge that checks them).
    var mediaKey: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the secrets, or creates them with fresh random keys. Refuses a file others can read.
    static func loadOrCreate(in directory: URL) throws -> ServerSecrets {
        let url = directory.appendingPathComponent("secrets.json")
        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) {
            let mode = ((try manager.attributesOfItem(atPath: url.path))[.posixPermissions] as? NSNumber)?.intValue ?? 0
            guard mode & 0o077 == 0 else {
                throw Failure(description: "\(url.path) can be read by other users (mode \(String(mode, radix: 8))); run `chmod 600 \(url.path)` and start again")
            }
            do {
                return try JSONDecoder().decode(ServerSecrets.self, from: Data(contentsOf: url))
            } catch {
                throw Failure(description: "\(url.path) is not a musikk-server secrets file (\(error)); move it away to generate new keys (this signs everyone out)")
            }
        }
        let secrets = ServerSecrets(tokenKey: randomKey(), mediaKey: randomKey())
        let data = try JSONEncoder().encode(secrets)
        guard manager.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "cannot write \(url.path); check that the data directory is writable")
        }
        return secrets
    }

    private static func randomKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
