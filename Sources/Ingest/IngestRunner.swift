import Catalog
import Crypto
import Foundation
import Manifest
import MediaIO
import Segmenter
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
        // Largest first, so the master left running alone at the end is a short one (longest-processing-time-first
        // scheduling); ties in path order. The report is sorted by path whatever the order of work.
        let order = candidates.indices.sorted {
            (candidates[$0].size, candidates[$1].relativePath) > (candidates[$1].size, candidates[$0].relativePath)
        }
        let workers = (0..<min(options.jobs, max(candidates.count, 1))).map { _ in
            { @Sendable in
                while true {
                    let index = shared.withLock { state -> Int? in
                        guard state.fatal == nil, state.next < order.count else { return nil }
                        defer { state.next += 1 }
                        return order[state.next]
                    }
                    guard let index else { return }
                    do {
                        let (report, seconds) = try worker.ingest(candidates[index]) { id, path in
                            shared.withLock { state in
                                if let other = state.claimedIDs[id] { return other }
                                state.claimedIDs[id] = path
                                return nil
                            }
                        }
                        shared.withLock { $0.reports.append(report) }
                        progress(.finished(report, audioSeconds: seconds))
                    } catch let error as IngestError {
                        shared.withLock { if $0.fatal == nil { $0.fatal = error } }
                    } catch {
                        preconditionFailure("MasterWorker.ingest throws only IngestError")
                    }
                }
            }
        }
        startThreads(workers).wait()

        let state = shared.withLock { $0 }
        if let fatal = state.fatal { throw fatal }
        let reports = state.reports.sorted { $0.path < $1.path }
        let summary = IngestReport.Summary(
            ingested: reports.filter { $0.status == .ingested }.count,
            rejected: reports.filter { $0.status == .rejected }.count
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

/// Ingests one master: hash, decode once through the pipeline, place outputs atomically, record in the catalog.
struct MasterWorker: Sendable {
    let options: IngestOptions
    let layout: WorkLayout
    let catalog: CatalogDatabase
    let runID: Int64
    let cpuTokens: DispatchSemaphore

    /// - Parameter claim: claims a track id for a path; returns the path that already holds it, if any.
    /// - Throws: ``IngestError`` only for failures that stop the run (the catalog).
    func ingest(
        _ candidate: MasterCandidate, claim: (String, String) -> String?
    ) throws(IngestError) -> (FileReport, Double) {
        do {
            return try ingestOrReject(candidate, claim: claim)
        } catch let rejection as Rejection {
            do {
                try catalog.recordRejection(
                    sourcePath: candidate.relativePath, reason: rejection.description, runId: runID
                )
            } catch {
                throw .catalog(path: layout.catalog.path, detail: "\(error)")
            }
            return (FileReport(path: candidate.relativePath, status: .rejected, error: rejection.description), 0)
        } catch let error as IngestError {
            throw error
        } catch let failure as WriteFailure {
            throw .workDirectory(path: failure.path, detail: failure.description)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    private func ingestOrReject(
        _ candidate: MasterCandidate, claim: (String, String) -> String?
    ) throws -> (FileReport, Double) {
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
        let cover = try storeCoverArt(decoder.coverArt, master: candidate.url)
        try place(partial, as: layout.track(trackID))

        let metadata = TrackMetadata(tags: decoder.tags, relativePath: candidate.relativePath)
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
        let source = decoder.format
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
        try catalog.record(IngestedTrack(
            track: track, artistNames: metadata.artists, release: release, coverArt: cover,
            renditions: renditions, manifests: manifests
        ))

        let report = FileReport(
            path: candidate.relativePath, status: .ingested, trackID: trackID,
            durationSeconds: (output.durationSeconds * 1000).rounded() / 1000,
            hlsMaster: hlsMaster, dashMPD: dash,
            renditions: renditions.map {
                RenditionReport(codec: $0.codec, bitrate: $0.bitrate, sampleRate: $0.sampleRate, channels: $0.channels,
                                path: $0.path)
            }
        )
        return (report, output.durationSeconds)
    }

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
