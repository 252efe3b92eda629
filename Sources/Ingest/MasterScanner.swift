import Foundation
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// A file (or directory posing as one) found under MASTERS_DIR.
struct MasterCandidate: Sendable {
    /// The master's absolute path, as found under MASTERS_DIR.
    var path: String
    var url: URL { URL(fileURLWithPath: path) }
    /// Relative to MASTERS_DIR, with `/` separators.
    var relativePath: String
    /// A directory whose name looks like an audio file (`x.flac/`): reported, not decoded.
    var isDirectory: Bool
    /// Size, modification and status-change times and inode: what tells a later run the file is unchanged.
    var stamp: FileStamp
    /// Bytes, a proxy for how long the master takes to ingest.
    var size: Int { Int(stamp.size) }
}

/// Finds masters: every regular file under the folder, recursively, except hidden files and the sidecar files
/// that sit beside masters (cover images, cue sheets, logs, checksums, playlists, text). Whether a file is audio
/// is decided later by probing its content, not by its name.
enum MasterScanner {
    static let sidecarExtensions: Set<String> = [
        "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff",
        "txt", "md", "pdf", "nfo", "log", "cue", "lrc", "m3u", "m3u8", "pls", "sfv", "md5", "ffp", "accurip", "json", "xml",
    ]
    static let audioExtensions: Set<String> = [
        "flac", "wav", "wave", "aif", "aiff", "aifc", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "alac", "caf", "wv",
    ]

    /// Candidates sorted by relative path. A walk with readdir and stat, as `find` does it: a rescan of a big
    /// catalog stats every master, and Foundation's enumerator cost ten times the stats (measured at 20,000).
    /// Symbolic links to files are masters at the link's path; linked folders are not entered (no cycles).
    /// - Parameters:
    ///   - excluding: a directory never to descend into (WORK_DIR, when it lies inside MASTERS_DIR).
    ///   - including: which relative paths to keep (a shard's); others are not even stat-ed.
    static func scan(_ root: URL, excluding excluded: URL?, including: (String) -> Bool = { _ in true }) throws -> [MasterCandidate] {
        let rootPath = root.standardizedFileURL.resolvingSymlinksInPath().path
        let excludedPath = excluded?.standardizedFileURL.resolvingSymlinksInPath().path
        guard let top = opendir(rootPath) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: rootPath])
        }
        closedir(top)
        var candidates: [MasterCandidate] = []
        var folders = [(path: rootPath, relative: "")]
        while let folder = folders.popLast() {
            // An unreadable subfolder is passed over, as Foundation's enumerator did.
            guard let directory = opendir(folder.path) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard !name.hasPrefix(".") else { continue }
                let path = folder.path + "/" + name
                let relative = folder.relative.isEmpty ? name : folder.relative + "/" + name
                let fileExtension = Self.fileExtension(of: name)
                var kind = entry.pointee.d_type
                if kind == UInt8(DT_UNKNOWN) {
                    var status = stat()
                    guard lstat(path, &status) == 0 else { continue }
                    kind = (status.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR) : (status.st_mode & S_IFMT) == S_IFLNK ? UInt8(DT_LNK) : UInt8(DT_REG)
                }
                if kind == UInt8(DT_DIR) {
                    guard path != excludedPath else { continue }
                    if audioExtensions.contains(fileExtension), including(relative) {
                        candidates.append(MasterCandidate(path: path, relativePath: relative, isDirectory: true, stamp: .none))
                    }
                    folders.append((path, relative))
                    continue
                }
                guard !sidecarExtensions.contains(fileExtension), including(relative) else { continue }
                // A link to a file is followed; a link to a folder, or a broken one, is passed over.
                guard let stamp = FileStamp.ofRegularFile(named: name, in: dirfd(directory)) else { continue }
                candidates.append(MasterCandidate(path: path, relativePath: relative, isDirectory: false, stamp: stamp))
            }
        }
        return candidates.sorted { $0.relativePath < $1.relativePath }
    }

    /// The lowercased extension of a file name ("" for none); lowercased only when it has capitals, which few do.
    private static func fileExtension(of name: String) -> String {
        guard let dot = name.utf8.lastIndex(of: UInt8(ascii: ".")) else { return "" }
        let suffix = name[name.index(after: dot)...]
        return suffix.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") || $0 >= 0x80 }) ? suffix.lowercased() : String(suffix)
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
