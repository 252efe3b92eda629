import Foundation
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// A publish that costs what changed: the tree behind OUT_DIR (the publication before the last one, sharing every
/// unchanged file with it through hard links) is first brought up to OUT_DIR by the files the last publish changed,
/// then given this publish's changes, then swapped with OUT_DIR in one step. No file is ever written in place: a
/// file shared with OUT_DIR is replaced by a rename, so readers of OUT_DIR never see a change before the swap.
struct DeltaRun: PublicationSink {
    let out: OutputArea
    let index: PublicationIndex
    let options: PublishOptions
    private(set) var report: PublishReport
    /// The files each owner handed on in this publish.
    private var owned: [String: Set<String>] = [:]
    private var dropped: Set<String> = []
    /// Files already placed or written in this publish.
    private var handled: Set<String> = []
    /// The lines of publish.json this publish removes (stage and path) and the entries it writes.
    private var recordRemovals: [(stage: SyncStage, path: String)] = []
    private var recordEntries: [String: PublicationRecord.Entry] = [:]

    init(out: OutputArea, index: PublicationIndex, options: PublishOptions) {
        self.out = out
        self.index = index
        self.options = options
        report = PublishReport(outputDirectory: out.root.path, dryRun: false)
    }

    private var tree: URL { out.behind }

    /// Brings the tree behind OUT_DIR up to OUT_DIR: each file the last publish changed is linked from OUT_DIR or,
    /// gone there, removed.
    func catchUp() throws(PublishError) {
        for path in try index.pendingPaths() {
            let live = out.root.appendingPathComponent(path)
            if access(live.path, F_OK) == 0 {
                try replace(path) { temporary throws(PublishError) in
                    guard link(live.path, temporary.path) == 0 else {
                        throw .output(path: temporary.path, detail: "cannot hard-link \(live.path) (\(OutputArea.lastError))")
                    }
                }
            } else {
                try remove(path)
            }
        }
        try index.clearPending()
    }

    // MARK: Sink

    mutating func place(_ item: MediaItem, owner: String) throws(PublishError) {
        for file in item.files { owned[owner, default: []].insert(file.path) }
        guard let first = item.files.first, handled.insert(first.path).inserted else { return }
        var known: [PublicationRecord.Entry] = []
        for file in item.files {
            guard let entry = try index.file(file.path), access(tree.appendingPathComponent(file.path).path, F_OK) == 0 else { break }
            known.append(entry)
        }
        if known.count == item.files.count {
            for entry in known where entry.retired != nil { unretire(entry) }
            return
        }
        let previous = known
        var digests: [String: String] = [:]
        for file in item.files {
            var placed: (copied: Int64, size: Int64, sha256: String) = (0, 0, "")
            try replace(file.path) { temporary throws(PublishError) in placed = try StagingRun.bringIn(file.source, to: temporary) }
            report.bytesWritten += placed.copied
            digests[file.source.lastPathComponent] = placed.sha256
            let entry = PublicationRecord.Entry(path: file.path, size: placed.size, sha256: placed.sha256, stage: .media)
            set(entry, replacing: previous.first { $0.path == file.path })
            index.addPending(file.path)
            report.added.append(file.path)
        }
        try StagingRun.check(item, digests: digests)
    }

    mutating func write(_ file: GeneratedFile, owner: String) throws(PublishError) {
        owned[owner, default: []].insert(file.path)
        guard handled.insert(file.path).inserted else { return }
        let digest = FileDigest.sha256(of: file.bytes)
        let old = try index.file(file.path)
        if let old, old.sha256 == digest, old.stage == file.stage, access(tree.appendingPathComponent(file.path).path, F_OK) == 0 {
            if old.retired != nil { unretire(old) }
            return
        }
        try replace(file.path) { temporary throws(PublishError) in
            do {
                try file.bytes.write(to: temporary)
            } catch {
                throw .output(path: temporary.path, detail: "cannot write (\(error.localizedDescription))")
            }
        }
        set(PublicationRecord.Entry(path: file.path, size: Int64(file.bytes.count), sha256: digest, stage: file.stage), replacing: old)
        index.addPending(file.path)
        report.bytesWritten += Int64(file.bytes.count)
        if old == nil { report.added.append(file.path) } else { report.changed.append(file.path) }
    }

    mutating func drop(owner: String) {
        dropped.insert(owner)
    }

    // MARK: References, retirement

