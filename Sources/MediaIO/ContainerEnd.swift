import Foundation

/// Whether a file ends where its container says it does. A file cut short in transfer can end at a page or
/// cluster boundary, where demuxers just stop and the lost audio goes unnoticed; these containers mark their end
/// in a way the cut removes.
enum ContainerEnd {
    /// What is missing from the end of the file at `path`, read as FFmpeg's demuxer `container`; nil when the
    /// file ends as its container says, or the container marks no end.
    static func missingMark(path: String, container: String) -> String? {
        switch container {
        case "ogg":
            oggFinished(path: path) ? nil : "Ogg end-of-stream page"
        case "matroska,webm":
            matroskaComplete(path: path) ? nil : "Matroska segment's declared end"
        default:
            nil
        }
    }

    // MARK: Ogg

    /// The largest Ogg page: a 27-byte header, 255 lacing values and 255 segments of 255 bytes.
    static let maximumOggPageSize = 27 + 255 + 255 * 255

    /// True when the file's last bytes are a complete page with the end-of-stream flag (RFC 3533, section 6).
    static func oggFinished(path: String) -> Bool {
        guard let tail = tail(of: path, bytes: maximumOggPageSize) else { return false }
        return lastOggPageEndsStream(tail)
    }

    /// Looks for the page that ends exactly at the end of `tail` and reads its end-of-stream flag.
    static func lastOggPageEndsStream(_ tail: [UInt8]) -> Bool {
        let capture = Array("OggS".utf8)
        var position = tail.count - 27
        while position >= 0 {
            defer { position -= 1 }
            guard tail[position..<(position + 4)].elementsEqual(capture) else { continue }
            let segments = Int(tail[position + 26])
            let lacingEnd = position + 27 + segments
            guard lacingEnd <= tail.count else { continue }
            let bodySize = tail[(position + 27)..<lacingEnd].reduce(0) { $0 + Int($1) }
            guard lacingEnd + bodySize == tail.count else { continue }
            return tail[position + 5] & 0x04 != 0
        }
        return false
    }

    // MARK: Matroska

    /// True unless the Segment element declares more bytes than the file holds (RFC 9559: the EBML header, then
    /// the Segment with its size; an unknown size, as live recordings write, declares nothing).
    static func matroskaComplete(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let fileSize = try? handle.seekToEnd(), (try? handle.seek(toOffset: 0)) != nil,
              let head = try? handle.read(upToCount: 4096) else { return false }
        var reader = EBMLReader(bytes: [UInt8](head))
        guard let headerID = reader.elementID(), headerID == 0x1A45_DFA3, let headerSize = reader.size(),
              reader.skip(headerSize), let segmentID = reader.elementID(), segmentID == 0x1853_8067 else { return false }
        guard let segmentSize = reader.size() else { return true }
        let (end, overflow) = UInt64(reader.position).addingReportingOverflow(segmentSize)
        return !overflow && end <= fileSize
    }

    /// Reads EBML variable-length integers from the start of a file.
    private struct EBMLReader {
        let bytes: [UInt8]
        var position = 0

        /// An element ID, its length marker kept.
        mutating func elementID() -> UInt64? { vint(keepMarker: true) }

        /// An element data size; nil for "unknown" (every value bit set) or when the bytes run out.
        mutating func size() -> UInt64? {
            let start = position
            guard let value = vint(keepMarker: false) else { return nil }
            let length = position - start
            return value == (UInt64(1) << UInt64(7 * length)) - 1 ? nil : value
        }

        mutating func skip(_ count: UInt64) -> Bool {
            guard count <= UInt64(bytes.count - position) else { return false }
            position += Int(count)
            return true
        }

        private mutating func vint(keepMarker: Bool) -> UInt64? {
            guard position < bytes.count, bytes[position] != 0 else { return nil }
            let length = bytes[position].leadingZeroBitCount + 1
            guard position + length <= bytes.count else { return nil }
            var value = UInt64(keepMarker ? bytes[position] : bytes[position] & (0xFF >> UInt8(length)))
            for offset in 1..<length { value = value << 8 | UInt64(bytes[position + offset]) }
            position += length
            return value
        }
    }

    // MARK: Reading

    /// The last `bytes` bytes of the file (all of a smaller one).
    private static func tail(of path: String, bytes: Int) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size > 0 else { return nil }
        let start = size > UInt64(bytes) ? size - UInt64(bytes) : 0
        guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.readToEnd() else { return nil }
        return [UInt8](data)
    }
}
