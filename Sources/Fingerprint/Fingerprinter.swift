internal import CChromaprint

/// Why Chromaprint could not fingerprint a stream.
public struct FingerprintError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Computes a Chromaprint fingerprint with the algorithm `fpcalc` uses by default, from 16-bit mono samples at
/// ``sampleRate`` fed in pieces (Chromaprint keeps only a few seconds of audio, whatever the length).
///
/// To match `fpcalc`, feed audio converted the way it converts (see `PCMFormat.Conversion.fpcalc` in MediaIO).
/// An instance is not thread-safe; confine it to one thread.
public final class Fingerprinter {
    /// The rate Chromaprint works at (11025 Hz).
    public static let sampleRate = 11_025
    /// `fpcalc`'s default `-length`: the fingerprint AcoustID looks up covers the first 120 seconds.
    public static let lookupSeconds = 120
    /// The linked library, e.g. `chromaprint 1.5.1`: part of a fingerprint's provenance.
    public static var libraryVersion: String { "chromaprint " + String(cString: chromaprint_get_version()) }

    private var context: OpaquePointer?
    /// Samples still accepted, nil without a limit.
    private var remaining: Int?

    /// Starts a fingerprint of the first `limitSeconds` of the stream (like `fpcalc -length`), or of all of it.
    public init(limitSeconds: Int? = nil) throws(FingerprintError) {
        guard let context = chromaprint_new(Int32(CHROMAPRINT_ALGORITHM_DEFAULT.rawValue)) else {
            throw FingerprintError(description: "Chromaprint could not allocate a context (out of memory)")
        }
        self.context = context
        remaining = limitSeconds.map { $0 * Self.sampleRate }
        guard chromaprint_start(context, Int32(Self.sampleRate), 1) == 1 else {
            throw FingerprintError(description: "Chromaprint refused to start at \(Self.sampleRate) Hz mono")
        }
    }

    deinit { chromaprint_free(context) }

    /// Whether the limit has been reached, so further samples are ignored.
    public var isFull: Bool { remaining == 0 }

    /// Feeds mono samples given as floats that hold 16-bit values (sample / 32768), as the fpcalc conversion
    /// produces them; samples past the limit are ignored.
    public func feed(_ samples: [Float]) throws(FingerprintError) {
        let count = min(samples.count, remaining ?? samples.count)
        guard count > 0 else { return }
        let converted = samples.prefix(count).map { Int16(clamping: Int32(($0 * 32768).rounded())) }
        let accepted = converted.withUnsafeBufferPointer { chromaprint_feed(context, $0.baseAddress, Int32(count)) }
        guard accepted == 1 else { throw FingerprintError(description: "Chromaprint rejected audio data") }
        remaining = remaining.map { $0 - count }
    }

    /// Ends the stream and returns the fingerprint; nil when the audio was too short to give any (about 3 s).
    public func finish() throws(FingerprintError) -> Fingerprint? {
        guard chromaprint_finish(context) == 1 else {
            throw FingerprintError(description: "Chromaprint could not finish the fingerprint")
        }
        var data: UnsafeMutablePointer<UInt32>?
        var size: Int32 = 0
        guard chromaprint_get_raw_fingerprint(context, &data, &size) == 1 else {
            throw FingerprintError(description: "Chromaprint returned no fingerprint")
        }
        defer { chromaprint_dealloc(data) }
        guard let data, size > 0 else { return nil }
        return try Fingerprint(raw: Array(UnsafeBufferPointer(start: data, count: Int(size))))
    }
}
