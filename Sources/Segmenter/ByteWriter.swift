/// Builds big-endian ISO BMFF structures in memory.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(value) }
    mutating func u24(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
    mutating func u32(_ value: UInt32) { append(value) }
    mutating func u64(_ value: UInt64) { append(value) }
    mutating func i16(_ value: Int16) { append(UInt16(bitPattern: value)) }
    mutating func i32(_ value: Int32) { append(UInt32(bitPattern: value)) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func bytes(_ values: [UInt8]) { bytes.append(contentsOf: values) }

    /// A four-character code such as `moov`.
    mutating func fourCC(_ code: String) {
        precondition(code.utf8.count == 4, "four-character code expected, got \(code)")
        bytes.append(contentsOf: code.utf8)
    }

    /// Writes a box: size, type, then whatever `content` writes.
    mutating func box(_ type: String, _ content: (inout ByteWriter) -> Void) {
        let start = bytes.count
        u32(0)
        fourCC(type)
        content(&self)
        patchU32(at: start, UInt32(bytes.count - start))
    }

    /// Writes a full box: a box whose content starts with a version byte and 24 bits of flags.
    mutating func fullBox(_ type: String, version: UInt8, flags: UInt32, _ content: (inout ByteWriter) -> Void) {
        box(type) { writer in
            writer.u8(version)
            writer.u24(flags)
            content(&writer)
        }
    }

    /// Writes an MPEG-4 descriptor (ISO/IEC 14496-1): tag, a four-byte size, content.
    mutating func descriptor(tag: UInt8, _ content: (inout ByteWriter) -> Void) {
        var body = ByteWriter()
        content(&body)
        u8(tag)
        let size = UInt32(body.count)
        u8(0x80 | UInt8((size >> 21) & 0x7F))
        u8(0x80 | UInt8((size >> 14) & 0x7F))
        u8(0x80 | UInt8((size >> 7) & 0x7F))
        u8(UInt8(size & 0x7F))
        bytes(body.bytes)
    }

    mutating func patchU32(at offset: Int, _ value: UInt32) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
