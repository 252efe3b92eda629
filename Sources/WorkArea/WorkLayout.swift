import Foundation

/// The version of the musikk tools, as `--version` prints it and the reports, catalog and provenance record it.
public enum MusikkVersion {
    public static let current = "0.1.0"
}

/// Where things go inside WORK_DIR, and how a run cleans up after one that was killed.
public struct WorkLayout: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public var catalog: URL { root.appendingPathComponent("catalog.sqlite") }
    public var tracks: URL { root.appendingPathComponent("tracks", isDirectory: true) }
    public var covers: URL { root.appendingPathComponent("covers", isDirectory: true) }
    /// The lock that keeps two runs apart (see ``RunLock``).
    public var lock: URL { root.appendingPathComponent("musikk.lock") }

    /// Prefix of a directory or file still being written; never referenced by the catalog.
    public static let partialPrefix = ".partial-"
    /// Prefix of a track directory moved aside while its replacement is renamed into place.
    public static let replacedPrefix = ".replaced-"

    /// A finished track's directory.
    public func track(_ id: String) -> URL { tracks.appendingPathComponent(id, isDirectory: true) }
    /// Where a track is built before it is renamed into place.
    public func partialTrack(_ id: String) -> URL { tracks.appendingPathComponent(Self.partialPrefix + id, isDirectory: true) }

    public func create() throws {
        for directory in [root, tracks, covers] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        guard FileManager.default.isWritableFile(atPath: root.path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: root.path])
        }
    }

    public func relative(_ url: URL) -> String {
        String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
    }

    /// Undoes what a killed run left half done: partial tracks and covers are deleted, and a track directory moved
    /// aside for a replacement that never arrived is moved back (so the catalog's rows, written only after a
    /// replacement is in place, point at files again). Run with the lock held, before anything else.
    /// - Returns: how many leftovers were cleaned up.
    public func recover() throws -> Int {
        let manager = FileManager.default
        var cleaned = 0
        for folder in [tracks, covers] {
            for name in try manager.contentsOfDirectory(atPath: folder.path) where name.hasPrefix(Self.partialPrefix) {
                try manager.removeItem(at: folder.appendingPathComponent(name))
                cleaned += 1
            }
        }
        for name in try manager.contentsOfDirectory(atPath: tracks.path) where name.hasPrefix(Self.replacedPrefix) {
            let aside = tracks.appendingPathComponent(name)
            // `.replaced-ID-UUID`: the track id is everything before the last dash.
            let id = String(name.dropFirst(Self.replacedPrefix.count).split(separator: "-").dropLast().joined(separator: "-"))
            if !id.isEmpty, !manager.fileExists(atPath: track(id).path) {
                try manager.moveItem(at: aside, to: track(id))
            } else {
                try manager.removeItem(at: aside)
            }
            cleaned += 1
        }
        return cleaned
    }

    /// Renames a finished directory into place, replacing an older one: the old one is moved aside first (a name
    /// ``recover()`` knows how to undo), so at no moment is the track's directory missing for good.
    public func place(_ partial: URL, as destination: URL) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: destination.path) {
            let aside = tracks.appendingPathComponent(
                "\(Self.replacedPrefix)\(destination.lastPathComponent)-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
            )
            try manager.moveItem(at: destination, to: aside)
            try manager.moveItem(at: partial, to: destination)
            try manager.removeItem(at: aside)
        } else {
            try manager.moveItem(at: partial, to: destination)
        }
    }
}
