import Foundation

/// A histogram of a track's 400 ms gating blocks (BS.1770), in 0.01 LU bins above the -70 LUFS absolute gate.
/// Stored with each track, it lets an album's integrated loudness be gated over all its tracks' blocks together,
/// as ReplayGain 2.0 album gain asks, even when the tracks were measured in different runs.
public struct GatingBlocks: Sendable, Equatable {
    /// Blocks per bin; bin `b` holds blocks of loudness `b / 100` LUFS, rounded.
    public private(set) var counts: [Int: Int] = [:]

    static let absoluteGate = -70.0
    static let relativeGate = -10.0

    public init(counts: [Int: Int] = [:]) {
        self.counts = counts
    }

    mutating func add(loudness: Double) {
        guard loudness.isFinite, loudness >= Self.absoluteGate else { return }
        counts[Int((loudness * 100).rounded()), default: 0] += 1
    }

    /// Integrated loudness of these blocks with any others, gated together (nil for silence).
    public static func integratedLoudness(of parts: [GatingBlocks]) -> Double? {
        var merged: [Int: Int] = [:]
        for part in parts {
            merged.merge(part.counts, uniquingKeysWith: +)
        }
        func energy(_ bin: Int) -> Double { pow(10, (Double(bin) / 100 + 0.691) / 10) }
        func meanEnergy(_ bins: [Int: Int]) -> Double? {
            let blocks = bins.values.reduce(0, +)
            guard blocks > 0 else { return nil }
            // Summed in bin order: a dictionary's order changes from process to process, and so would the last
            // digits of the sum, and the album gain with them.
            return bins.keys.sorted().reduce(0.0) { $0 + energy($1) * Double(bins[$1] ?? 0) } / Double(blocks)
        }
        guard let ungated = meanEnergy(merged) else { return nil }
        let threshold = -0.691 + 10 * log10(ungated) + relativeGate
        guard let gated = meanEnergy(merged.filter { Double($0.key) / 100 >= threshold }) else { return nil }
        return -0.691 + 10 * log10(gated)
    }

    /// Encodes for storage as compact JSON (`{"bin": count}`, keys sorted).
    public var encoded: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(counts.mapKeys(String.init))) ?? Data("{}".utf8)
    }

    /// Decodes what ``encoded`` stored; nil when it is not such data.
    public init?(encoded data: Data) {
        guard let strings = try? JSONDecoder().decode([String: Int].self, from: data) else { return nil }
        var counts: [Int: Int] = [:]
        for (key, value) in strings {
            guard let bin = Int(key) else { return nil }
            counts[bin] = value
        }
        self.counts = counts
    }
}

extension Dictionary {
    fileprivate func mapKeys<T: Hashable>(_ transform: (Key) -> T) -> [T: Value] {
        Dictionary<T, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
