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
    /// The publication before the current one, sharing its unchanged files through hard links: a publish brings
    /// it up to date and swaps it in (see ``DeltaRun``).
    var behind: URL { sibling("musikk-behind") }
    /// The publication's index (see ``PublicationIndex``), and where a full publish writes the next one.
    var index: URL { sibling("musikk-index.sqlite") }
    var newIndex: URL { sibling("musikk-index-new.sqlite") }
    /// Resized covers kept between publishes (see ``CoverThumbnails``).
    var thumbnails: URL { sibling("musikk-thumbnails") }

    /// Deletes what a killed publish left: a half-built staging folder, or the replaced publication it had not yet
    /// deleted. OUT_DIR itself is always whole. Returns how many were removed.
    func recover() throws(PublishError) -> Int {
        var removed = 0
        for leftover in [staging, previous, newIndex] where FileManager.default.fileExists(atPath: leftover.path) {
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

    /// Makes the staging folder the publication in one step: exchanged with OUT_DIR (renameat2 RENAME_EXCHANGE).
    /// Readers see the old or the new tree, never a mix and never none. The old publication is kept as the tree
    /// behind (``behind``), replacing the one there. Returns a warning when the filesystem cannot exchange and two
    /// renames were used, and whether there was an old publication to keep.
    func switchToStaging() throws(PublishError) -> (warning: String?, keptPrevious: Bool) {
        guard FileManager.default.fileExists(atPath: root.path) else {
            guard rename(staging.path, root.path) == 0 else {
                throw .output(path: root.path, detail: "cannot rename the new publication into place (\(Self.lastError))")
            }
            return (nil, false)
        }
        let warning = try exchange(staging)
        removeQuietly(behind)
        guard rename(staging.path, behind.path) == 0 else {
            throw .output(path: behind.path, detail: "cannot keep the previous publication (\(Self.lastError))")
        }
        return (warning, true)
    }

    /// Swaps the tree behind with OUT_DIR, which it now follows.
    func switchToBehind() throws(PublishError) -> String? {
        try exchange(behind)
    }

    /// Exchanges `folder` with OUT_DIR; where the filesystem cannot (an old kernel, NFS), three renames do it, with
    /// OUT_DIR missing for an instant, and the warning says so.
    private func exchange(_ folder: URL) throws(PublishError) -> String? {
        if musikk_exchange_paths(folder.path, root.path) == 0 { return nil }
        guard errno == EINVAL || errno == ENOSYS || errno == ENOTSUP else {
            throw .output(path: root.path, detail: "cannot switch to the new publication (\(Self.lastError))")
        }
        guard rename(root.path, previous.path) == 0 else {
            throw .output(path: root.path, detail: "cannot move the old publication aside (\(Self.lastError))")
        }
        guard rename(folder.path, root.path) == 0 else {
            let detail = Self.lastError
            _ = rename(previous.path, root.path)
            throw .output(path: root.path, detail: "cannot rename the new publication into place (\(detail))")
        }
        guard rename(previous.path, folder.path) == 0 else {
            throw .output(path: folder.path, detail: "cannot keep the previous publication (\(Self.lastError))")
        }
        return "\(root.path): this filesystem cannot swap two folders in one step, so the publication was "
            + "replaced by renames (missing for an instant); use a local filesystem such as ext4, XFS or Btrfs"
    }

    /// Flushes the filesystem of `folder` (the staging folder or the tree behind) so the switch never makes visible
    /// what a power cut could lose.
    func flush(_ folder: URL) {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = syncfs(descriptor)
        close(descriptor)
    }

    /// Removes a tree behind that is being replaced; one left half-removed is never used (the index that
    /// describes it is replaced too) and is removed by the next full publish.
    func removeQuietly(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }

    static var lastError: String { String(cString: strerror(errno)) }
}
