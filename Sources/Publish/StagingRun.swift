import Catalog
import Foundation
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// Builds one publication in the staging folder, reusing what the previous publication already has: a file whose
/// bytes are unchanged is hard-linked from OUT_DIR (same inode, same modification time, so sync tools skip it);
/// new media are hard-linked from WORK_DIR (copied across filesystems) and checked against their digests.
/// In a dry run it only works out what would happen.
struct StagingRun: PublicationSink {
    let out: OutputArea
    let options: PublishOptions
    /// The new publication's index: every reference is entered as it is made.
    let index: PublicationIndex
    private let previous: [String: PublicationRecord.Entry]
    private var entries: [String: PublicationRecord.Entry] = [:]
    private var createdFolders: Set<String> = []
    private(set) var report: PublishReport

    init(out: OutputArea, previous: PublicationRecord?, index: PublicationIndex, options: PublishOptions) {
        self.out = out
        self.options = options
        self.index = index
        self.previous = Dictionary((previous?.files ?? []).map { ($0.path, $0) }) { first, _ in first }
        report = PublishReport(outputDirectory: out.root.path, dryRun: options.dryRun)
    }

    /// Whether the new publication is the previous one: the same files, none added, rewritten, retired or pruned.
    var isUnchanged: Bool {
        report.added.isEmpty && report.changed.isEmpty && report.retired.isEmpty && report.pruned.isEmpty
            && entries.count == previous.count
    }

    /// Every file of the new publication, in upload order: by stage, then path as bytes (as the index orders them).
    var sortedEntries: [PublicationRecord.Entry] {
        entries.values.sorted { a, b in
            let (first, second) = (PublicationRecord.order(a.stage), PublicationRecord.order(b.stage))
            return first != second ? first < second : a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
        }
    }

    // MARK: Media

    mutating func place(_ item: MediaItem, owner: String) throws(PublishError) {
        for file in item.files { index.addReference(owner: owner, path: file.path) }
        guard item.files.contains(where: { entries[$0.path] == nil }) else { return }
        let reusable = item.files.allSatisfy { file in
            previous[file.path] != nil && exists(file.path)
        }
        guard reusable else { return try stageFromWork(item) }
        for file in item.files {
            guard let old = previous[file.path] else { continue }
            if !options.dryRun { try linkFromPublication(file.path) }
            entries[file.path] = PublicationRecord.Entry(path: file.path, size: old.size, sha256: old.sha256, stage: .media)
            report.unchanged += 1
        }
    }

    private mutating func stageFromWork(_ item: MediaItem) throws(PublishError) {
        var digests: [String: String] = [:]
        for file in item.files {
            let (size, digest): (Int64, String)
            if options.dryRun {
                (size, digest) = (Self.size(of: file.source), item.isFolder ? "" : item.digest)
            } else {
                let placed = try Self.bringIn(file.source, to: try prepare(file.path))
                report.bytesWritten += placed.copied
                (size, digest) = (placed.size, placed.sha256)
            }
            digests[file.source.lastPathComponent] = digest
            entries[file.path] = PublicationRecord.Entry(path: file.path, size: size, sha256: digest, stage: .media)
            report.added.append(file.path)
        }
        guard !options.dryRun else { return }
        try Self.check(item, digests: digests)
    }

    /// Hard-links (or copies) a media file from WORK_DIR to `destination`: the bytes copied, its size and SHA-256.
    static func bringIn(_ source: URL, to destination: URL) throws(PublishError) -> (copied: Int64, size: Int64, sha256: String) {
        let copied = try linkOrCopy(source, to: destination)
        do {
            return (copied, size(of: destination), try FileDigest.sha256(of: destination))
        } catch {
            throw .output(path: destination.path, detail: error.detail)
        }
    }

    /// Checks a media item brought in against the catalog's digest; `digests` are its files' by source file name.
    static func check(_ item: MediaItem, digests: [String: String]) throws(PublishError) {
        let actual = item.isFolder ? FileDigest.sha256(ofFolder: digests) : digests.values.first ?? ""
        guard actual == item.digest else {
            throw .workFile(path: item.files[0].source.path, detail: "its bytes do not match the catalog's SHA-256 "
                + "(\(item.digest.prefix(12))…): it changed after musikk-ingest wrote it")
        }
    }

    // MARK: Generated files

