import Catalog
import Crypto
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

    private func package(_ planned: PlannedMaster, work: PipelineWork) throws -> PackagedMaster {
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
            let output = try MasterPipeline(profile: options.profile, directory: partial, cpuTokens: cpuTokens).run(
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
    private func carryOver(trackID: String, into partial: URL, work: inout PipelineWork) throws -> [String: Rendition] {
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
    private func link(_ source: URL, _ destination: URL) throws {
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
    private func digest(of media: URL) throws(IngestError) -> String {
        do {
            return try FileDigest.sha256(ofItemAt: media)
        } catch {
            throw .workDirectory(path: media.path, detail: "cannot read what was just written (\(error.detail))")
        }
    }

    private func record(_ master: PackagedMaster) throws -> (FileReport, Double) {
        let planned = master.planned
        let (trackID, partial, output) = (master.trackID, master.partial, master.output)
        let existing = planned.existing
        let keys = output.analysis?.fingerprint.map { FingerprintMatcher.indexKeys(of: $0.raw) } ?? []
        let duplicate = try findDuplicate(of: output.analysis?.fingerprint, keys: keys, trackID: trackID)
        if let duplicate, existing == nil, options.profile.analysis.skipDuplicates {
            try? FileManager.default.removeItem(at: partial)
            try catalog.recordSkipped(SkippedMaster(
                sourcePath: planned.path, sourceSize: master.source.stamp.size,
                sourceModified: master.source.stamp.modified, sourceChanged: master.source.stamp.changed,
                sourceInode: master.source.stamp.inode, sourceSHA256: master.source.sha256,
                duplicateOfId: duplicate.trackID, similarity: duplicate.similarity, runId: runID
            ))
            var report = FileReport(path: planned.path, status: .skipped, trackID: trackID)
            report.duplicateOf = DuplicateReport(trackID: duplicate.trackID, path: duplicate.path)
            report.similarity = duplicate.similarity
            report.fingerprint = output.analysis?.fingerprint?.compressed
            return (report, output.durationSeconds ?? 0)
        }
        let description = try describe(tags: master.tags, coverArt: master.coverArt, planned: planned)
        do {
            try layout.place(partial, as: layout.track(trackID))
        } catch {
            throw IngestError.workDirectory(path: layout.track(trackID).path, detail: error.localizedDescription)
        }

        let trackDirectory = layout.relative(layout.track(trackID))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let renditions = try output.renditions.map { written in
            if written.reused, let row = master.reusedRows[written.rung.name] { return row }
            let provenance = Provenance.rendition(
                audioSHA256: master.source.audioSHA256, settings: written.settings, profile: options.profile
            )
            return Rendition(
                trackId: trackID, name: written.rung.name, codec: written.settings.codec.rawValue,
                bitrate: written.settings.bitrate, sampleRate: written.settings.sampleRate,
                channels: written.settings.channels, layout: written.track.layout.rawValue,
                path: "\(trackDirectory)/\(written.mediaPath)", size: written.track.totalSize,
                peakBandwidth: HLSPlaylists.peakSegmentBitrate(of: written.track),
                averageBandwidth: HLSPlaylists.averageSegmentBitrate(of: written.track),
                encoderVersions: EncoderVersions.summary, provenance: provenance,
                segmentTable: try encoder.encode(written.track),
                sha256: try digest(of: layout.track(trackID).appendingPathComponent(written.mediaPath))
            )
        }
        let hlsMaster = "\(trackDirectory)/\(TrackFiles.hlsMaster)"
        let dash = "\(trackDirectory)/\(TrackFiles.dashManifest)"
        let manifests = [ManifestFile(trackId: trackID, kind: .hlsMaster, path: hlsMaster),
                         ManifestFile(trackId: trackID, kind: .dash, path: dash)]
            + output.renditions.map {
                ManifestFile(trackId: trackID, kind: .hlsMedia, path: "\(trackDirectory)/\($0.playlistPath)")
            }
        let metadata = TrackMetadata(tags: master.tags, relativePath: planned.path)
        let format = master.format
        let audioChanged = existing.map { $0.audioSHA256 != master.source.audioSHA256 } ?? true
        let analysisKey = output.analysis != nil ? Provenance.analysis(options.profile.analysis)
            : (audioChanged ? nil : existing?.analysisKey)
        let track = Track(
            id: trackID, title: metadata.title, releaseId: nil, trackNumber: metadata.trackNumber,
            discNumber: metadata.discNumber, isrc: metadata.isrc, genre: metadata.genre, date: metadata.date,
            durationSeconds: output.durationSeconds ?? existing?.durationSeconds ?? 0, sourcePath: planned.path,
            sourceSHA256: master.source.sha256, sourceSize: master.source.stamp.size,
            sourceModified: master.source.stamp.modified, sourceChanged: master.source.stamp.changed,
            sourceInode: master.source.stamp.inode, audioSHA256: master.source.audioSHA256, sourceContainer: format.containerName, sourceCodec: format.codecName,
            sourceSampleRate: format.sampleRate, sourceBitDepth: format.bitsPerSample, sourceChannels: format.channels,
            hlsMasterPath: hlsMaster, dashManifestPath: dash, runId: runID, analysisKey: analysisKey
        )
        let analysisRecords = output.analysis.map {
            Self.records(of: $0, keys: keys, trackID: trackID, trackDirectory: trackDirectory, duplicate: duplicate)
        }
        try catalog.record(
            IngestedTrack(
                track: track, artistNames: description.artistNames, release: description.release,
                coverArt: description.coverArt, renditions: renditions, manifests: manifests, analysis: analysisRecords
            ),
            albumLoudness: Self.albumLoudness
        )

        var report = FileReport(
            path: planned.path, status: existing == nil ? .ingested : .updated, trackID: trackID,
            durationSeconds: Self.rounded(track.durationSeconds), hlsMaster: hlsMaster, dashMPD: dash,
            renditions: renditions.map {
                RenditionReport(codec: $0.codec, bitrate: $0.bitrate, sampleRate: $0.sampleRate, channels: $0.channels,
                                path: $0.path)
            }
        )
        if existing != nil {
            report.changes = planned.changes.sorted()
            report.previousPath = planned.previousPath
        }
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
        if let fallback = master.decoderFallback {
            report.decoderFallback = fallback
            report.warnings = (report.warnings ?? []) + [fallback]
        }
        return (report, output.durationSeconds ?? 0)
    }

    // MARK: Catalog-only outcomes

    /// Carries out a plan entry that needs no decoding: an update, a repeated rejection or skip, a rejection the
    /// plan made, a removal. Writes nothing for a master that is unchanged.
    func apply(_ planned: PlannedMaster) throws(IngestError) -> FileReport {
        do {
            switch planned.action {
            case .unchanged:
                return summaryReport(planned, status: .unchanged)
            case .update:
                try update(planned)
                return summaryReport(planned, status: planned.changes.isEmpty ? .unchanged : .updated)
            case let .reject(rejection, cacheable):
                return try reject(planned, rejection, cacheable: cacheable)
            case let .rejectAgain(rejected):
                // Rewritten only when the file was touched (the plan then hashed it).
                if planned.source != nil { try catalog.recordRejection(rejected) }
                return FileReport(path: planned.path, status: .rejected, error: rejected.reason)
            case let .skipAgain(skipped):
                if planned.source != nil { try catalog.recordSkipped(skipped) }
                var report = FileReport(path: planned.path, status: .skipped)
                let original = try catalog.track(id: skipped.duplicateOfId)
                report.duplicateOf = DuplicateReport(trackID: skipped.duplicateOfId, path: original?.sourcePath ?? "")
                report.similarity = skipped.similarity
                return report
            case .remove:
                if let id = planned.trackID {
                    try catalog.markRemoved(trackIds: [id], albumLoudness: Self.albumLoudness)
                }
                return FileReport(path: planned.path, status: .removed, trackID: planned.trackID)
            case .build:
                throw Rejection(description: "\(planned.path): a build reached the catalog-only step (an internal "
                    + "error); please report it")
            }
        } catch let error as IngestError {
            throw error
        } catch let rejection as Rejection {
            return FileReport(path: planned.path, status: .rejected, error: rejection.description)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    private func update(_ planned: PlannedMaster) throws {
        guard var track = planned.existing, let source = planned.source else { return }
        track.sourcePath = planned.path
        (track.sourceSize, track.sourceModified) = (source.stamp.size, source.stamp.modified)
        (track.sourceChanged, track.sourceInode) = (source.stamp.changed, source.stamp.inode)
        track.sourceSHA256 = source.sha256
        track.removedAt = nil
        var description: TrackDescription?
        if let probe = planned.probe {
            track.describe(with: TrackMetadata(tags: probe.tags, relativePath: planned.path))
            description = try describe(tags: probe.tags, coverArt: probe.coverArt, planned: planned)
        }
        try catalog.updateTrack(track, description: description, albumLoudness: Self.albumLoudness)
    }

    private func reject(_ planned: PlannedMaster, _ rejection: Rejection, cacheable: Bool) throws -> FileReport {
        var rejected = RejectedMaster(
            sourcePath: planned.path, reason: rejection.description, runId: runID, sourceSHA256: planned.source?.sha256 ?? "",
            rulesKey: cacheable ? Provenance.rejection(options.profile.validation) : nil
        )
        if let stamp = planned.candidate?.stamp { rejected.sourceStamp = stamp }
        try catalog.recordRejection(rejected)
        return FileReport(path: planned.path, status: .rejected, error: rejection.description)
    }

    /// The report of a master that was not decoded: where its track is, and what changed.
    private func summaryReport(_ planned: PlannedMaster, status: FileReport.Status) -> FileReport {
        var report = FileReport(path: planned.path, status: status, trackID: planned.trackID)
        if let track = planned.existing {
            report.durationSeconds = Self.rounded(track.durationSeconds)
            report.hlsMaster = track.hlsMasterPath
            report.dashMPD = track.dashManifestPath
        }
        if status == .updated {
            report.changes = planned.changes.sorted()
            report.previousPath = planned.previousPath
        }
        return report
    }

    /// Artists, release and stored cover art from a master's tags.
    private func describe(tags: [String: String], coverArt: CoverArt?, planned: PlannedMaster) throws -> TrackDescription {
        let metadata = TrackMetadata(tags: tags, relativePath: planned.path)
        let release = metadata.album.map { album in
            (artistName: metadata.albumArtist ?? metadata.artists.first ?? TrackMetadata.unknownArtist,
             title: album, date: metadata.date)
        }
        let master = planned.candidate?.url ?? options.mastersDirectory.appendingPathComponent(planned.path)
        let cover = try storeCoverArt(coverArt, master: master)
        return TrackDescription(artistNames: metadata.artists, release: release, coverArt: cover)
    }

    /// Album loudness from the gating-block histograms of a release's tracks.
    private static func albumLoudness(_ histograms: [Data]) -> Double? {
        GatingBlocks.integratedLoudness(of: histograms.compactMap(GatingBlocks.init(encoded:)))
    }

    // MARK: Duplicates and analysis rows

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
}

extension Sequence where Element == UInt8 {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

extension SHA256.Digest {
    var hexString: String { Array(self).hexString }
}
