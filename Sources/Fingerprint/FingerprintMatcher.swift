/// How two fingerprints line up.
public struct FingerprintMatch: Sendable, Equatable {
    /// Share of fingerprint bits that agree where the two overlap, at the best offset: about 0.5 for unrelated
    /// audio, above 0.95 for the same recording re-encoded (MP3 128k, AAC).
    public var similarity: Double
    /// Where the second's start lines up in the first, in seconds: positive when the first has that much more
    /// audio before it, negative when the second has.
    public var offsetSeconds: Double
    /// Share of the longer fingerprint covered by the overlap.
    public var coverage: Double
}

/// Compares fingerprints and derives the keys that index them.
///
/// Finding candidates never compares arrays one by one: a catalog stores each track's ``indexKeys(of:)`` and asks
/// which tracks share many keys with a new one (sub-fingerprint hashing, as AcoustID's index does); only those few
/// candidates are then aligned bit by bit with ``match(_:_:)``.
public enum FingerprintMatcher {
    /// Largest misalignment searched, in sub-fingerprints (about 10 s): leading silence trimmed or added.
    public static let maximumOffset = 80
    /// Bits of a sub-fingerprint kept in its index key. The high bits are the most robust ones: measured on Sonic Pi
    /// loops re-encoded to MP3 128k and AAC 256k, 60-100 % of sub-fingerprints keep their top 24 bits, while 24 bits
    /// keep a catalog of 100,000 tracks to a few rows per key.
    public static let keyBits = 24
    /// Similarity from which two tracks count as one recording: re-encodes measure above 0.95, different recordings
    /// below 0.7.
    public static let defaultThreshold = 0.85
    /// Thresholds a user may set: below 0.5 unrelated audio would match.
    public static let thresholdRange = 0.5...1.0
    /// Share of the longer fingerprint two tracks must overlap by to count as one recording (not an excerpt).
    public static let sameRecordingCoverage = 0.8

    /// Whether a match is the same recording at `threshold`: similar enough, over enough of both.
    public static func isSameRecording(_ match: FingerprintMatch, threshold: Double) -> Bool {
        match.similarity >= threshold && match.coverage >= sameRecordingCoverage
    }

    /// How many index keys two fingerprints must share before they are aligned: a tenth of the smaller set, at
    /// least 2.
    public static func minimumSharedKeys(_ keyCount: Int) -> Int { max(2, keyCount / 10) }

    /// The distinct index keys of a fingerprint's first `limit` sub-fingerprints (the first 120 s by default).
    public static func indexKeys(of raw: [UInt32], limit: Int = 970) -> [Int64] {
        Array(Set(raw.prefix(limit).map { Int64($0 >> UInt32(32 - keyBits)) })).sorted()
    }

    /// Aligns two fingerprints at the offset (within ``maximumOffset``) where most bits agree.
    /// Offsets where they overlap by less than half the shorter one are not tried (a few sub-fingerprints can agree
    /// by chance). Returns nil when either is empty.
    public static func match(_ first: [UInt32], _ second: [UInt32]) -> FingerprintMatch? {
        let minimumOverlap = max(1, min(first.count, second.count) / 2)
        var best: (similarity: Double, offset: Int, overlap: Int)?
        for offset in -maximumOffset...maximumOffset {
            // second[j] lines up with first[j + offset].
            let start = max(0, -offset)
            let end = min(second.count, first.count - offset)
            guard end - start >= minimumOverlap else { continue }
            var differing = 0
            for j in start..<end {
                differing += (first[j + offset] ^ second[j]).nonzeroBitCount
            }
            let overlap = end - start
            let similarity = 1 - Double(differing) / Double(32 * overlap)
            if let current = best, similarity <= current.similarity { continue }
            best = (similarity, offset, overlap)
        }
        guard let best else { return nil }
        return FingerprintMatch(
            similarity: best.similarity,
            offsetSeconds: Double(best.offset) * Fingerprint.itemSeconds,
            coverage: Double(best.overlap) / Double(max(first.count, second.count))
        )
    }
}
