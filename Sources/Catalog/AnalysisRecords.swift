import Foundation
import GRDB

/// A track's Chromaprint fingerprints, as `fpcalc -length 0` and `fpcalc` (first 120 s) compute them.
public struct TrackFingerprint: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    /// Compressed (base64) full-length fingerprint, as fpcalc prints it after `FINGERPRINT=`.
    public var fingerprint: String
    /// The raw sub-fingerprints, uint32 little-endian.
    public var fingerprintRaw: Data
    /// The first 120 s, compressed and raw: what AcoustID looks up.
    public var lookupFingerprint: String
    public var lookupFingerprintRaw: Data

    public init(trackId: String, fingerprint: String, fingerprintRaw: Data, lookupFingerprint: String, lookupFingerprintRaw: Data) {
        self.trackId = trackId
        self.fingerprint = fingerprint
        self.fingerprintRaw = fingerprintRaw
        self.lookupFingerprint = lookupFingerprint
        self.lookupFingerprintRaw = lookupFingerprintRaw
    }
}

/// One index key of a track's fingerprint (see `FingerprintMatcher.indexKeys`): tracks sharing many keys are
/// duplicate candidates.
public struct FingerprintKey: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var key: Int64
    public var trackId: String

    public init(key: Int64, trackId: String) {
        self.key = key
        self.trackId = trackId
    }
}

/// A likely duplicate found at ingest: `trackId` is the same recording as `duplicateOfId`.
public struct Duplicate: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    public var duplicateOfId: String
    /// Share of fingerprint bits that agree at the best alignment (0-1).
    public var similarity: Double
    /// Where the other track's audio starts in this one, in seconds.
    public var offsetSeconds: Double

    public init(trackId: String, duplicateOfId: String, similarity: Double, offsetSeconds: Double) {
        self.trackId = trackId
        self.duplicateOfId = duplicateOfId
        self.similarity = similarity
        self.offsetSeconds = offsetSeconds
    }
}

/// EBU R128 loudness of a track, with ReplayGain 2.0 track gain.
public struct TrackLoudness: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    /// Nil for silence.
    public var integratedLUFS: Double?
    public var rangeLU: Double
    public var samplePeakDBFS: Double
    public var truePeakDBTP: Double
    /// ReplayGain 2.0 (-18 LUFS reference); nil for silence.
    public var trackGainDB: Double?
    /// Linear true peak, as ReplayGain's track peak.
    public var trackPeak: Double
    /// The track's gating-block histogram (JSON), from which album loudness is computed.
    public var gatingBlocks: Data

    public init(
        trackId: String, integratedLUFS: Double?, rangeLU: Double, samplePeakDBFS: Double, truePeakDBTP: Double,
        trackGainDB: Double?, trackPeak: Double, gatingBlocks: Data
    ) {
        self.trackId = trackId
        self.integratedLUFS = integratedLUFS
        self.rangeLU = rangeLU
        self.samplePeakDBFS = samplePeakDBFS
        self.truePeakDBTP = truePeakDBTP
        self.trackGainDB = trackGainDB
        self.trackPeak = trackPeak
        self.gatingBlocks = gatingBlocks
    }
}

/// A track's waveform files (audiowaveform format, version 2).
public struct TrackWaveform: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    /// Relative to WORK_DIR.
    public var jsonPath: String
    /// Relative to WORK_DIR.
    public var dataPath: String
    public var pixelsPerSecond: Int
    public var samplesPerPixel: Int
    public var bits: Int
    public var channels: Int

    public init(
        trackId: String, jsonPath: String, dataPath: String, pixelsPerSecond: Int, samplesPerPixel: Int, bits: Int,
        channels: Int
    ) {
        self.trackId = trackId
        self.jsonPath = jsonPath
        self.dataPath = dataPath
        self.pixelsPerSecond = pixelsPerSecond
        self.samplesPerPixel = samplesPerPixel
        self.bits = bits
        self.channels = channels
    }
}

/// What the signal checks found in a track's master.
public struct TrackSignal: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var trackId: String
    public var clippedRuns: Int
    public var clippedSamples: Int
    /// Largest channel mean, as a fraction of full scale (signed).
    public var dcOffset: Double
    public var leadingSilenceSeconds: Double
    public var trailingSilenceSeconds: Double
    /// Warnings, one per line; empty when none.
    public var warnings: String

    public init(
        trackId: String, clippedRuns: Int, clippedSamples: Int, dcOffset: Double, leadingSilenceSeconds: Double,
        trailingSilenceSeconds: Double, warnings: String
    ) {
        self.trackId = trackId
        self.clippedRuns = clippedRuns
        self.clippedSamples = clippedSamples
        self.dcOffset = dcOffset
        self.leadingSilenceSeconds = leadingSilenceSeconds
        self.trailingSilenceSeconds = trailingSilenceSeconds
        self.warnings = warnings
    }
}

/// Everything the analysis recorded for one track.
public struct TrackAnalysisRecords: Sendable {
    /// Nil when the track is too short to fingerprint.
    public var fingerprint: TrackFingerprint?
    public var fingerprintKeys: [Int64]
    public var duplicates: [Duplicate]
    public var loudness: TrackLoudness
    public var waveform: TrackWaveform
    public var signal: TrackSignal

    public init(
        fingerprint: TrackFingerprint?, fingerprintKeys: [Int64], duplicates: [Duplicate], loudness: TrackLoudness,
        waveform: TrackWaveform, signal: TrackSignal
    ) {
        self.fingerprint = fingerprint
        self.fingerprintKeys = fingerprintKeys
        self.duplicates = duplicates
        self.loudness = loudness
        self.waveform = waveform
        self.signal = signal
    }
}

/// A catalog track that shares fingerprint index keys with a new one.
public struct DuplicateCandidate: Sendable, Equatable {
    public var trackId: String
    public var sourcePath: String
    /// Index keys shared.
    public var sharedKeys: Int
    /// The candidate's full raw fingerprint.
    public var fingerprintRaw: Data
    /// Whether the candidate was itself recorded as a duplicate of another track.
    public var isDuplicate: Bool
}
