/// A byte range inside a file.
public struct ByteRange: Sendable, Equatable, Codable {
    public var offset: Int
    public var length: Int

    enum CodingKeys: String, CodingKey {
        case offset = "o", length = "l"
    }

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// Last byte, inclusive, as HTTP ranges and DASH `@indexRange` count.
    public var lastByte: Int { offset + length - 1 }
}

/// How a rendition is laid out on disk.
public enum SegmentLayout: String, Sendable, Codable {
    /// One file per rendition (init, `sidx`, then fragments), addressed by byte ranges.
    case singleFile
    /// An init file and one file per fragment.
    case segmentFiles
}

/// One fragment (moof + mdat) as written.
public struct Fragment: Sendable, Equatable, Codable {
    /// Decode time of its first sample, in the track timescale (the sample rate).
    public var startTime: Int64
    /// Duration in the track timescale.
    public var duration: Int64
    /// Bytes, including the `styp` of a separate segment file.
    public var size: Int
    /// Where it lies in the rendition file (single-file layout).
    public var byteRange: ByteRange?
    /// Its file name, relative to the output directory (segment-file layout).
    public var fileName: String?

    public init(startTime: Int64, duration: Int64, size: Int, byteRange: ByteRange?, fileName: String?) {
        self.startTime = startTime
        self.duration = duration
        self.size = size
        self.byteRange = byteRange
        self.fileName = fileName
    }

    /// One-letter keys: a catalog keeps a table of these for every rendition.
    enum CodingKeys: String, CodingKey {
        case startTime = "t", duration = "d", size = "s", byteRange = "r", fileName = "f"
    }
}

/// What a ``CMAFWriter`` wrote, with every number a manifest needs. Codable, so a rendition kept from an earlier
/// run can be described in new manifests without reading its file again.
public struct SegmentedTrack: Sendable, Equatable, Codable {
    public var format: TrackFormat
    public var layout: SegmentLayout
    /// The file holding the init segment: the rendition file itself, or `NAME/init.mp4`; relative to the output
    /// directory.
    public var initializationFile: String
    /// The init segment (`ftyp` + `moov`) within ``initializationFile``.
    public var initialization: ByteRange
    /// The `sidx` box (single-file layout).
    public var index: ByteRange?
    public var fragments: [Fragment]
    /// Samples after the edit list: the audio a player presents.
    public var presentationSamples: Int64
    /// Bytes written in all.
    public var totalSize: Int

    public init(
        format: TrackFormat, layout: SegmentLayout, initializationFile: String, initialization: ByteRange,
        index: ByteRange?, fragments: [Fragment], presentationSamples: Int64, totalSize: Int
    ) {
        self.format = format
        self.layout = layout
        self.initializationFile = initializationFile
        self.initialization = initialization
        self.index = index
        self.fragments = fragments
        self.presentationSamples = presentationSamples
        self.totalSize = totalSize
    }

    /// Seconds a player presents.
    public var presentationDuration: Double { Double(presentationSamples) / Double(format.sampleRate) }
}

/// Bit rates for the `esds` and `btrt` boxes.
extension [Fragment] {
    /// Highest bit rate of any one fragment, in bits per second, for a track at `sampleRate`.
    func peakBitrate(sampleRate: Int) -> Int {
        map { Int((Double($0.size * 8) * Double(sampleRate) / Double($0.duration)).rounded(.up)) }.max() ?? 0
    }

    /// All fragment bytes over their total duration, in bits per second.
    func averageBitrate(sampleRate: Int) -> Int {
        let bits = reduce(0) { $0 + $1.size * 8 }
        let ticks = reduce(Int64(0)) { $0 + $1.duration }
        guard ticks > 0 else { return 0 }
        return Int((Double(bits) * Double(sampleRate) / Double(ticks)).rounded(.up))
    }
}

/// Why writing a CMAF track failed.
public enum SegmenterError: Error, Sendable, Equatable, CustomStringConvertible {
    case io(path: String, detail: String)
    case noAudio(path: String)
    case encryption(detail: String)

    public var description: String {
        switch self {
        case let .io(path, detail):
            return "\(path): cannot write (\(detail)); check free space and permissions of the work directory"
        case let .noAudio(path):
            return "\(path): the encoder produced no audio, nothing to package"
        case let .encryption(detail):
            return "encrypting a sample failed (\(detail)); this is an internal error, please report it"
        }
    }
}
