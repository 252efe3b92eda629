import Foundation

/// Writes encoded audio as a CMAF track (ISO/IEC 23000-19, brand `cmfc`): an init segment and fragments of whole
/// access units. Fragments hold `round(targetFragmentDuration × rate / frameSize)` frames, so every rendition of
/// one codec and rate is cut at the same samples; a short remainder (under half a fragment) joins the last
/// fragment instead of standing alone. The encoder's priming is skipped by an edit list. No wall-clock time or
/// tool version is written: the same packets give the same bytes.
///
/// Packets are streamed to disk as fragments complete; memory holds at most two fragments.
public final class CMAFWriter {
    /// The track's format; ``finish(presentationSamples:sampleEntry:)`` may replace its sample entry.
    public private(set) var format: TrackFormat
    public let layout: SegmentLayout
    /// Frames per fragment.
    public let framesPerFragment: Int

    private let directory: URL
    private let name: String
    private let encryptor: SampleEncryptor?
    private var current: [[UInt8]] = []
    /// Each packet's duration: the frame size, but for FLAC's short last frame.
    private var currentDurations: [Int] = []
    private var held: (packets: [[UInt8]], durations: [Int])?
    private var samplesNumbered = 0
    private var fragments: [Fragment] = []
    private var writtenSamples: Int64 = 0
    private var body: FileHandle?
    private var bodySize = 0
    private var largestPacket = 0

