import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file (or directory posing as one) found under MASTERS_DIR.
struct MasterCandidate: Sendable {
    var url: URL
    /// Relative to MASTERS_DIR, with `/` separators.
    var relativePath: String
    /// A directory whose name looks like an audio file (`x.flac/`): reported, not decoded.
    var isDirectory: Bool
    /// Size, modification and status-change times and inode: what tells a later run the file is unchanged.
    var stamp: FileStamp
    /// Bytes, a proxy for how long the master takes to ingest.
    var size: Int { Int(stamp.size) }
}

/// What `stat` says of a file, compared as a whole to tell an unchanged file without reading it (as git's index
/// does). A file rewritten in place gets a new status-change time even when its size and modification time are
/// put back (rsync -t, cp -p); a file replaced by rename gets a new inode.
struct FileStamp: Sendable, Equatable {
    var size: Int64
    /// Nanoseconds since 1970.
    var modified: Int64
    /// Nanoseconds since 1970.
    var changed: Int64
    var inode: Int64

    static let none = FileStamp(size: 0, modified: 0, changed: 0, inode: 0)
}

/// Finds masters: every regular file under the folder, recursively, except hidden files and the sidecar files
/// that sit beside masters (cover images, cue sheets, logs, checksums, playlists, text). Whether a file is audio
/// is decided later by probing its content, not by its name.
enum MasterScanner {
    static let sidecarExtensions: Set<String> = [
        "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff",
        "txt", "md", "pdf", "nfo", "log", "cue", "m3u", "m3u8", "pls", "sfv", "md5", "ffp", "accurip", "json", "xml",
    ]
    static let audioExtensions: Set<String> = [
        "flac", "wav", "wave", "aif", "aiff", "aifc", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "alac", "caf", "wv",
    ]

    /// Candidates sorted by relative path.
    /// - Parameters:
    ///   - excluding: a directory never to descend into (WORK_DIR, when it lies inside MASTERS_DIR).
    ///   - including: which relative paths to keep (a shard's); others are not even stat-ed.
    static func scan(_ root: URL, excluding excluded: URL?, including: (String) -> Bool = { _ in true }) throws -> [MasterCandidate] {
        let root = root.standardizedFileURL.resolvingSymlinksInPath()
        let excludedPath = excluded?.standardizedFileURL.resolvingSymlinksInPath().path
        let keys: [URLResourceKey] = [.isDirectoryKey, .isRegularFileKey]
        guard let enumerator = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles]
        ) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: root.path])
        }
        var candidates: [MasterCandidate] = []
        for case let url as URL in enumerator {
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            let values = try url.resourceValues(forKeys: Set(keys))
            let relative = String(path.dropFirst(root.path.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            let fileExtension = url.pathExtension.lowercased()
            if values.isDirectory == true {
                if path == excludedPath {
                    enumerator.skipDescendants()
                } else if audioExtensions.contains(fileExtension), including(relative) {
                    candidates.append(MasterCandidate(
                        url: url, relativePath: relative, isDirectory: true, stamp: .none
                    ))
                }
                continue
            }
            guard values.isRegularFile == true, !sidecarExtensions.contains(fileExtension), including(relative) else { continue }
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            let stamp = FileStamp(
                size: Int64(status.st_size),
                modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec),
                changed: Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec),
                inode: Int64(bitPattern: UInt64(status.st_ino))
            )
            candidates.append(MasterCandidate(url: url, relativePath: relative, isDirectory: false, stamp: stamp))
        }
        return candidates.sorted { $0.relativePath < $1.relativePath }
    }

    /// A cover image beside the master (`cover.jpg`, `folder.png`, `front.jpg`), for masters without embedded art.
    static func folderCover(beside master: URL) -> URL? {
        let folder = master.deletingLastPathComponent()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        for stem in ["cover", "folder", "front"] {
            for name in names.sorted() {
                let url = folder.appendingPathComponent(name)
                let ext = url.pathExtension.lowercased()
                if url.deletingPathExtension().lastPathComponent.lowercased() == stem, ["jpg", "jpeg", "png"].contains(ext) {
                    return url
                }
            }
        }
        return nil
    }
}