    mutating func write(_ file: GeneratedFile, owner: String) throws(PublishError) {
        index.addReference(owner: owner, path: file.path)
        let digest = FileDigest.sha256(of: file.bytes)
        entries[file.path] = PublicationRecord.Entry(path: file.path, size: Int64(file.bytes.count), sha256: digest, stage: file.stage)
        if let old = previous[file.path], old.sha256 == digest, exists(file.path) {
            if !options.dryRun { try linkFromPublication(file.path) }
            report.unchanged += 1
            return
        }
        if previous[file.path] != nil { report.changed.append(file.path) } else { report.added.append(file.path) }
        guard !options.dryRun else { return }
        try writeBytes(file.bytes, to: prepare(file.path))
        report.bytesWritten += Int64(file.bytes.count)
    }

    /// A full publish starts from an empty index: there is nothing to drop.
    func drop(owner: String) {}

    /// Writes publish.json, the last file of the staging folder.
    func write(_ record: PublicationRecord) throws(PublishError) {
        try record.write(to: out.staging.appendingPathComponent(PublicationRecord.fileName))
    }

    /// Enters `files` (every file of the new publication, as ``sortedEntries`` gave them for the record) in the
    /// index, and as pending (see ``DeltaRun/catchUp()``) each path whose bytes differ between the previous
    /// publication and this one.
    func recordFiles(_ files: [PublicationRecord.Entry]) throws(PublishError) {
        for entry in files {
            index.setFile(entry)
            if previous[entry.path]?.sha256 != entry.sha256 { index.addPending(entry.path) }
            try index.flushIfLarge()
        }
        for path in previous.keys where entries[path] == nil { index.addPending(path) }
        index.addPending(PublicationRecord.fileName)
        try index.flush()
    }

    // MARK: Retired files

    /// Media and manifests the new publication no longer refers to stay, marked retired, until `keepDays` have
    /// passed since they were first found unreferenced; then they are left out (deleted with the old tree).
    mutating func keepRetired() throws(PublishError) {
        let grace = TimeInterval(options.keepDays) * 86_400
        for old in previous.values.sorted(by: { $0.path < $1.path })
        where entries[old.path] == nil && (old.stage == .media || old.stage == .manifests) {
            let since = old.retired.flatMap(PublicationBuilder.parseTimestamp) ?? options.now
            guard options.now.timeIntervalSince(since) < grace, exists(old.path) else {
                report.pruned.append(old.path)
                continue
            }
            if !options.dryRun { try linkFromPublication(old.path) }
            var entry = old
            entry.retired = PublicationBuilder.timestamp(since)
            entries[old.path] = entry
            if old.retired == nil { report.retired.append(old.path) } else { report.stillRetired += 1 }
        }
    }

    // MARK: Files

    private func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: out.root.appendingPathComponent(path).path)
    }

    /// The staging path for `path`, its folders created.
    private mutating func prepare(_ path: String) throws(PublishError) -> URL {
        let destination = out.staging.appendingPathComponent(path)
        let folder = destination.deletingLastPathComponent()
        if !createdFolders.contains(folder.path) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .output(path: folder.path, detail: "cannot create the folder (\(error.localizedDescription))")
            }
            createdFolders.insert(folder.path)
        }
        return destination
    }

    private mutating func linkFromPublication(_ path: String) throws(PublishError) {
        let source = out.root.appendingPathComponent(path)
        let destination = try prepare(path)
        guard link(source.path, destination.path) == 0 else {
            throw .output(path: destination.path, detail: "cannot hard-link \(source.path) (\(OutputArea.lastError))")
        }
    }

    /// Hard-links `source` to `destination`, or copies it where a link cannot be made (another filesystem).
    /// Returns the bytes copied (0 for a link).
    private static func linkOrCopy(_ source: URL, to destination: URL) throws(PublishError) -> Int64 {
        if link(source.path, destination.path) == 0 { return 0 }
        let reason = errno
        guard reason == EXDEV || reason == EPERM || reason == EMLINK else {
            if reason == ENOENT, !FileManager.default.fileExists(atPath: source.path) {
                throw .workFile(path: source.path, detail: "missing, though the catalog lists it")
            }
            throw .output(path: destination.path, detail: "cannot link \(source.path) (\(String(cString: strerror(reason))))")
        }
        do {
            try FileManager.default.copyItem(at: source, to: destination)
        } catch {
            throw .output(path: destination.path, detail: "cannot copy \(source.path) (\(error.localizedDescription))")
        }
        return size(of: destination)
    }

    private func writeBytes(_ bytes: Data, to url: URL) throws(PublishError) {
        do {
            try bytes.write(to: url)
        } catch {
            throw .output(path: url.path, detail: "cannot write (\(error.localizedDescription))")
        }
    }

    private static func size(of url: URL) -> Int64 {
        var status = stat()
        return stat(url.path, &status) == 0 ? Int64(status.st_size) : 0
    }

}