    /// - Parameters:
    ///   - directory: where to write; the single-file layout writes `NAME.mp4` there, the segment-file layout
    ///     a folder `NAME` with `init.mp4` and `seg-N.m4s`.
    ///   - name: the rendition's name, e.g. `aac-128k`.
    ///   - encryptor: encrypts every sample (`cbcs`) when given.
    public init(
        format: TrackFormat, layout: SegmentLayout, directory: URL, name: String, targetFragmentDuration: Double = 6,
        encryptor: SampleEncryptor? = nil
    ) throws(SegmenterError) {
        var format = format
        format.protection = encryptor?.protection
        self.format = format
        self.encryptor = encryptor
        self.layout = layout
        self.directory = directory
        self.name = name
        let frames = targetFragmentDuration * Double(format.sampleRate) / Double(format.frameSize)
        framesPerFragment = max(1, Int(frames.rounded()))
        switch layout {
        case .singleFile:
            body = try Self.create(bodyURL)
        case .segmentFiles:
            let folder = directory.appendingPathComponent(name, isDirectory: true)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .io(path: folder.path, detail: error.localizedDescription)
            }
        }
    }

    deinit {
        try? body?.close()
    }

    /// The file a single-file rendition ends up in.
    public var mediaURL: URL { directory.appendingPathComponent(name + ".mp4") }
    private var bodyURL: URL { directory.appendingPathComponent(name + ".mp4.fragments") }

    /// Adds the next access unit, which decodes to `duration` samples (the frame size when nil).
    public func append(_ packet: [UInt8], duration: Int? = nil) throws(SegmenterError) {
        current.append(packet)
        currentDurations.append(duration ?? format.frameSize)
        largestPacket = max(largestPacket, packet.count)
        guard current.count == framesPerFragment else { return }
        if let held { try write(held.packets, durations: held.durations) }
        held = (current, currentDurations)
        current = []
        currentDurations = []
    }

    /// Writes what is still held and the init segment (and, in the single-file layout, the `sidx`).
    /// - Parameter presentationSamples: the source's length at this track's rate; the edit list presents this
    ///   much after the priming, which also trims the encoder's padding at the end.
    /// - Parameter sampleEntry: the codec configuration as the encoder gave it at the end (FLAC's STREAMINFO with
    ///   the stream's MD5), when it differs from the one the writer was made with.
    public func finish(presentationSamples: Int64, sampleEntry: AudioSampleEntry? = nil) throws(SegmenterError) -> SegmentedTrack {
        if let sampleEntry { format.sampleEntry = sampleEntry }
        if var held {
            if !current.isEmpty && current.count * 2 < framesPerFragment {
                held.packets += current
                held.durations += currentDurations
                current = []
            }
            try write(held.packets, durations: held.durations)
            self.held = nil
        }
        if !current.isEmpty { try write(current, durations: currentDurations) }
        current = []
        guard !fragments.isEmpty else { throw .noAudio(path: directory.appendingPathComponent(name).path) }

        let available = writtenSamples - Int64(format.primingSamples)
        let presented = max(0, min(presentationSamples, available))
        let initSegment = InitSegment.bytes(
            format: format, presentationSamples: presented, bitrates: bitrates()
        )
        switch layout {
        case .singleFile:
            return try assembleSingleFile(initSegment: initSegment, presentationSamples: presented)
        case .segmentFiles:
            let initPath = "\(name)/init.mp4"
            try Self.writeFile(directory.appendingPathComponent(initPath), initSegment)
            let total = initSegment.count + fragments.reduce(0) { $0 + $1.size }
            return SegmentedTrack(
                format: format, layout: layout, initializationFile: initPath,
                initialization: ByteRange(offset: 0, length: initSegment.count), index: nil,
                fragments: fragments, presentationSamples: presented, totalSize: total
            )
        }
    }

    // MARK: Fragments

    private func write(_ clear: [[UInt8]], durations: [Int]) throws(SegmenterError) {
        let sequenceNumber = UInt32(fragments.count + 1)
        var packets = clear
        var ivs: [[UInt8]]?
        if let encryptor {
            let numbers = samplesNumbered..<(samplesNumbered + clear.count)
            ivs = numbers.map { encryptor.iv(ofSample: $0) }
            for index in packets.indices { packets[index] = try encryptor.encrypt(clear[index], iv: ivs?[index] ?? []) }
        }
        samplesNumbered += clear.count
        let startTime = writtenSamples
        var writer = ByteWriter()
        if layout == .segmentFiles {
            writer.box("styp") { box in
                box.fourCC("msdh")
                box.u32(0)
                box.fourCC("msdh")
                box.fourCC("cmfs")
            }
        }
        let uniform = durations.allSatisfy { $0 == format.frameSize }
        Fragments.write(
            packets: packets, durations: uniform ? nil : durations, ivs: ivs, sequenceNumber: sequenceNumber,
            baseMediaDecodeTime: UInt64(startTime), frameSize: format.frameSize, into: &writer
        )
        let duration = Int64(durations.reduce(0, +))
        writtenSamples += duration
        switch layout {
        case .singleFile:
            guard let body else { return }
            do {
                try body.write(contentsOf: writer.bytes)
            } catch {
                throw .io(path: bodyURL.path, detail: error.localizedDescription)
            }
            fragments.append(Fragment(
                startTime: startTime, duration: duration, size: writer.count,
                byteRange: ByteRange(offset: bodySize, length: writer.count), fileName: nil
            ))
            bodySize += writer.count
        case .segmentFiles:
            let fileName = "seg-\(sequenceNumber).m4s"
            try Self.writeFile(directory.appendingPathComponent(name).appendingPathComponent(fileName), writer.bytes)
            fragments.append(Fragment(
                startTime: startTime, duration: duration, size: writer.count, byteRange: nil,
                fileName: "\(name)/\(fileName)"
            ))
        }
    }

    private func bitrates() -> InitSegment.Bitrates {
        InitSegment.Bitrates(
            bufferSize: largestPacket, maximum: fragments.peakBitrate(sampleRate: format.sampleRate),
            average: fragments.averageBitrate(sampleRate: format.sampleRate)
        )
    }

    // MARK: Single file

    private func assembleSingleFile(initSegment: [UInt8], presentationSamples: Int64) throws(SegmenterError) -> SegmentedTrack {
        do {
            try body?.close()
        } catch {
            throw .io(path: bodyURL.path, detail: error.localizedDescription)
        }
        body = nil
        var index = ByteWriter()
        Fragments.writeSegmentIndex(
            fragments: fragments, timescale: UInt32(format.sampleRate), into: &index
        )
        let fragmentsStart = initSegment.count + index.count
        let placed = fragments.map { fragment -> Fragment in
            var moved = fragment
            moved.byteRange = fragment.byteRange.map { ByteRange(offset: $0.offset + fragmentsStart, length: $0.length) }
            return moved
        }

        let output = try Self.create(mediaURL)
        defer { try? output.close() }
        do {
            try output.write(contentsOf: initSegment)
            try output.write(contentsOf: index.bytes)
            let input = try FileHandle(forReadingFrom: bodyURL)
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try output.write(contentsOf: chunk)
            }
            try output.close()
            try FileManager.default.removeItem(at: bodyURL)
        } catch {
            throw .io(path: mediaURL.path, detail: error.localizedDescription)
        }
        return SegmentedTrack(
            format: format, layout: layout, initializationFile: mediaURL.lastPathComponent,
            initialization: ByteRange(offset: 0, length: initSegment.count),
            index: ByteRange(offset: initSegment.count, length: index.count),
            fragments: placed, presentationSamples: presentationSamples, totalSize: fragmentsStart + bodySize
        )
    }

    // MARK: Files

    private static func create(_ url: URL) throws(SegmenterError) -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw .io(path: url.path, detail: "cannot create the file")
        }
        return handle
    }

    private static func writeFile(_ url: URL, _ bytes: [UInt8]) throws(SegmenterError) {
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw .io(path: url.path, detail: error.localizedDescription)
        }
    }
}
