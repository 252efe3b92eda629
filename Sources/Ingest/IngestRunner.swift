import Catalog
import Crypto
import Fingerprint
import Foundation
import Loudness
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import Synchronization
import WorkArea

/// What a run is asked to do.
public struct IngestOptions: Sendable {
    public var mastersDirectory: URL
    public var workDirectory: URL
    public var profile: Profile
    /// Masters ingested at once.
    public var jobs: Int
    /// Only this shard's masters (`--shard I/N`); nil for all.
    public var shard: Shard?
    /// The key-encryption key of the protected tier (`--key-file`); nil for `WORK/keys/kek`, made on first use.
    public var keyFile: URL?
    /// The protected tier as the run applies it, resolved once the work folder is locked.
    var protection: ProtectionPlan?

    /// The protected tier if it covers the master at `path` (relative to MASTERS), else nil.
    func protection(ofMasterAt path: String) -> ProtectionPlan? {
        protection.flatMap { $0.settings.covers(path) ? $0 : nil }
    }

    public init(
        mastersDirectory: URL, workDirectory: URL, profile: Profile = Profile(), jobs: Int, shard: Shard? = nil,
        keyFile: URL? = nil
    ) {
        self.mastersDirectory = mastersDirectory
        self.workDirectory = workDirectory
        self.profile = profile
        self.jobs = max(1, jobs)
        self.shard = shard
        self.keyFile = keyFile
    }
}

/// Progress of a run, reported from worker threads as it happens.
public enum IngestEvent: Sendable {
    /// The lock of a run that did not finish was taken over, and `leftovers` half-written outputs cleaned up.
    case recovered(interruptedRun: String?, leftovers: Int)
    /// The masters folder was compared with the catalog: `total` masters need decoding, the rest do not.
    case scanned(total: Int, unchanged: Int)
    /// A master is done, either way; `audioSeconds` is how much audio it had (0 when rejected).
    case finished(FileReport, audioSeconds: Double)
}

/// Errors that stop a whole run (exit code 1), as opposed to rejections of single masters.
public enum IngestError: Error, Sendable, CustomStringConvertible {
    case mastersDirectory(path: String, detail: String)
    case workDirectory(path: String, detail: String)
    case catalog(path: String, detail: String)
    /// Another run holds the work folder's lock.
    case busy(path: String, holder: String)
    /// WORK holds another shard (or a whole ingest) than the run was asked for.
    case shard(path: String, detail: String)
    /// Writing an output failed (full disk, lost permissions); the description names the file and what to do.
    case output(description: String)
    /// The protected tier's key file is unreadable, malformed or cannot be created.
    case keyFile(description: String)

    public var description: String {
        switch self {
        case let .mastersDirectory(path, detail):
            return "\(path): cannot read the masters folder (\(detail)); check the path and its permissions"
        case let .workDirectory(path, detail):
            return "\(path): cannot use the work folder (\(detail)); check free space and permissions"
        case let .catalog(path, detail):
            return "\(path): catalog error (\(detail)); check free space, or move a damaged catalog aside"
        case let .output(description), let .keyFile(description):
            return description
        case let .shard(path, detail):
            return "\(path): \(detail); give each shard its own work folder, and always the same --shard for it"
        case let .busy(path, holder):
            return "\(path): the work folder is in use by \(holder); wait for that run to finish "
                + "(its lock is \(path)/musikk.lock, released when the process ends)"
        }
    }

    /// The process exit status for the error: 4 for a busy work folder, 2 (usage) for the wrong shard, 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .busy: 4
        case .shard: 2
        default: 1
        }
    }
}

/// Ingests every master under a folder into a work folder: media, manifests, covers and the catalog.
/// A run first compares the folder with the catalog and then does only what changed (see ``RunPlanner``).
/// A rejected master costs the others nothing; only problems with the folders or the catalog stop the run.
public struct IngestRunner: Sendable {
    public let options: IngestOptions

    public init(options: IngestOptions) {
        self.options = options
    }

