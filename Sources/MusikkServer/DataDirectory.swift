import Foundation
import Social

/// The server's data directory: its files hold password hashes, tokens and keys, so only the server's user may
/// read them, whoever created the directory and with whatever umask.
enum DataDirectory {
    static func database(in directory: URL) -> URL { directory.appendingPathComponent("social.sqlite") }

    /// Creates the directory if needed, and makes it private (0700) if it already existed.
    static func prepare(_ directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
        } catch {
            throw ServerStartError(description: "cannot create the data directory \(directory.path), or make it private (mode 0700): \(error.localizedDescription)")
        }
    }

    /// Makes the database and its journal files private (0600).
    static func restrict(_ directory: URL) throws {
        let manager = FileManager.default
        let database = database(in: directory).path
        for file in [database, database + "-wal", database + "-shm"] where manager.fileExists(atPath: file) {
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }
}

/// Avatars that versions before 0.19 kept as files (`DATA/avatars/USER_ID`), moved into the store, where every
/// instance finds them. The folder is deleted once each file is in.
public enum AvatarFiles {
    public static func moveIntoStore(from dataDirectory: URL, _ store: SocialStore) async throws {
        let folder = dataDirectory.appendingPathComponent("avatars")
        guard FileManager.default.fileExists(atPath: folder.path) else { return }
        for userId in try await store.usersWithAvatarFiles() {
            let file = folder.appendingPathComponent(String(userId))
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
            // A file this server could not have written (missing, or over the upload limit) stays out; the user
            // shows no avatar until they upload one again.
            guard size > 0, size <= UsersController.maxAvatarBytes, let data = FileManager.default.contents(atPath: file.path) else { continue }
            try await store.moveInAvatar(userId, image: Array(data))
        }
        do {
            try FileManager.default.removeItem(at: folder)
        } catch {
            throw ServerStartError(description: "moved the avatars in \(folder.path) into the database, but cannot delete the folder: \(error.localizedDescription)")
        }
    }
}
