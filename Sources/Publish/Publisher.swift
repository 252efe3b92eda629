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
        // What a killed full publish left (its staging tree, its new index) goes first, whichever path this run
        // takes: an up-to-date or change publish would otherwise leave it there.
        if !options.dryRun { _ = try out.recover() }
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
        if !options.dryRun, !options.full, let report = try publishChanges(catalogs, out: out, inputKey: inputKey, progress: progress) {
            return report
        }
        return try publishInFull(catalogs, out: out, inputKey: inputKey, progress: progress)
    }

    /// Builds the whole publication in a staging folder and swaps it in; makes a new index, and keeps the replaced
    /// publication as the tree behind OUT_DIR for the next publish.
    private func publishInFull(
        _ catalogs: [(work: WorkLayout, database: CatalogDatabase, changeKey: String)], out: OutputArea, inputKey: String,
        progress: (PublishProgress) -> Void
    ) throws(PublishError) -> PublishReport {
        let previous = try PublicationRecord.read(from: out.root)
        var shards: [(work: WorkLayout, contents: CatalogContents)] = []
        var serials: [Int64] = []
        for catalog in catalogs {
            do {
                serials.append(try catalog.database.changeSerial())
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
        // A dry run makes thumbnails it has not got, and its index, in a folder of its own, deleted afterwards.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("musikk-publish-\(UUID().uuidString)")
        if options.dryRun {
            do {
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            } catch {
                throw .output(path: scratch.path, detail: "cannot create a scratch folder for the dry run (\(error.localizedDescription))")
            }
        }
        defer { if options.dryRun { try? FileManager.default.removeItem(at: scratch) } }
        let thumbnails = options.dryRun
            ? CoverThumbnails(cache: scratch.appendingPathComponent("thumbnails"), readOnly: out.thumbnails) : CoverThumbnails(cache: out.thumbnails)
        let index = try PublicationIndex.create(at: options.dryRun ? scratch.appendingPathComponent("index.sqlite") : out.newIndex)
        let builder = PublicationBuilder(
            combined: combined, baseURL: baseURL, thumbnails: thumbnails, segmentTables: segmentTables(combined, catalogs)
        )

        // Only the header stays: the files go into the staging run's lookup table, and the record is let go.
        let previousHeader = previous.map { PublicationRecord(generator: $0.generator, catalogUpdated: $0.catalogUpdated,
                                                               keepDays: $0.keepDays, stages: $0.stages, files: []) }
        var staging = StagingRun(out: out, previous: previous, index: index, options: options)
        let publication = try builder.build(
            into: &staging, index: index, releasesWithTracks: Set(contents.tracks.compactMap(\.releaseId)),
            progress: { progress(.staging(done: $0, total: $1)) }
        )
        try documents(index, lastChange: contents.lastChange).write(.everything, into: &staging)
        try writeControlFiles(into: &staging, out: out)
        try staging.keepRetired()
        let record = PublicationRecord(
            generator: "musikk-publish \(MusikkVersion.current)",
            catalogUpdated: contents.lastChange?.finishedAt.map(PublicationBuilder.timestamp),
            keepDays: options.keepDays, stages: PublicationRecord.stages(), files: staging.sortedEntries
        )
        var report = staging.report
        report.full = true
        report.tracks = publication.published.count
        report.files = record.files.count
        report.warnings += combined.warnings + duplicates + publication.warnings
        guard !options.dryRun else { return report }
        thumbnails.prune(keeping: publication.thumbnailFolders)

        // The same record with nothing rewritten: the publication on disk is already this one.
        var keptPrevious = false
        var header = record
        header.files = []
        if header == previousHeader && staging.isUnchanged {
            try? FileManager.default.removeItem(at: out.staging)
        } else {
            try staging.write(record)
            out.flush(out.staging)
            progress(.switching)
            let (warning, kept) = try out.switchToStaging()
            if let warning { report.warnings.append(warning) }
            keptPrevious = kept
            report.switched = true
        }
        try staging.recordFiles(record.files)
        // Without the replaced publication (a first publish, or nothing replaced), the tree behind is a copy of
        // OUT_DIR in hard links.
        if !keptPrevious {
            out.removeQuietly(out.behind)
            try index.clearPending()
            try cloneBehind(out: out, index: index)
        }
        // Conflicts resolved while combining shards: while there are any, every publish is full (see publishChanges).
        var meta = [
            "state": "ready", "input": deltaKey(catalogs.map(\.work.catalog.path), out: out), "record": try recordStamp(out),
            "conflicts": String(combined.warnings.count),
        ]
        for (catalog, serial) in zip(catalogs, serials) { meta["serial:\(catalog.work.catalog.path)"] = String(serial) }
        try index.setMeta(meta)
        try index.close()
        // A journal the replaced index left (a publish killed mid-write) must not be taken for the new one's.
        for suffix in ["-journal", "-wal", "-shm"] { unlink(out.index.path + suffix) }
        guard rename(out.newIndex.path, out.index.path) == 0 else {
            throw .output(path: out.index.path, detail: "cannot put the new publication index in place (\(OutputArea.lastError))")
        }
        let retired = record.files.compactMap { $0.retired.flatMap(PublicationBuilder.parseTimestamp) }
        try recordState(inputKey: inputKey, tracks: report.tracks, files: record.files.count, retired: retired.count,
                        earliestRetirement: retired.min(), out: out)
        return report
    }

    /// Publishes what changed in the catalogs since the publish the index describes, into the tree behind OUT_DIR,
    /// and swaps it in. Nil when the index, OUT_DIR or the tree behind is not as that publish left them, the options
    /// differ, or (shards) a change touches what combining shards decides (a track id, a master's bytes or a
    /// release in more than one shard): then the publish is full.
    private func publishChanges(
        _ catalogs: [(work: WorkLayout, database: CatalogDatabase, changeKey: String)], out: OutputArea, inputKey: String,
        progress: (PublishProgress) -> Void
    ) throws(PublishError) -> PublishReport? {
        var isFolder: ObjCBool = false
        guard let index = PublicationIndex.open(at: out.index), try index.meta("state") == "ready",
              try index.meta("input") == deltaKey(catalogs.map(\.work.catalog.path), out: out),
              try index.meta("conflicts") == "0", try index.meta("record") == recordStamp(out),
              FileManager.default.fileExists(atPath: out.behind.path, isDirectory: &isFolder), isFolder.boolValue
        else { return nil }
        var serials: [Int64] = []
        for catalog in catalogs {
            guard let serial = try index.meta("serial:\(catalog.work.catalog.path)").flatMap({ Int64($0) }) else { return nil }
            serials.append(serial)
        }
        func read<T>(_ catalog: (work: WorkLayout, database: CatalogDatabase, changeKey: String), _ body: (CatalogDatabase) throws -> T) throws(PublishError) -> T {
            do {
                return try body(catalog.database)
            } catch {
                throw .catalog(path: catalog.work.catalog.path, detail: "cannot read the catalog (\(error))")
            }
        }
        // What changed, and what shows it: a release's tracks show its title and cover, an artist's tracks and
        // releases its name; release and artist documents list their tracks, and artist documents their releases.
        var changes: [CatalogChanges] = []
        for (catalog, serial) in zip(catalogs, serials) { changes.append(try read(catalog) { try $0.changes(after: serial) }) }
        let changedReleases = changes.reduce(into: Set<Int64>()) { $0.formUnion($1.releases) }
        let changedArtists = changes.reduce(into: Set<Int64>()) { $0.formUnion($1.artists) }
        var tracks = changes.reduce(into: Set<String>()) { $0.formUnion($1.tracks) }
        var relatedReleases: Set<Int64> = []
        for catalog in catalogs {
            let related = try read(catalog) { try $0.related(toReleases: changedReleases, artists: changedArtists) }
            tracks.formUnion(related.tracks)
            relatedReleases.formUnion(related.releases)
        }
        tracks.formUnion(try index.tracks(onReleases: changedReleases, creditedTo: changedArtists))
        let before = try index.releasesAndArtists(ofTracks: tracks)
        let releases = changedReleases.union(relatedReleases).union(before.releases).union(try index.releases(by: changedArtists))
        // Every artist in scope is read, so one missing from the catalogs is one deleted there.
        let artists = changedArtists.union(before.artists).union(try index.artists(ofReleases: releases))
        var shards: [(work: WorkLayout, contents: CatalogContents)] = []
        for catalog in catalogs {
            shards.append((catalog.work, try read(catalog) { try $0.contents(ofTracks: tracks, releases: releases, artists: artists) }))
        }
        let combined: CombinedContents
        if shards.count == 1 {
            combined = CombinedContents(shards[0].contents, work: shards[0].work)
        } else {
            guard let changed = try combineChanges(shards, catalogs: catalogs, releases: releases) else { return nil }
            combined = changed
        }
        let contents = combined.contents
        let releaseScope = releases.union(contents.releases.compactMap(\.id))
        let artistScope = artists.union(contents.artists.compactMap(\.id))
        var releasesWithTracks: Set<Int64> = []
        for catalog in catalogs { releasesWithTracks.formUnion(try read(catalog) { try $0.releasesWithTracks(releaseScope) }) }

        try index.setMeta(["state": "updating"])
        for id in releaseScope.subtracting(contents.releases.compactMap(\.id)) { index.removeRelease(id) }
        for id in artistScope.subtracting(contents.artists.compactMap(\.id)) { index.removeArtist(id) }
        var delta = DeltaRun(out: out, index: index, options: options)
        try delta.catchUp()
        let thumbnails = CoverThumbnails(cache: out.thumbnails)
        let builder = PublicationBuilder(
            combined: combined, baseURL: baseURL, thumbnails: thumbnails, segmentTables: segmentTables(combined, catalogs)
        )
        let publication = try builder.build(
            into: &delta, index: index, releasesWithTracks: releasesWithTracks, progress: { progress(.staging(done: $0, total: $1)) }
        )
        for id in tracks.subtracting(publication.published).sorted() {
            index.removeTrack(id)
            delta.drop(owner: "track:\(id)")
        }
        try documents(index, lastChange: contents.lastChange).write(
            CatalogDocuments.Scope(releases: releaseScope, artists: artistScope, tracks: tracks), into: &delta
        )
        try writeControlFiles(into: &delta, out: out)
        if try delta.finish() {
            thumbnails.prune(keeping: Set(try index.coverDigests().map(CoverThumbnails.folderName)))
        }
        try delta.writeRecord(PublicationRecord(
            generator: "musikk-publish \(MusikkVersion.current)",
            catalogUpdated: contents.lastChange?.finishedAt.map(PublicationBuilder.timestamp),
            keepDays: options.keepDays, stages: PublicationRecord.stages(), files: []
        ))
        out.flush(out.behind)
        progress(.switching)
        var report = delta.report
        if let warning = try out.switchToBehind() { report.warnings.append(warning) }
        report.switched = true
        report.tracks = try index.trackCount()
        report.warnings += publication.warnings
        var meta = ["state": "ready", "record": try recordStamp(out)]
        for (catalog, change) in zip(catalogs, changes) { meta["serial:\(catalog.work.catalog.path)"] = String(change.serial) }
        try index.setMeta(meta)
        let counts = try index.fileCounts()
        try recordState(
            inputKey: inputKey, tracks: report.tracks, files: counts.files, retired: counts.retired,
            earliestRetirement: try index.earliestRetirement().flatMap(PublicationBuilder.parseTimestamp), out: out
        )
        return report
    }

    private var baseURL: String { options.baseURL.map(Self.normalized) ?? "" }

    /// Reads a track's segment tables from the catalog of the shard it is in.
    private func segmentTables(
        _ combined: CombinedContents, _ catalogs: [(work: WorkLayout, database: CatalogDatabase, changeKey: String)]
    ) -> (String) throws(PublishError) -> [String: Data] {
        let databases = Dictionary(catalogs.map { ($0.work.root.path, $0.database) }) { first, _ in first }
        return { id throws(PublishError) in
            guard let work = combined.trackWork[id], let database = databases[work.root.path] else { return [:] }
            do {
                return try database.segmentTables(ofTrack: combined.shardTrackID[id] ?? id)
            } catch {
                throw .catalog(path: work.catalog.path, detail: "cannot read track \(id)'s segment tables (\(error))")
            }
        }
    }

    /// The shards' changed contents as one, or nil when a change meets anything of another shard that combining
    /// decides about: the same track id, a master with the same bytes, or a release with tracks in two shards.
    /// A release's row is taken from the shard holding its tracks, as combining all of them would.
    private func combineChanges(
        _ shards: [(work: WorkLayout, contents: CatalogContents)],
        catalogs: [(work: WorkLayout, database: CatalogDatabase, changeKey: String)], releases: Set<Int64>
    ) throws(PublishError) -> CombinedContents? {
        let ids = shards.flatMap { $0.contents.tracks.map(\.id) }
        guard Set(ids).count == ids.count else { return nil }
        let digests = Set(shards.flatMap { $0.contents.tracks.map(\.sourceSHA256) })
        let scope = releases.union(shards.flatMap { $0.contents.releases.compactMap(\.id) })
        var holders: [String: Set<String>] = [:]
        var held: [Set<Int64>] = []
        for catalog in catalogs {
            do {
                for track in try catalog.database.liveTracks(withSourceSHA256: digests) { holders[track.sha256, default: []].insert(track.id) }
                held.append(try catalog.database.releasesWithTracks(scope))
            } catch {
                throw .catalog(path: catalog.work.catalog.path, detail: "cannot read the catalog (\(error))")
            }
        }
        let heldAnywhere = held.reduce(into: Set<Int64>()) { $0.formUnion($1) }
        guard !holders.values.contains(where: { $0.count > 1 }), held.map(\.count).reduce(0, +) == heldAnywhere.count else { return nil }
        let rows = zip(shards, held).map { shard, held in
            var contents = shard.contents
            contents.releases.removeAll { release in release.id.map { heldAnywhere.contains($0) && !held.contains($0) } ?? false }
            return (shard.work, contents)
        }
        let combined = CombinedContents(shards: rows)
        return combined.warnings.isEmpty ? combined : nil
    }

    private func documents(_ index: PublicationIndex, lastChange: Run?) -> CatalogDocuments {
        CatalogDocuments(index: index, baseURL: baseURL, updated: lastChange?.finishedAt.map(PublicationBuilder.timestamp))
    }

    private func writeControlFiles(into sink: inout some PublicationSink, out: OutputArea) throws(PublishError) {
        try sink.write(GeneratedFile(path: "_headers", stage: .control, bytes: Data(ServingRules.headersFile().utf8)), owner: "control")
        try sink.write(GeneratedFile(
            path: "nginx/musikk.conf", stage: .local, bytes: Data(ServingRules.nginxSnippet(publicationPath: out.root.path).utf8)
        ), owner: "control")
    }

    /// What must be as it was for the index to describe the next publish's starting point: the version, the
    /// options, OUT_DIR's path and the catalogs'.
    private func deltaKey(_ catalogs: [String], out: OutputArea) -> String {
        PublishState.inputKey(options: options, out: out.root, catalogs: catalogs.map { ($0, "") })
    }

    /// `publish.json` in OUT_DIR as `stat` sees it: a publication replaced or restored by hand does not match.
    private func recordStamp(_ out: OutputArea) throws(PublishError) -> String {
        guard let stamp = FileStamp(path: out.root.appendingPathComponent(PublicationRecord.fileName).path) else { return "-" }
        return "\(stamp.size) \(stamp.modified) \(stamp.changed) \(stamp.inode)"
    }

    /// Makes the tree behind OUT_DIR a copy of it in hard links.
    private func cloneBehind(out: OutputArea, index: PublicationIndex) throws(PublishError) {
        var folders: Set<String> = []
        func clone(_ path: String) throws(PublishError) {
            let destination = out.behind.appendingPathComponent(path)
            let folder = destination.deletingLastPathComponent().path
            if folders.insert(folder).inserted {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw .output(path: folder, detail: "cannot create the folder (\(error.localizedDescription))")
                }
            }
            let source = out.root.appendingPathComponent(path).path
            guard link(source, destination.path) == 0 else {
                throw .output(path: destination.path, detail: "cannot hard-link \(source) (\(OutputArea.lastError))")
            }
        }
        try index.forEachFile { entry throws(PublishError) in try clone(entry.path) }
        try clone(PublicationRecord.fileName)
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

    private func recordState(
        inputKey: String, tracks: Int, files: Int, retired: Int, earliestRetirement: Date?, out: OutputArea
    ) throws(PublishError) {
        guard let stamp = FileStamp(path: out.root.appendingPathComponent(PublicationRecord.fileName).path) else { return }
        let grace = TimeInterval(options.keepDays) * 86_400
        try PublishState(
            inputKey: inputKey, record: stamp, pruneDue: earliestRetirement.map { $0.addingTimeInterval(grace) },
            tracks: tracks, files: files, retired: retired
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