    /// Runs to the end and returns the report, files sorted by path. Holds the work folder's lock throughout.
    public func run(progress: @escaping @Sendable (IngestEvent) -> Void = { _ in }) throws(IngestError) -> IngestReport {
        var options = self.options
        let layout = WorkLayout(root: options.workDirectory)
        do {
            try layout.create()
        } catch {
            throw .workDirectory(path: layout.root.path, detail: error.localizedDescription)
        }
        let lock = try Self.lock(layout, exclusive: true, command: "musikk-ingest")
        var finished = false
        defer { lock.release(finished: finished) }
        do {
            let leftovers = try layout.recover()
            if lock.interrupted != nil || leftovers > 0 {
                progress(.recovered(interruptedRun: lock.interrupted?.description, leftovers: leftovers))
            }
        } catch {
            throw .workDirectory(path: layout.root.path, detail: "cleaning up after an interrupted run: \(error.localizedDescription)")
        }
        let catalog: CatalogDatabase
        do {
            catalog = try CatalogDatabase.open(atPath: layout.catalog.path)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        if let protection = options.profile.protection {
            options.protection = try ProtectionPlan.load(protection, keyFile: options.keyFile, work: layout.root, create: true)
        }
        let (snapshot, scan) = try snapshotAndScan(catalog, layout: layout)
        if try checkShard(layout, catalogIsEmpty: snapshot.tracks.isEmpty), let shard = options.shard {
            do {
                try layout.record(shard)
            } catch {
                throw .workDirectory(path: layout.shardFile.path, detail: "cannot record the shard: \(error.localizedDescription)")
            }
        }
        try recordMissingDigests(catalog: catalog, layout: layout)
        let planner = try planner(
            snapshot: snapshot, candidates: scan.get(), catalog: catalog, layout: layout, protection: options.protection
        )
        let plan = try planner.plan()
        let runID: Int64
        do {
            try catalog.forgetMasters(atPaths: planner.vanishedMasters())
            try catalog.recordWorkChecks(plan.compactMap { entry in
                entry.trackID.flatMap { id in entry.checked.map { (id, $0) } }
            })
            runID = try catalog.startRun(toolVersion: MusikkVersion.current, mastersDirectory: options.mastersDirectory.path)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        let worker = MasterWorker(
            options: options, layout: layout, catalog: catalog, runID: runID,
            cpuTokens: DispatchSemaphore(value: ProcessInfo.processInfo.activeProcessorCount)
        )
        let builds = plan.compactMap { entry -> (PlannedMaster, PipelineWork)? in
            if case let .build(work) = entry.action { return (entry, work) }
            return nil
        }
        progress(.scanned(total: builds.count, unchanged: plan.count - builds.count))

        // Removals first (a build's duplicate lookup must not match a track that is gone), then the catalog-only
        // outcomes in path order, then the builds.
        var reports: [FileReport] = []
        reports.reserveCapacity(plan.count)
        let removals = plan.indices.filter { if case .remove = plan[$0].action { true } else { false } }
        let catalogOnly = plan.indices.filter { switch plan[$0].action { case .remove, .build: false; default: true } }
        for index in removals + catalogOnly {
            let report = try worker.apply(plan[index])
            reports.append(report)
            if report.status != .unchanged { progress(.finished(report, audioSeconds: 0)) }
        }
        reports += try build(builds, worker: worker, progress: progress)
        reports.sort { ($0.path, $0.status.rawValue) < ($1.path, $1.status.rawValue) }

        do {
            // Album gain covers the release's tracks as the catalog holds them now that every master is recorded.
            let albums = try catalog.albumGains(ofTracks: reports.compactMap { $0.loudness == nil ? nil : $0.trackID })
            for index in reports.indices {
                guard let id = reports[index].trackID, let album = albums[id] else { continue }
                reports[index].loudness?.albumGainDB = album.gainDB.map(MasterWorker.rounded)
                reports[index].loudness?.albumPeak = album.peak.map(MasterWorker.rounded)
            }
            let summary = IngestReport.Summary(reports)
            try catalog.finishRun(id: runID, counts: RunCounts(
                ingested: summary.ingested, updated: summary.updated, unchanged: summary.unchanged,
                removed: summary.removed, rejected: summary.rejected, skipped: summary.skipped
            ))
            finished = true
            return IngestReport(tool: "musikk-ingest", version: MusikkVersion.current, summary: summary, files: reports)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    /// Gives renditions written before the catalog kept digests theirs, once: musikk-publish names media by them.
    /// A rendition whose file is gone is left to the planner, which rebuilds it.
    private func recordMissingDigests(catalog: CatalogDatabase, layout: WorkLayout) throws(IngestError) {
        let undigested: [Rendition]
        do {
            undigested = try catalog.renditionsWithoutDigest()
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        var digests: [Int64: String] = [:]
        for rendition in undigested {
            guard let id = rendition.id,
                  let digest = try? FileDigest.sha256(ofItemAt: layout.root.appendingPathComponent(rendition.path)) else {
                continue
            }
            digests[id] = digest
        }
        guard !digests.isEmpty else { return }
        do {
            try catalog.recordDigests(digests)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    /// Takes the work folder's lock, or says who holds it.
    private static func lock(_ layout: WorkLayout, exclusive: Bool, command: String) throws(IngestError) -> RunLock {
        do {
            return try RunLock(path: layout.lock.path, exclusive: exclusive, command: command)
        } catch {
            switch error {
            case .busy(let holder):
                throw .busy(path: layout.root.path, holder: holder?.description ?? "another musikk run")
            case .unavailable(let path, let detail):
                throw .workDirectory(path: path, detail: "cannot open the lock file: \(detail)")
            }
        }
    }

    /// What a run would do, from the catalog as it is; reads masters (to hash them) but writes nothing. Waits for
    /// no one: a run in progress makes it fail with ``IngestError/busy(path:holder:)``.
    public func dryRun() throws(IngestError) -> DryRunReport {
        let layout = WorkLayout(root: options.workDirectory)
        var catalog: CatalogDatabase?
        var lock: RunLock?
        defer { lock?.release(finished: false) }
        if FileManager.default.fileExists(atPath: layout.lock.path) {
            lock = try Self.lock(layout, exclusive: false, command: "musikk-ingest --dry-run")
        }
        if FileManager.default.fileExists(atPath: layout.catalog.path) {
            do {
                catalog = try CatalogDatabase.openReadOnly(atPath: layout.catalog.path)
            } catch {
                throw .catalog(path: layout.catalog.path, detail: "\(error)")
            }
        }
        // A dry run makes no key file: without one, it plans as a first protected run would (a new key).
        let protection = try options.profile.protection.map { settings throws(IngestError) in
            try ProtectionPlan.load(settings, keyFile: options.keyFile, work: layout.root, create: false)
        }
        let (snapshot, scan) = try snapshotAndScan(catalog, layout: layout)
        _ = try checkShard(layout, catalogIsEmpty: snapshot.tracks.isEmpty)
        let plan = try planner(
            snapshot: snapshot, candidates: scan.get(), catalog: catalog, layout: layout, protection: protection
        ).plan()
        let files = plan.map { entry in
            var reason: String?
            switch entry.action {
            case let .reject(rejection, _): reason = rejection.description
            case let .rejectAgain(rejected): reason = rejected.reason
            default: break
            }
            let action = entry.summaryAction
            return DryRunReport.Entry(
                path: entry.path, action: action, trackID: entry.trackID, previousPath: entry.previousPath,
                changes: ["changed", "moved"].contains(action) ? entry.changes.sorted() : nil, reason: reason
            )
        }.sorted { $0.path < $1.path }
        var summary = Dictionary(uniqueKeysWithValues: DryRunReport.actions.map { ($0, 0) })
        for file in files { summary[file.action, default: 0] += 1 }
        return DryRunReport(tool: "musikk-ingest", version: MusikkVersion.current, summary: summary, files: files)
    }

    /// Checks that WORK holds the shard asked for (or, without --shard, a whole ingest). A WORK holds one shard
    /// for good: run with another, it would take every master of its releases for removed. Returns whether the
    /// shard is yet to be recorded (a new WORK).
    private func checkShard(_ layout: WorkLayout, catalogIsEmpty: Bool) throws(IngestError) -> Bool {
        let recorded: Shard?
        do {
            recorded = try layout.recordedShard()
        } catch {
            throw .workDirectory(path: layout.shardFile.path, detail: "not a shard record (\(error)); move it aside if this WORK is not a shard")
        }
        switch (recorded, options.shard) {
        case (nil, nil):
            return false
        case (nil, .some(let asked)):
            guard catalogIsEmpty else {
                throw .shard(path: layout.root.path, detail: "this work folder holds a whole ingest, not shard \(asked)")
            }
            return true
        case (.some(let held), nil):
            throw .shard(path: layout.root.path, detail: "this work folder holds shard \(held); run with --shard \(held)")
        case (.some(let held), .some(let asked)):
            guard held == asked else {
                throw .shard(path: layout.root.path, detail: "this work folder holds shard \(held), not \(asked)")
            }
            return false
        }
    }

    /// Reads the catalog's snapshot (none without a catalog) and walks MASTERS_DIR side by side: one waits on
    /// SQLite, the other on directory entries and stats, and a 100,000-master rescan spends a third of its time
    /// in each. The walk's outcome comes back as it is, so a catalog error is reported before a shard mismatch and
    /// that before a missing MASTERS_DIR.
    private func snapshotAndScan(
        _ catalog: CatalogDatabase?, layout: WorkLayout
    ) throws(IngestError) -> (CatalogSnapshot, Result<[MasterCandidate], IngestError>) {
        let snapshot = Mutex<Result<CatalogSnapshot, IngestError>>(.success(.empty))
        let scan = Mutex<Result<[MasterCandidate], IngestError>>(.success([]))
        let (masters, shard) = (options.mastersDirectory, options.shard)
        takeInTurn(2, workers: 2) { job in
            if job == 0 {
                guard let catalog else { return }
                let read = Result { () throws(IngestError) in
                    do {
                        return try catalog.snapshot()
                    } catch {
                        throw .catalog(path: layout.catalog.path, detail: "\(error)")
                    }
                }
                snapshot.withLock { $0 = read }
            } else {
                let walk = Result { () throws(IngestError) in
                    do {
                        return try MasterScanner.scan(masters, excluding: layout.root) { shard?.contains($0) ?? true }
                    } catch {
                        throw .mastersDirectory(path: masters.path, detail: error.localizedDescription)
                    }
                }
                scan.withLock { $0 = walk }
            }
        }
        return (try snapshot.withLock { $0 }.get(), scan.withLock { $0 })
    }

    private func planner(
        snapshot: CatalogSnapshot, candidates: [MasterCandidate], catalog: CatalogDatabase?, layout: WorkLayout,
        protection: ProtectionPlan?
    ) -> RunPlanner {
        RunPlanner(
            candidates: candidates, snapshot: snapshot, profile: options.profile, protection: protection, layout: layout,
            jobs: options.jobs,
            recordedOutputs: { id throws(IngestError) in
                do {
                    return try catalog?.outputs(ofTrack: id) ?? ([], nil)
                } catch {
                    throw .catalog(path: layout.catalog.path, detail: "reading track \(id)'s renditions: \(error)")
                }
            }
        )
    }

    /// Builds `jobs` masters at a time, largest first, and records them in that order.
    private func build(
        _ builds: [(PlannedMaster, PipelineWork)], worker: MasterWorker,
        progress: @escaping @Sendable (IngestEvent) -> Void
    ) throws(IngestError) -> [FileReport] {
        let shared = Mutex<(reports: [FileReport], fatal: IngestError?)>(([], nil))
        let turns = CommitTurns()
        // Largest first, so the master left running alone at the end is a short one (longest-processing-time-first
        // scheduling); ties in path order. Commits follow this order too, whatever the order the builds end in.
        let order = builds.indices.sorted {
            let (first, second) = (builds[$0].0, builds[$1].0)
            return (first.candidate?.size ?? 0, second.path) > (second.candidate?.size ?? 0, first.path)
        }
        takeInTurn(order.count, workers: options.jobs, until: { shared.withLock { $0.fatal != nil } }) { turn in
            let index = order[turn]
            let prepared: PreparedMaster
            do throws(IngestError) {
                prepared = try worker.prepare(builds[index].0, work: builds[index].1)
            } catch {
                shared.withLock { if $0.fatal == nil { $0.fatal = error } }
                turns.submit(turn) {}
                return
            }
            // Recorded in schedule order, by whichever worker completes the turn that was waited for.
            turns.submit(turn) {
                guard shared.withLock({ $0.fatal == nil }) else {
                    worker.discard(prepared)
                    return
                }
                do throws(IngestError) {
                    let (report, seconds) = try worker.commit(prepared)
                    shared.withLock { $0.reports.append(report) }
                    progress(.finished(report, audioSeconds: seconds))
                } catch {
                    worker.discard(prepared)
                    shared.withLock { if $0.fatal == nil { $0.fatal = error } }
                }
            }
        }
        let state = shared.withLock { $0 }
        if let fatal = state.fatal { throw fatal }
        return state.reports
    }
}

/// Records masters in the order they were scheduled: each master's commit (duplicate lookup, placement, catalog
/// rows) runs after every earlier one's, so which of two duplicates counts as the original (the one scheduled
/// first: the larger file) never depends on which finished encoding first. No worker waits: a commit that is not
/// yet due is queued and run by the worker that completes the turn before it.
final class CommitTurns: Sendable {
    private let state = Mutex<(next: Int, pending: [Int: @Sendable () -> Void], draining: Bool)>((0, [:], false))

    /// Hands over turn `turn`'s commit; runs it, and any later ones now due, unless another thread is doing so.
    func submit(_ turn: Int, _ work: @escaping @Sendable () -> Void) {
        let drains = state.withLock { state in
            state.pending[turn] = work
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        guard drains else { return }
        // The check for the next due commit and the end of draining are one step, so none is left behind.
        while let due = state.withLock({ state -> (@Sendable () -> Void)? in
            guard let due = state.pending.removeValue(forKey: state.next) else {
                state.draining = false
                return nil
            }
            return due
        }) {
            due()
            state.withLock { $0.next += 1 }
        }
    }
}

