import Catalog
import Fingerprint
import Foundation
import Loudness
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import WorkArea

/// A master after decoding and packaging, before it is recorded: what the commit needs.
enum PreparedMaster: Sendable {
    case rejected(PlannedMaster, Rejection)
    case packaged(PackagedMaster)
}

/// A master packaged into its `.partial` track directory.
struct PackagedMaster: Sendable {
    var planned: PlannedMaster
    var trackID: String
    var source: SourceFile
    var partial: URL
    var output: PipelineOutput
    var format: SourceAudioFormat
    var tags: [String: String]
    var coverArt: CoverArt?
    /// Which reference decoder read the master in FFmpeg's place, and why (``AudioDecoder/fallback``).
    var decoderFallback: String?
    /// The catalog rows of the renditions reused from an earlier run, by rung name.
    var reusedRows: [String: Rendition]
}

/// Does what the plan says for one master: catalog updates, or a build (decode once, encode, place the track
/// directory atomically, record it in one transaction).
struct MasterWorker: Sendable {
    let options: IngestOptions
    let layout: WorkLayout
    let catalog: CatalogDatabase
    let runID: Int64
    let cpuTokens: DispatchSemaphore

    // MARK: Builds

    /// Decodes and packages a master into its `.partial` directory (the slow part, run in parallel), reusing the
    /// files of renditions an earlier run made as this profile would make them.
    /// - Throws: ``IngestError`` only for failures that stop the run (the work folder, the catalog).
    func prepare(_ planned: PlannedMaster, work: PipelineWork) throws(IngestError) -> PreparedMaster {
        do {
            return .packaged(try package(planned, work: work))
        } catch let rejection as Rejection {
            return .rejected(planned, rejection)
        } catch let error as IngestError {
            throw error
        } catch let failure as WriteFailure {
            throw .output(description: failure.description)
        } catch {
            throw .workDirectory(path: layout.root.path, detail: "\(error)")
        }
    }

    /// Records a prepared master: its rejection, or the duplicate lookup, placement and catalog rows.
    /// - Throws: ``IngestError`` only for failures that stop the run (the catalog, the work folder).
    func commit(_ prepared: PreparedMaster) throws(IngestError) -> (FileReport, Double) {
        do {
            switch prepared {
            case let .rejected(planned, rejection):
                return (try reject(planned, rejection, cacheable: true), 0)
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

    func package(_ planned: PlannedMaster, work: PipelineWork) throws -> PackagedMaster {
        guard let candidate = planned.candidate, let trackID = planned.trackID, let source = planned.source else {
            throw Rejection(description: "\(planned.path): planned without its file (an internal error); please report it")
        }
        let decoder: AudioDecoder
        do {
            decoder = try AudioDecoder(path: candidate.url.path, strict: options.profile.validation.rejectDamaged)
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
        do {
            var work = work
            var reusedRows: [String: Rendition] = [:]
            // Nothing made from other audio is kept.
            if planned.existing != nil, !planned.changes.contains(.audio) {
                reusedRows = try carryOver(trackID: trackID, into: partial, work: &work)
            }
            var pipeline = MasterPipeline(profile: options.profile, directory: partial, cpuTokens: cpuTokens)
            pipeline.trackID = trackID
            pipeline.protection = options.protection(ofMasterAt: planned.path)
            let output = try pipeline.run(
                decoder: decoder, work: work, displayPath: candidate.url.path
            )
            return PackagedMaster(
                planned: planned, trackID: trackID, source: source, partial: partial, output: output,
                format: decoder.format, tags: decoder.tags, coverArt: decoder.coverArt,
                decoderFallback: decoder.fallback, reusedRows: reusedRows
            )
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    /// Hard-links into `partial` the files of the renditions (and, when the analysis is not redone, the waveform)
    /// the build keeps from the track's current directory. A kept rendition whose segment table cannot be read is
    /// encoded again instead.
    func carryOver(trackID: String, into partial: URL, work: inout PipelineWork) throws -> [String: Rendition] {
        let current = layout.track(trackID)
        let recorded = try catalog.renditions(ofTrack: trackID)
        var kept: [String: Rendition] = [:]
        let decoder = JSONDecoder()
        for rung in options.profile.ladder where !work.rungs.contains(rung) {
            guard let row = recorded[rung.name], let table = row.segmentTable,
                  let track = try? decoder.decode(SegmentedTrack.self, from: table) else {
                work.rungs.append(rung)
                continue
            }
            let media = track.layout == .singleFile ? track.initializationFile : rung.name
            for name in [media, TrackFiles.mediaPlaylist(for: rung.name)] {
                try link(current.appendingPathComponent(name), partial.appendingPathComponent(name))
            }
            work.reused[rung.name] = track
            kept[rung.name] = row
        }
        if !work.analyse {
            for name in [TrackFiles.waveformJSON, TrackFiles.waveformData]
            where FileManager.default.fileExists(atPath: current.appendingPathComponent(name).path) {
                try link(current.appendingPathComponent(name), partial.appendingPathComponent(name))
            }
        }
        // Encode in ladder order, whatever order the plan found them in.
        work.rungs = options.profile.ladder.filter(work.rungs.contains)
        return kept
    }

    /// Hard-links a file, or a folder's files recursively: the bytes stay where they are, untouched.
    func link(_ source: URL, _ destination: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: source.path, isDirectory: &isDirectory) else {
            throw WriteFailure(path: source.path, description: "\(source.path): missing from the work folder while "
                + "being reused; run again to encode it anew")
        }
        do {
            if isDirectory.boolValue {
                try manager.createDirectory(at: destination, withIntermediateDirectories: true)
                for name in try manager.contentsOfDirectory(atPath: source.path) {
                    try link(source.appendingPathComponent(name), destination.appendingPathComponent(name))
                }
            } else {
                try manager.linkItem(at: source, to: destination)
            }
        } catch let failure as WriteFailure {
            throw failure
        } catch {
            throw WriteFailure(path: destination.path, description: "\(destination.path): cannot link "
                + "(\(error.localizedDescription)); check free space and permissions of the work folder")
        }
    }

    /// The digest the catalog records for a rendition just placed in the work folder.
    func digest(of media: URL) throws(IngestError) -> String {
        do {
            return try FileDigest.sha256(ofItemAt: media)
        } catch {
            throw .workDirectory(path: media.path, detail: "cannot read what was just written (\(error.detail))")
        }
    }
}


