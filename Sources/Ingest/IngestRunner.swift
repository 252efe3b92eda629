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

/// The version `musikk-ingest --version` prints and the report and catalog record.
public enum MusikkVersion {
    public static let current = "0.1.0"
}

/// What a run is asked to do.
public struct IngestOptions: Sendable {
    public var mastersDirectory: URL
    public var workDirectory: URL
    public var profile: Profile
    /// Masters ingested at once.
    public var jobs: Int

    public init(mastersDirectory: URL, workDirectory: URL, profile: Profile = Profile(), jobs: Int) {
        self.mastersDirectory = mastersDirectory
        self.workDirectory = workDirectory
        self.profile = profile
        self.jobs = max(1, jobs)
    }
}

/// Progress of a run, reported from worker threads as it happens.
public enum IngestEvent: Sendable {
    /// Scanning found `total` candidates.
    case scanned(total: Int)
    /// A master is done, either way; `audioSeconds` is how much audio it had (0 when rejected).
    case finished(FileReport, audioSeconds: Double)
}

/// Errors that stop a whole run (exit code 1), as opposed to rejections of single masters.
public enum IngestError: Error, Sendable, CustomStringConvertible {
    case mastersDirectory(path: String, detail: String)
    case workDirectory(path: String, detail: String)
    case catalog(path: String, detail: String)

    public var description: String {
        switch self {
        case let .mastersDirectory(path, detail):
            return "\(path): cannot read the masters folder (\(detail)); check the path and its permissions"
        case let .workDirectory(path, detail):
            return "\(path): cannot use the work folder (\(detail)); check free space and permissions"
        case let .catalog(path, detail):
            return "\(path): catalog error (\(detail)); check free space, or move a damaged catalog aside"
        }
    }
}

/// Ingests every master under a folder into a work folder: media, manifests, covers and the catalog.
/// A rejected master costs the others nothing; only problems with the folders or the catalog stop the run.
public struct IngestRunner: Sendable {
    public let options: IngestOptions

    public init(options: IngestOptions) {
        self.options = options
    }

