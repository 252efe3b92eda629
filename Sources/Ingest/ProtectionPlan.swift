import Foundation
import Protection
import Segmenter

/// The protected tier as a run applies it: the profile's rule, and the key-encryption key each track's key is
/// derived from.
struct ProtectionPlan: Sendable {
    let settings: Profile.Protection
    let keys: KeyEncryptionKey

    /// The KEK a run uses: `--key-file`, else `WORK/keys/kek`, made on first use when `create` (else, when there
    /// is none yet, a random one that is never stored: what a dry run plans with).
    static func load(_ settings: Profile.Protection, keyFile: URL?, work: URL, create: Bool) throws(IngestError) -> ProtectionPlan {
        let stored = work.appendingPathComponent("keys/kek")
        do {
            let keys: KeyEncryptionKey
            if let keyFile {
                keys = try KeyEncryptionKey.read(from: keyFile)
            } else if create || FileManager.default.fileExists(atPath: stored.path) {
                keys = try KeyEncryptionKey.readOrCreate(at: stored)
            } else {
                keys = KeyEncryptionKey.random()
            }
            return ProtectionPlan(settings: settings, keys: keys)
        } catch {
            throw .keyFile(description: error.description)
        }
    }

    /// What a protected rendition's provenance adds: the scheme, the key (by its public fingerprint) and the
    /// licence URL the manifests name. A rendition made under another key or URL is made again.
    var provenance: String { "cbcs, key \(keys.fingerprint), licence \(settings.licenseURL)" }

    /// The encryptor of one rendition of a track.
    func encryptor(trackID: String, rendition: String) -> SampleEncryptor {
        let key = keys.contentKey(keyID: keys.keyID(forTrack: trackID))
        return SampleEncryptor(
            keyID: key.keyID, key: key.key, ivSecret: key.ivSecret, rendition: rendition, licenseURL: settings.licenseURL
        )
    }
}
