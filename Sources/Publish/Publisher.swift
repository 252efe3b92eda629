import Catalog
import Fingerprint
import Foundation
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// What a publish is asked to do.
public struct PublishOptions: Sendable {
    /// One WORK, every shard's WORK of a sharded ingest, or one folder holding the shards' WORKs.
    public var workDirectories: [URL]
    public var outputDirectory: URL
    /// Absolute URL the publication is served from; makes the JSON's URLs absolute. Nil: relative to the root.
    public var baseURL: String?
    /// Days unreferenced media and manifests stay before they are deleted.
    public var keepDays: Int
    /// Fingerprint similarity from which tracks in two shards are reported as one recording (as ingest's option).
    public var duplicateThreshold: Double
    /// Read and rebuild everything even when the catalogs are as the last publish left them.
    public var full: Bool
    /// Work out what would change, write nothing.
    public var dryRun: Bool
    /// The time retirement and pruning are judged by (tests move it forward).
    public var now: Date

    public init(
        workDirectories: [URL], outputDirectory: URL, baseURL: String? = nil, keepDays: Int = 7,
        duplicateThreshold: Double = FingerprintMatcher.defaultThreshold, full: Bool = false, dryRun: Bool = false,
        now: Date = Date()
    ) {
        self.workDirectories = workDirectories
        self.outputDirectory = outputDirectory
        self.baseURL = baseURL
        self.keepDays = keepDays
        self.duplicateThreshold = duplicateThreshold
        self.full = full
        self.dryRun = dryRun
        self.now = now
    }
}

/// Where a publish is, for a progress display.
public enum PublishProgress: Sendable {
    case reading
    /// Tracks placed so far, of all.
    case staging(done: Int, total: Int)
    case switching
}

/// Publishes a WORK_DIR into OUT_DIR: builds the whole new publication in a staging folder beside OUT_DIR (media
/// hard-linked from the previous publication or from WORK_DIR, manifests and JSON written only where their bytes
/// changed), records it in `publish.json`, then swaps it in at once.
public struct Publisher {
    public let options: PublishOptions

    public init(options: PublishOptions) {
        self.options = options
    }

