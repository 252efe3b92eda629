import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `stat` says of a file, enough to tell it changed without reading it: size, modification and status-change
/// times (nanoseconds since 1970) and inode. A file rewritten in place with its size and time restored (rsync -t,
/// cp -p) still gets a new status-change time; a folder gets new times when an entry is added, removed or renamed.
public struct FileStamp: Codable, Sendable, Equatable {
    public var size: Int64
    public var modified: Int64
    public var changed: Int64
    public var inode: Int64

    public static let none = FileStamp(size: 0, modified: 0, changed: 0, inode: 0)

    public init(size: Int64, modified: Int64, changed: Int64, inode: Int64) {
        (self.size, self.modified, self.changed, self.inode) = (size, modified, changed, inode)
    }

    /// The stamp of whatever is at `path` (links followed); nil when nothing is.
    public init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        self.init(status)
    }

    /// The stamp of the regular file at `path` (links followed); nil for a folder, a broken link or nothing.
    public static func ofRegularFile(at path: String) -> FileStamp? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileStamp(status)
    }

    /// The same for the file `name` in the open folder `folder` (a descriptor): the kernel does not walk the
    /// folder's path again, as `find` does not (a rescan stats every master).
    public static func ofRegularFile(named name: String, in folder: Int32) -> FileStamp? {
        var status = stat()
        guard fstatat(folder, name, &status, 0) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileStamp(status)
    }

    /// Wrapping arithmetic: the times come from the filesystem, and a date past 2262 must not stop a run.
    private init(_ status: stat) {
        size = Int64(status.st_size)
        modified = Int64(status.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(status.st_mtim.tv_nsec)
        changed = Int64(status.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(status.st_ctim.tv_nsec)
        inode = Int64(bitPattern: UInt64(status.st_ino))
    }
}
