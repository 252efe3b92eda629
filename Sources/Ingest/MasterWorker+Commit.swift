import Catalog
import Crypto
import Fingerprint
import Foundation
import Loudness
import Lyrics
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import WorkArea

/// Recording a packaged master: its directory placed, its rows written in one transaction, its report.
extension MasterWorker {
    func record(_ master: PackagedMaster) throws -> (FileReport, Double) {
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
                audioSHA256: master.source.audioSHA256, settings: written.settings, profile: options.profile,
                protection: options.protection(ofMasterAt: planned.path)
            )
            // The lossless rung has no target bit rate: its row carries the rate it came to.
            let bitrate = written.settings.codec.isLossless ? HLSPlaylists.averageSegmentBitrate(of: written.track) : written.settings.bitrate
            return Rendition(
                trackId: trackID, name: written.rung.name, codec: written.settings.codec.rawValue,
                bitrate: bitrate, sampleRate: written.settings.sampleRate,
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
            IngestedTrack(track: track, description: description, renditions: renditions, manifests: manifests, analysis: analysisRecords),
            albumLoudness: Self.albumLoudness
        )

        var report = FileReport(
            path: planned.path, status: existing == nil ? .ingested : .updated, trackID: trackID,
            durationSeconds: Self.rounded(track.durationSeconds), hlsMaster: hlsMaster, dashMPD: dash,
            renditions: zip(renditions, output.renditions).map { row, written in
                RenditionReport(codec: row.codec, tier: written.rung.tier, bitrate: row.bitrate, sampleRate: row.sampleRate,
                                channels: row.channels, path: row.path, kid: written.track.format.protection?.keyIDHex)
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

    /// Artists, release and stored cover art from a master's tags.
    func describe(tags: [String: String], coverArt: CoverArt?, planned: PlannedMaster) throws -> TrackDescription {
        let metadata = TrackMetadata(tags: tags, relativePath: planned.path)
        let release = metadata.album.map { album in
            (artistName: metadata.albumArtist ?? metadata.artists.first ?? TrackMetadata.unknownArtist,
             title: album, date: metadata.date)
        }
        let master = planned.candidate?.url ?? options.mastersDirectory.appendingPathComponent(planned.path)
        let cover = try storeCoverArt(coverArt, master: master)
        let lyrics = MasterLyrics.of(master: master, tags: tags)
        return TrackDescription(
            artistNames: metadata.artists, release: release, coverArt: cover,
            lyricsJSON: lyrics.isEmpty ? nil : String(decoding: try Self.lyricsEncoder.encode(lyrics), as: UTF8.self))
    }

    /// Lyrics as the catalog stores them: the publication's JSON, keys sorted so equal lyrics are equal text.
    static let lyricsEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Album loudness from the gating-block histograms of a release's tracks.
    static func albumLoudness(_ histograms: [Data]) -> Double? {
        GatingBlocks.integratedLoudness(of: histograms.compactMap(GatingBlocks.init(encoded:)))
    }
}
