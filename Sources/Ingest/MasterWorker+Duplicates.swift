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

/// Finding the catalog track a master duplicates, and the analysis rows a track is recorded with.
extension MasterWorker {
    // MARK: Duplicates and analysis rows

    /// A catalog track found to be the same recording.
    struct FoundDuplicate {
        var trackID: String
        var path: String
        var similarity: Double
        var offsetSeconds: Double
    }

    /// Looks the fingerprint up in the catalog's index and aligns the few candidates that share many keys.
    /// Of the matches, one not itself a duplicate (the first copy recorded: the original) is preferred, so every
    /// copy points at the same track; then the most similar.
    func findDuplicate(of fingerprint: Fingerprint?, keys: [Int64], trackID: String) throws -> FoundDuplicate? {
        guard let fingerprint else { return nil }
        let candidates = try catalog.duplicateCandidates(
            keys: keys, excluding: trackID, minimumSharedKeys: FingerprintMatcher.minimumSharedKeys(keys.count), limit: 10
        )
        let matches = candidates.compactMap { candidate -> (FoundDuplicate, isDuplicate: Bool)? in
            let raw = Fingerprint.raw(fromBytes: [UInt8](candidate.fingerprintRaw))
            guard let match = FingerprintMatcher.match(fingerprint.raw, raw),
                  FingerprintMatcher.isSameRecording(match, threshold: options.profile.analysis.duplicateThreshold) else { return nil }
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

    static func records(
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
}