    public func run(progress: (PublishProgress) -> Void = { _ in }) throws(PublishError) -> PublishReport {
        let works = try WorkSet.resolve(options.workDirectories).works
        let out = OutputArea(options.outputDirectory)
        do {
            try FileManager.default.createDirectory(
                at: out.root.deletingLastPathComponent(), withIntermediateDirectories: true
            )
        } catch {
            throw .output(path: out.root.path, detail: "cannot create its parent folder (\(error.localizedDescription))")
        }
        // OUT_DIR's lock first (a second publish fails fast), then each WORK_DIR's shared lock: ingest may not
        // change a work folder while its files are linked.
        let outLock = try Self.lock(out.lock.path, exclusive: !options.dryRun, owner: out.root.path)
        defer { outLock.release(finished: true) }
        var workLocks: [RunLock] = []
        defer { for lock in workLocks { lock.release(finished: false) } }
        for work in works { workLocks.append(try Self.lock(work.lock.path, exclusive: false, owner: work.root.path)) }

        progress(.reading)
        try out.checkOwnership()
        var catalogs: [(work: WorkLayout, database: CatalogDatabase, changeKey: String)] = []
        for work in works {
            do {
                let database = try CatalogDatabase.openReadOnly(atPath: work.catalog.path)
                catalogs.append((work, database, try database.changeKey()))
            } catch {
                throw .catalog(path: work.catalog.path, detail: "cannot read the catalog (\(error))")
            }
        }
        let inputKey = PublishState.inputKey(options: options, out: out.root, catalogs: catalogs.map { ($0.work.catalog.path, $0.changeKey) })
        if !options.full, let state = PublishState.read(out.state), state.holds(inputKey: inputKey, root: out.root, now: options.now) {
            return upToDate(state, out: out)
        }
        if !options.dryRun { try PublishState.discard(out.state) }
        let previous = try PublicationRecord.read(from: out.root)
        var shards: [(work: WorkLayout, contents: CatalogContents)] = []
        for catalog in catalogs {
            do {
                shards.append((catalog.work, try catalog.database.contents()))
            } catch {
                throw .catalog(path: catalog.work.catalog.path, detail: "cannot read the catalog (\(error))")
            }
        }
        let combined = shards.count == 1 ? CombinedContents(shards[0].contents, work: shards[0].work) : CombinedContents(shards: shards)
        let contents = combined.contents
        let duplicates = shards.count == 1 ? [] : try CrossShardDuplicates(
            shards: zip(catalogs, shards).map { catalog, shard in
                CrossShardDuplicates.ShardCatalog(
                    work: catalog.work, database: catalog.database,
                    paths: Dictionary(shard.contents.tracks.map { ($0.id, $0.sourcePath) }) { first, _ in first }
                )
            }, threshold: options.duplicateThreshold
        ).find()
        // A dry run makes thumbnails it has not got in a folder of its own, deleted afterwards.
        let thumbnailCache = options.dryRun
            ? FileManager.default.temporaryDirectory.appendingPathComponent("musikk-thumbnails-\(UUID().uuidString)") : out.thumbnails
        defer { if options.dryRun { try? FileManager.default.removeItem(at: thumbnailCache) } }
        let thumbnails = CoverThumbnails(cache: thumbnailCache, readOnly: options.dryRun ? out.thumbnails : nil)
        let databases = Dictionary(catalogs.map { ($0.work.root.path, $0.database) }) { first, _ in first }
        let builder = PublicationBuilder(
            combined: combined, baseURL: options.baseURL.map(Self.normalized) ?? "", thumbnails: thumbnails,
            segmentTables: { id throws(PublishError) in
                let work = combined.trackWork[id]
                guard let work, let database = databases[work.root.path] else { return [:] }
                do {
                    return try database.segmentTables(ofTrack: combined.shardTrackID[id] ?? id)
                } catch {
                    throw .catalog(path: work.catalog.path, detail: "cannot read track \(id)'s segment tables (\(error))")
                }
            }
        )

        if !options.dryRun { _ = try out.recover() }
        var staging = StagingRun(out: out, previous: previous, options: options)
        let publication = try builder.build(
            media: { item throws(PublishError) in try staging.place(item) },
            generated: { file throws(PublishError) in try staging.write(file) },
            progress: { progress(.staging(done: $0, total: $1)) }
        )
        try staging.write(GeneratedFile(path: "_headers", stage: .control, bytes: Data(ServingRules.headersFile().utf8)))
        try staging.write(GeneratedFile(
            path: "nginx/musikk.conf", stage: .local, bytes: Data(ServingRules.nginxSnippet(publicationPath: out.root.path).utf8)
        ))
        try staging.keepRetired()
        let record = PublicationRecord(
            generator: "musikk-publish \(MusikkVersion.current)",
            catalogUpdated: contents.lastChange?.finishedAt.map(PublicationBuilder.timestamp),
            keepDays: options.keepDays, stages: PublicationRecord.stages(), files: staging.sortedEntries
        )
        var report = staging.report
        report.tracks = publication.trackCount
        report.files = record.files.count
        report.warnings += combined.warnings + duplicates + publication.warnings
        guard !options.dryRun else { return report }
        thumbnails.prune(keeping: publication.thumbnailFolders)

        // The same record with nothing rewritten: the publication on disk is already this one.
        if record == previous && report.added.isEmpty && report.changed.isEmpty {
            try? FileManager.default.removeItem(at: out.staging)
        } else {
            try staging.write(record)
            out.flush()
            progress(.switching)
            if let warning = try out.switchToStaging() { report.warnings.append(warning) }
            report.switched = true
        }
        try recordState(of: record, inputKey: inputKey, tracks: report.tracks, out: out)
        return report
    }

    /// The report of a publish that found the catalogs and options as the last publish left them.
    private func upToDate(_ state: PublishState, out: OutputArea) -> PublishReport {
        var report = PublishReport(outputDirectory: out.root.path, dryRun: options.dryRun)
        report.upToDate = true
        report.tracks = state.tracks
        report.files = state.files
        report.unchanged = state.files - state.retired
        report.stillRetired = state.retired
        return report
    }

    private func recordState(of record: PublicationRecord, inputKey: String, tracks: Int, out: OutputArea) throws(PublishError) {
        guard let stamp = FileStamp(path: out.root.appendingPathComponent(PublicationRecord.fileName).path) else { return }
        let grace = TimeInterval(options.keepDays) * 86_400
        let retired = record.files.compactMap { $0.retired.flatMap(PublicationBuilder.parseTimestamp) }
        try PublishState(
            inputKey: inputKey, record: stamp, pruneDue: retired.min().map { $0.addingTimeInterval(grace) },
            tracks: tracks, files: record.files.count, retired: retired.count
        ).write(out.state)
    }

    /// A base URL always ends in `/`, so paths append to it.
    static func normalized(_ base: String) -> String { base.hasSuffix("/") ? base : base + "/" }

    private static func lock(_ path: String, exclusive: Bool, owner: String) throws(PublishError) -> RunLock {
        do {
            return try RunLock(path: path, exclusive: exclusive, command: "musikk-publish")
        } catch {
            switch error {
            case .busy(let holder):
                throw .busy(path: owner, holder: holder?.description ?? "another musikk run")
            case .unavailable(let path, let detail):
                throw .output(path: path, detail: "cannot open the lock file (\(detail))")
            }
        }
    }
}
