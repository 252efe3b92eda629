import Foundation

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

    /// Makes the database (with its journal files) and the avatars private: files 0600, folders 0700.
    static func restrict(_ directory: URL) throws {
        let manager = FileManager.default
        let database = database(in: directory).path
        let avatars = directory.appendingPathComponent("avatars").path
        var files = [database, database + "-wal", database + "-shm"].filter { manager.fileExists(atPath: $0) }
        if manager.fileExists(atPath: avatars) {
            try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: avatars)
            files += try manager.contentsOfDirectory(atPath: avatars).map { avatars + "/" + $0 }
        }
        for file in files {
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }
}