    /// Updates the references of every owner this publish touched; a file no owner refers to any more is retired
    /// (media and manifests, kept `keepDays` for CDNs still caching an older document) or removed. Then removes
    /// what was retired longer than `keepDays`. Returns whether a cover lost a reference (its thumbnails may go).
    mutating func finish() throws(PublishError) -> Bool {
        var released: Set<String> = []
        for owner in Set(owned.keys).union(dropped).sorted() {
            let old = try index.references(of: owner)
            let new = owned[owner] ?? []
            for path in new.subtracting(old) { index.addReference(owner: owner, path: path) }
            for path in old.subtracting(new) {
                index.removeReference(owner: owner, path: path)
                released.insert(path)
            }
        }
        try index.flush()
        let now = PublicationBuilder.timestamp(options.now)
        for path in released.sorted() {
            guard try !index.isReferenced(path), let entry = try index.file(path) else { continue }
            if entry.stage == .media || entry.stage == .manifests {
                guard entry.retired == nil else { continue }
                var retired = entry
                retired.retired = now
                set(retired, replacing: entry)
                report.retired.append(path)
            } else {
                try remove(path)
                forget(entry)
            }
        }
        let cutoff = PublicationBuilder.timestamp(options.now.addingTimeInterval(-TimeInterval(options.keepDays) * 86_400))
        for path in try index.filesRetired(atOrBefore: cutoff) {
            guard let entry = try index.file(path) else { continue }
            try remove(path)
            forget(entry)
            report.pruned.append(path)
        }
        try index.flush()
        let counts = try index.fileCounts()
        report.files = counts.files
        report.stillRetired = counts.retired - report.retired.count
        report.unchanged = counts.files - report.added.count - report.changed.count
        return released.contains { $0.hasPrefix("media/images/") }
    }

    private mutating func unretire(_ entry: PublicationRecord.Entry) {
        var live = entry
        live.retired = nil
        set(live, replacing: entry)
    }

    /// Enters a file in the index and in publish.json.
    private mutating func set(_ entry: PublicationRecord.Entry, replacing old: PublicationRecord.Entry?) {
        index.setFile(entry)
        if let old { recordRemovals.append((old.stage, old.path)) }
        recordEntries[entry.path] = entry
    }

    /// Takes a removed file out of the index and publish.json; the other tree loses it at the next catch-up.
    private mutating func forget(_ entry: PublicationRecord.Entry) {
        index.removeFile(entry.path)
        index.addPending(entry.path)
        recordRemovals.append((entry.stage, entry.path))
        recordEntries[entry.path] = nil
    }

    /// Writes publish.json into the tree: OUT_DIR's with this publish's changes spliced in, or, where that one is
    /// not in the current layout, every file from the index.
    func writeRecord(_ header: PublicationRecord) throws(PublishError) {
        let order = { (stage: SyncStage, path: String) in (PublicationRecord.order(stage), Array(path.utf8)) }
        let precedes = { (a: (Int, [UInt8]), b: (Int, [UInt8])) in a.0 != b.0 ? a.0 < b.0 : a.1.lexicographicallyPrecedes(b.1) }
        let removals = recordRemovals.sorted { precedes(order($0.stage, $0.path), order($1.stage, $1.path)) }
        let entries = recordEntries.values.sorted { precedes(order($0.stage, $0.path), order($1.stage, $1.path)) }
        try replace(PublicationRecord.fileName) { temporary throws(PublishError) in
            let previous = out.root.appendingPathComponent(PublicationRecord.fileName)
            guard try !header.write(to: temporary, splicing: previous, removing: removals, adding: entries) else { return }
            try header.write(to: temporary) { body throws(PublishError) in try index.forEachFile(body) }
        }
        index.addPending(PublicationRecord.fileName)
        try index.flush()
    }

    // MARK: Files

    /// Makes `path` in the tree with `make`, which creates a file at a temporary path beside it, then renamed over.
    private func replace(_ path: String, make: (URL) throws(PublishError) -> Void) throws(PublishError) {
        let destination = tree.appendingPathComponent(path)
        let folder = destination.deletingLastPathComponent()
        if access(folder.path, F_OK) != 0 {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .output(path: folder.path, detail: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        let temporary = folder.appendingPathComponent(".\(destination.lastPathComponent).musikk-new")
        unlink(temporary.path)
        try make(temporary)
        guard rename(temporary.path, destination.path) == 0 else {
            let detail = OutputArea.lastError
            unlink(temporary.path)
            throw .output(path: destination.path, detail: "cannot rename the new file into place (\(detail))")
        }
    }

    /// Removes `path` from the tree, and the folders it leaves empty.
    private func remove(_ path: String) throws(PublishError) {
        let target = tree.appendingPathComponent(path)
        guard unlink(target.path) == 0 || errno == ENOENT else {
            throw .output(path: target.path, detail: "cannot remove (\(OutputArea.lastError))")
        }
        var folder = target.deletingLastPathComponent()
        while folder.path.count > tree.path.count, rmdir(folder.path) == 0 {
            folder = folder.deletingLastPathComponent()
        }
    }
}
