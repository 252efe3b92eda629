internal import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OUT_DIR and the siblings a publish works in: a staging folder built beside it and swapped in at once, and the
/// lock file. Siblings, not children, so that they share OUT_DIR's filesystem (a rename stays one step) but are
/// never part of what readers see.
struct OutputArea {
    /// OUT_DIR with symbolic links resolved.
    let root: URL

    init(_ path: URL) {
        root = path.standardizedFileURL.resolvingSymlinksInPath()
    }

    private var parent: URL { root.deletingLastPathComponent() }
    private func sibling(_ suffix: String) -> URL { parent.appendingPathComponent(".\(root.lastPathComponent).\(suffix)") }

    /// Where the next publication is built.
    var staging: URL { sibling("musikk-staging") }
    /// Where the replaced publication goes on filesystems that cannot swap two folders in one step.
    var previous: URL { sibling("musikk-previous") }
    /// The lock that keeps two publishes apart.
    var lock: URL { sibling("musikk-publish.lock") }
    /// What the last publish was made from (see ``PublishState``).
    var state: URL { sibling("musikk-state.json") }
    /// Resized covers kept between publishes (see ``CoverThumbnails``).
    var thumbnails: URL { sibling("musikk-thumbnails") }

    /// Deletes what a killed publish left: a half-built staging folder, or the replaced publication it had not yet
    /// deleted. OUT_DIR itself is always whole. Returns how many were removed.
    func recover() throws(PublishError) -> Int {
        var removed = 0
        for leftover in [staging, previous] where FileManager.default.fileExists(atPath: leftover.path) {
            do {
                try FileManager.default.removeItem(at: leftover)
            } catch {
                throw .output(path: leftover.path, detail: "cannot remove what an interrupted publish left "
                    + "(\(error.localizedDescription))")
            }
            removed += 1
        }
        return removed
    }

    /// Refuses an OUT_DIR with files that no publish wrote: the switch would move them away.
    func checkOwnership() throws(PublishError) {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(atPath: root.path), !entries.isEmpty else { return }
        guard manager.fileExists(atPath: root.appendingPathComponent(PublicationRecord.fileName).path) else {
            throw .foreignOutput(path: root.path)
        }
    }

    /// Makes the staging folder the publication in one step: exchanged with OUT_DIR (renameat2 RENAME_EXCHANGE),
    /// then the old publication, now at the staging path, is deleted. Readers see the old or the new tree, never a
    /// mix and never none. Returns a warning when the filesystem cannot exchange and two renames were used.
    func switchToStaging() throws(PublishError) -> String? {
        let manager = FileManager.default
        guard manager.fileExists(atPath: root.path) else {
            guard rename(staging.path, root.path) == 0 else {
                throw .output(path: root.path, detail: "cannot rename the new publication into place (\(Self.lastError))")
            }
            return nil
        }
        var warning: String?
        if musikk_exchange_paths(staging.path, root.path) == 0 {
            removeQuietly(staging)
        } else if errno == EINVAL || errno == ENOSYS || errno == ENOTSUP {
            // No RENAME_EXCHANGE here (an old kernel, NFS): two renames, with OUT_DIR missing in between.
            guard rename(root.path, previous.path) == 0 else {
                throw .output(path: root.path, detail: "cannot move the old publication aside (\(Self.lastError))")
            }
            guard rename(staging.path, root.path) == 0 else {
                let detail = Self.lastError
                _ = rename(previous.path, root.path)
                throw .output(path: root.path, detail: "cannot rename the new publication into place (\(detail))")
            }
            removeQuietly(previous)
            warning = "\(root.path): this filesystem cannot swap two folders in one step, so the publication was "
                + "replaced by two renames (missing for an instant); use a local filesystem such as ext4, XFS or Btrfs"
        } else {
            throw .output(path: root.path, detail: "cannot switch to the new publication (\(Self.lastError))")
        }
        return warning
    }

    /// Flushes the staging folder's filesystem so the switch never makes visible what a power cut could lose.
    func flush() {
        let descriptor = open(staging.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = syncfs(descriptor)
        close(descriptor)
    }

    private func removeQuietly(_ url: URL) {
        // What is left is the replaced publication; a failure here is cleaned up by the next publish's recover().
        try? FileManager.default.removeItem(at: url)
    }

    static var lastError: String { String(cString: strerror(errno)) }
}