    /// Runs to the end and returns the report, files sorted by path.
    public func run(progress: @escaping @Sendable (IngestEvent) -> Void = { _ in }) throws(IngestError) -> IngestReport {
        let work = options.workDirectory
        let candidates: [MasterCandidate]
        do {
            candidates = try MasterScanner.scan(options.mastersDirectory, excluding: work)
        } catch {
            throw .mastersDirectory(path: options.mastersDirectory.path, detail: error.localizedDescription)
        }
        let layout = WorkLayout(root: work)
        do {
            try layout.create()
        } catch {
            throw .workDirectory(path: work.path, detail: error.localizedDescription)
        }
        let catalog: CatalogDatabase
        let runID: Int64
        do {
            catalog = try CatalogDatabase.open(atPath: layout.catalog.path)
            runID = try catalog.startRun(toolVersion: MusikkVersion.current, mastersDirectory: options.mastersDirectory.path)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        progress(.scanned(total: candidates.count))

        let shared = Mutex<(next: Int, reports: [FileReport], claimedIDs: [String: String], fatal: IngestError?)>(
            (0, [], [:], nil)
        )
        let worker = MasterWorker(
            options: options, layout: layout, catalog: catalog, runID: runID,
            cpuTokens: DispatchSemaphore(value: ProcessInfo.processInfo.activeProcessorCount)
        )
        let turns = CommitTurns()
        // Largest first, so the master left running alone at the end is a short one (longest-processing-time-first
        // scheduling); ties in path order. The report is sorted by path whatever the order of work.
        let order = candidates.indices.sorted {
            (candidates[$0].size, candidates[$1].relativePath) > (candidates[$1].size, candidates[$0].relativePath)
        }
        let workers = (0..<min(options.jobs, max(candidates.count, 1))).map { _ in
            { @Sendable in
                while true {
                    let claimed = shared.withLock { state -> (turn: Int, index: Int)? in
                        guard state.fatal == nil, state.next < order.count else { return nil }
                        defer { state.next += 1 }
                        return (state.next, order[state.next])
                    }
                    guard let (turn, index) = claimed else { return }
                    let prepared: PreparedMaster
                    do throws(IngestError) {
                        prepared = try worker.prepare(candidates[index]) { id, path in
                            shared.withLock { state in
                                if let other = state.claimedIDs[id] { return other }
                                state.claimedIDs[id] = path
                                return nil
                            }
                        }
                    } catch {
                        shared.withLock { if $0.fatal == nil { $0.fatal = error } }
                        turns.submit(turn) {}
                        continue
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
            }
        }
        startThreads(workers).wait()

        let state = shared.withLock { $0 }
        if let fatal = state.fatal { throw fatal }
        var reports = state.reports.sorted { $0.path < $1.path }
        do {
            // Album gain covers the release's tracks as the catalog holds them now that every master is recorded.
            let albums = try catalog.albumGains(ofTracks: reports.compactMap { $0.loudness == nil ? nil : $0.trackID })
            for index in reports.indices {
                guard let id = reports[index].trackID, let album = albums[id] else { continue }
                reports[index].loudness?.albumGainDB = album.gainDB.map(MasterWorker.rounded)
                reports[index].loudness?.albumPeak = album.peak.map(MasterWorker.rounded)
            }
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        let summary = IngestReport.Summary(
            ingested: reports.filter { $0.status == .ingested }.count,
            rejected: reports.filter { $0.status == .rejected }.count,
            skipped: reports.filter { $0.status == .skipped }.count
        )
        do {
            try catalog.finishRun(id: runID, ingested: summary.ingested, rejected: summary.rejected)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
        return IngestReport(tool: "musikk-ingest", version: MusikkVersion.current, summary: summary, files: reports)
    }
}

/// Where things go inside WORK_DIR.
struct WorkLayout: Sendable {
    let root: URL

    var catalog: URL { root.appendingPathComponent("catalog.sqlite") }
    var tracks: URL { root.appendingPathComponent("tracks", isDirectory: true) }
    var covers: URL { root.appendingPathComponent("covers", isDirectory: true) }

    /// A finished track's directory.
    func track(_ id: String) -> URL { tracks.appendingPathComponent(id, isDirectory: true) }
    /// Where a track is built before it is renamed into place.
    func partialTrack(_ id: String) -> URL { tracks.appendingPathComponent(".partial-\(id)", isDirectory: true) }

    func create() throws {
        for directory in [root, tracks, covers] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        guard FileManager.default.isWritableFile(atPath: root.path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: root.path])
        }
    }

    func relative(_ url: URL) -> String {
        String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
    }
}

/// Records masters in the order they were scheduled: each master's commit (duplicate lookup, placement, catalog
/// rows) runs after every earlier one's, so which of two duplicates counts as the original (the one scheduled
/// first: the larger file) never depends on which finished encoding first. No worker waits: a commit that is not
/// yet due is queued and run by the worker that completes the turn before it.
final class CommitTurns: @unchecked Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var next = 0
    private var pending: [Int: @Sendable () -> Void] = [:]
    private var draining = false

    /// Hands over turn `turn`'s commit; runs it, and any later ones now due, unless another thread is doing so.
    func submit(_ turn: Int, _ work: @escaping @Sendable () -> Void) {
        lock.lock()
        pending[turn] = work
        guard !draining else {
            lock.unlock()
            return
        }
        draining = true
        while let due = pending.removeValue(forKey: next) {
            lock.unlock()
            due()
            lock.lock()
            next += 1
        }
        draining = false
        lock.unlock()
    }
}

/// A master after decoding and packaging, before it is recorded: what the commit needs.
enum PreparedMaster: Sendable {
    case rejected(MasterCandidate, Rejection)
    case packaged(PackagedMaster)
}

/// A master packaged into its `.partial` track directory.
struct PackagedMaster: Sendable {
    var candidate: MasterCandidate
    var trackID: String
    var digest: String
    var size: Int64
    var partial: URL
    var output: PipelineOutput
    var source: SourceAudioFormat
    var tags: [String: String]
    var coverArt: CoverArt?
}

/// Ingests one master: hash, decode once through the pipeline, place outputs atomically, record in the catalog.
struct MasterWorker: Sendable {
    let options: IngestOptions
    let layout: WorkLayout
    let catalog: CatalogDatabase
    let runID: Int64
    let cpuTokens: DispatchSemaphore

    /// Hashes, decodes and packages a master into its `.partial` directory (the slow part, run in parallel).
    /// - Parameter claim: claims a track id for a path; returns the path that already holds it, if any.
    /// - Throws: ``IngestError`` only for failures that stop the run (the work folder).
    func prepare(_ candidate: MasterCandidate, claim: (String, String) -> String?) throws(IngestError) -> PreparedMaster {
        do {
            return .packaged(try package(candidate, claim: claim))
        } catch let rejection as Rejection {
            return .rejected(candidate, rejection)
        } catch let error as IngestError {
            throw error
        } catch let failure as WriteFailure {
            throw .workDirectory(path: failure.path, detail: failure.description)
        } catch {
            throw .workDirectory(path: layout.root.path, detail: "\(error)")
        }
    }

    /// Records a prepared master: its rejection, or the duplicate lookup, placement and catalog rows.
    /// - Throws: ``IngestError`` only for failures that stop the run (the catalog, the work folder).
    func commit(_ prepared: PreparedMaster) throws(IngestError) -> (FileReport, Double) {
        do {
            switch prepared {
            case let .rejected(candidate, rejection):
                try catalog.recordRejection(sourcePath: candidate.relativePath, reason: rejection.description, runId: runID)
                return (FileReport(path: candidate.relativePath, status: .rejected, error: rejection.description), 0)
            case let .packaged(master):
                return try record(master)
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    /// Removes what a prepared master left behind when the run stops before recording it.
    func discard(_ prepared: PreparedMaster) {
        if case let .packaged(master) = prepared {
            try? FileManager.default.removeItem(at: master.partial)
        }
    }

    private func package(_ candidate: MasterCandidate, claim: (String, String) -> String?) throws -> PackagedMaster {
        let path = candidate.url.path
        if candidate.isDirectory {
            throw Rejection(description: "\(path): is a directory named like an audio file, not a master; "
                + "rename it or move the audio out of it")
        }
        let (digest, size) = try Self.sha256(of: candidate.url)
        guard size > 0 else {
            throw Rejection(description: "\(path): empty file (0 bytes); copy the master again")
        }
        let trackID = String(digest.prefix(20))
        if let other = claim(trackID, candidate.relativePath) {
            throw Rejection(description: "\(path): same content as \(other), which this run already ingests; "
                + "remove the copy")
        }

        let decoder: AudioDecoder
        do {
            decoder = try AudioDecoder(path: path, strict: options.profile.validation.rejectDamaged)
        } catch {
            throw Rejection(description: error.description)
        }
        let partial = layout.partialTrack(trackID)
        try? FileManager.default.removeItem(at: partial)
        do {
            try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        } catch {
            throw IngestError.workDirectory(path: partial.path, detail: error.localizedDescription)
        }
        let output: PipelineOutput
        do {
            output = try MasterPipeline(profile: options.profile, directory: partial, cpuTokens: cpuTokens).run(
                decoder: decoder, displayPath: path
            )
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        return PackagedMaster(
            candidate: candidate, trackID: trackID, digest: digest, size: size, partial: partial, output: output,
            source: decoder.format, tags: decoder.tags, coverArt: decoder.coverArt
        )
    }

    private func record(_ master: PackagedMaster) throws -> (FileReport, Double) {
        let (candidate, trackID, digest, size, partial, output) =
            (master.candidate, master.trackID, master.digest, master.size, master.partial, master.output)
        let keys = output.analysis?.fingerprint.map { FingerprintMatcher.indexKeys(of: $0.raw) } ?? []
        let duplicate = try findDuplicate(of: output.analysis?.fingerprint, keys: keys, trackID: trackID)
        if let duplicate, options.profile.analysis.skipDuplicates {
            try? FileManager.default.removeItem(at: partial)
            var report = FileReport(path: candidate.relativePath, status: .skipped, trackID: trackID)
            report.duplicateOf = DuplicateReport(trackID: duplicate.trackID, path: duplicate.path)
            report.similarity = duplicate.similarity
            report.fingerprint = output.analysis?.fingerprint?.compressed
            return (report, output.durationSeconds)
        }
        let cover = try storeCoverArt(master.coverArt, master: candidate.url)
        try place(partial, as: layout.track(trackID))

        let metadata = TrackMetadata(tags: master.tags, relativePath: candidate.relativePath)
        let trackDirectory = layout.relative(layout.track(trackID))
        let renditions = output.renditions.map { written in
            Rendition(
                trackId: trackID, name: written.rung.name, codec: written.settings.codec.rawValue,
                bitrate: written.settings.bitrate, sampleRate: written.settings.sampleRate,
                channels: written.settings.channels, layout: written.track.layout.rawValue,
                path: "\(trackDirectory)/\(written.mediaPath)", size: written.track.totalSize,
                peakBandwidth: HLSPlaylists.peakSegmentBitrate(of: written.track),
                averageBandwidth: HLSPlaylists.averageSegmentBitrate(of: written.track),
                encoderVersions: FFmpegVersions.summary
            )
        }
        let hlsMaster = "\(trackDirectory)/\(TrackFiles.hlsMaster)"
        let dash = "\(trackDirectory)/\(TrackFiles.dashManifest)"
        let manifests = [ManifestFile(trackId: trackID, kind: .hlsMaster, path: hlsMaster),
                         ManifestFile(trackId: trackID, kind: .dash, path: dash)]
            + output.renditions.map {
                ManifestFile(trackId: trackID, kind: .hlsMedia, path: "\(trackDirectory)/\($0.playlistPath)")
            }
        let source = master.source
        let track = Track(
            id: trackID, title: metadata.title, releaseId: nil, trackNumber: metadata.trackNumber,
            discNumber: metadata.discNumber, isrc: metadata.isrc, genre: metadata.genre, date: metadata.date,
            durationSeconds: output.durationSeconds, sourcePath: candidate.relativePath, sourceSHA256: digest,
            sourceSize: size, sourceContainer: source.containerName, sourceCodec: source.codecName,
            sourceSampleRate: source.sampleRate, sourceBitDepth: source.bitsPerSample,
            sourceChannels: source.channels, hlsMasterPath: hlsMaster, dashManifestPath: dash, runId: runID
        )
        let release = metadata.album.map { album in
            (artistName: metadata.albumArtist ?? metadata.artists.first ?? TrackMetadata.unknownArtist,
             title: album, date: metadata.date)
        }
        let analysisRecords = output.analysis.map {
            Self.records(of: $0, keys: keys, trackID: trackID, trackDirectory: trackDirectory, duplicate: duplicate)
        }
        try catalog.record(
            IngestedTrack(
                track: track, artistNames: metadata.artists, release: release, coverArt: cover,
                renditions: renditions, manifests: manifests, analysis: analysisRecords
            ),
            albumLoudness: { histograms in GatingBlocks.integratedLoudness(of: histograms.compactMap(GatingBlocks.init(encoded:))) }
        )

        var report = FileReport(
            path: candidate.relativePath, status: .ingested, trackID: trackID,
            durationSeconds: (output.durationSeconds * 1000).rounded() / 1000,
            hlsMaster: hlsMaster, dashMPD: dash,
            renditions: renditions.map {
                RenditionReport(codec: $0.codec, bitrate: $0.bitrate, sampleRate: $0.sampleRate, channels: $0.channels,
                                path: $0.path)
            }
        )
        if let analysis = output.analysis, let records = analysisRecords {
            report.fingerprint = analysis.fingerprint?.compressed
            report.duplicateOf = duplicate.map { DuplicateReport(trackID: $0.trackID, path: $0.path) }
            report.similarity = duplicate?.similarity
            report.loudness = LoudnessReport(
                integratedLUFS: analysis.loudness.integratedLUFS.map(Self.rounded),
                rangeLU: Self.rounded(analysis.loudness.rangeLU),
                truePeakDBTP: Self.rounded(analysis.loudness.truePeakDBTP),
                samplePeakDBFS: Self.rounded(analysis.loudness.samplePeakDBFS),
                trackGainDB: analysis.loudness.trackGainDB.map(Self.rounded)
            )
            report.waveform = WaveformReport(
                json: records.waveform.jsonPath, dat: records.waveform.dataPath,
                pixelsPerSecond: records.waveform.pixelsPerSecond, samplesPerPixel: records.waveform.samplesPerPixel
            )
            let signal = analysis.signal
            report.signal = SignalCheckReport(
                clippedRuns: signal.clippedRuns, clippedSamples: signal.clippedSamples,
                dcOffset: records.signal.dcOffset, leadingSilenceSeconds: Self.rounded(signal.leadingSilenceSeconds),
                trailingSilenceSeconds: Self.rounded(signal.trailingSilenceSeconds)
            )
            report.warnings = signal.warnings.isEmpty ? nil : signal.warnings
        }
        return (report, output.durationSeconds)
    }

    /// A catalog track found to be the same recording.
    struct FoundDuplicate {
        var trackID: String
        var path: String
        var similarity: Double
        var offsetSeconds: Double
    }

    /// Share of the longer fingerprint two tracks must overlap by to count as one recording (not an excerpt).
    static let duplicateCoverage = 0.8

    /// Looks the fingerprint up in the catalog's index and aligns the few candidates that share many keys.
    /// Of the matches, one not itself a duplicate (the first copy recorded: the original) is preferred, so every
    /// copy points at the same track; then the most similar.
    private func findDuplicate(of fingerprint: Fingerprint?, keys: [Int64], trackID: String) throws -> FoundDuplicate? {
        guard let fingerprint else { return nil }
        let candidates = try catalog.duplicateCandidates(
            keys: keys, excluding: trackID, minimumSharedKeys: max(2, keys.count / 10), limit: 10
        )
        let matches = candidates.compactMap { candidate -> (FoundDuplicate, isDuplicate: Bool)? in
            let raw = Fingerprint.raw(fromBytes: [UInt8](candidate.fingerprintRaw))
            guard let match = FingerprintMatcher.match(fingerprint.raw, raw),
                  match.similarity >= options.profile.analysis.duplicateThreshold,
                  match.coverage >= Self.duplicateCoverage else { return nil }
            let found = FoundDuplicate(
                trackID: candidate.trackId, path: candidate.sourcePath, similarity: Self.rounded(match.similarity),
                offsetSeconds: match.offsetSeconds
            )
            return (found, candidate.isDuplicate)
        }
        return matches.min { first, second in
            if first.isDuplicate != second.isDuplicate { return !first.isDuplicate }
            if first.0.similarity != second.0.similarity { return first.0.similarity > second.0.similarity }
            return first.0.path < second.0.path
        }?.0
    }

    private static func records(
        of analysis: TrackAnalysis, keys: [Int64], trackID: String, trackDirectory: String, duplicate: FoundDuplicate?
    ) -> TrackAnalysisRecords {
        let fingerprint = analysis.fingerprint.map { full in
            TrackFingerprint(
                trackId: trackID, fingerprint: full.compressed, fingerprintRaw: Data(full.rawBytes),
                lookupFingerprint: analysis.lookupFingerprint?.compressed ?? full.compressed,
                lookupFingerprintRaw: Data(analysis.lookupFingerprint?.rawBytes ?? full.rawBytes)
            )
        }
        let loudness = analysis.loudness
        let signal = analysis.signal
        let worstOffset = signal.dcOffset.max { abs($0) < abs($1) } ?? 0
        return TrackAnalysisRecords(
            fingerprint: fingerprint,
            fingerprintKeys: keys,
            duplicates: duplicate.map {
                [Duplicate(trackId: trackID, duplicateOfId: $0.trackID, similarity: $0.similarity, offsetSeconds: $0.offsetSeconds)]
            } ?? [],
            loudness: TrackLoudness(
                trackId: trackID, integratedLUFS: loudness.integratedLUFS, rangeLU: loudness.rangeLU,
                samplePeakDBFS: loudness.samplePeakDBFS, truePeakDBTP: loudness.truePeakDBTP,
                trackGainDB: loudness.trackGainDB, trackPeak: loudness.truePeak, gatingBlocks: loudness.blocks.encoded
            ),
            waveform: TrackWaveform(
                trackId: trackID, jsonPath: "\(trackDirectory)/\(TrackFiles.waveformJSON)",
                dataPath: "\(trackDirectory)/\(TrackFiles.waveformData)", pixelsPerSecond: analysis.waveform.pixelsPerSecond,
                samplesPerPixel: analysis.waveform.samplesPerPixel, bits: analysis.waveform.bits,
                channels: analysis.waveform.channels
            ),
            signal: TrackSignal(
                trackId: trackID, clippedRuns: signal.clippedRuns, clippedSamples: signal.clippedSamples,
                dcOffset: (worstOffset * 1_000_000).rounded() / 1_000_000,
                leadingSilenceSeconds: signal.leadingSilenceSeconds, trailingSilenceSeconds: signal.trailingSilenceSeconds,
                warnings: signal.warnings.joined(separator: "\n")
            )
        )
    }

    /// Three decimals: what the figures are good for, and stable across platforms' float printing.
    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// Stores the embedded picture (or a cover image beside the master) under a name derived from its bytes.
    private func storeCoverArt(_ embedded: CoverArt?, master: URL) throws -> (path: String, mimeType: String)? {
        let art: CoverArt
        if let embedded {
            art = embedded
        } else if let file = MasterScanner.folderCover(beside: master), let data = try? Data(contentsOf: file) {
            let png = file.pathExtension.lowercased() == "png"
            art = CoverArt(data: data, mimeType: png ? "image/png" : "image/jpeg", fileExtension: png ? "png" : "jpg")
        } else {
            return nil
        }
        let name = SHA256.hash(data: art.data).hexString.prefix(20) + "." + art.fileExtension
        let destination = layout.covers.appendingPathComponent(String(name))
        if !FileManager.default.fileExists(atPath: destination.path) {
            let temporary = layout.covers.appendingPathComponent(".partial-\(name)-\(UUID().uuidString)")
            do {
                try art.data.write(to: temporary)
                try FileManager.default.moveItem(at: temporary, to: destination)
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                if !FileManager.default.fileExists(atPath: destination.path) {
                    throw IngestError.workDirectory(path: destination.path, detail: error.localizedDescription)
                }
            }
        }
        return (layout.relative(destination), art.mimeType)
    }

    /// Renames a finished directory into place, replacing an older one.
    private func place(_ partial: URL, as destination: URL) throws {
        let manager = FileManager.default
        do {
            if manager.fileExists(atPath: destination.path) {
                let old = destination.deletingLastPathComponent()
                    .appendingPathComponent(".replaced-\(destination.lastPathComponent)-\(UUID().uuidString)")
                try manager.moveItem(at: destination, to: old)
                try manager.moveItem(at: partial, to: destination)
                try manager.removeItem(at: old)
            } else {
                try manager.moveItem(at: partial, to: destination)
            }
        } catch {
            throw IngestError.workDirectory(path: destination.path, detail: error.localizedDescription)
        }
    }

    /// SHA-256 (hex) and size of a file, read in 1 MiB blocks.
    static func sha256(of url: URL) throws -> (String, Int64) {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw Rejection(description: "\(url.path): cannot be read (\(error.localizedDescription)); check permissions")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                hasher.update(data: block)
                size += Int64(block.count)
            }
        } catch {
            throw Rejection(description: "\(url.path): read error (\(error.localizedDescription)); check the disk")
        }
        return (hasher.finalize().hexString, size)
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

extension SHA256.Digest {
    var hexString: String { Array(self).hexString }
}
