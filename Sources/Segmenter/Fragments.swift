/// Builds movie fragments and the segment index.
enum Fragments {
    /// Audio samples are all sync samples: sample_depends_on = 2 (depends on no other sample).
    private static let syncSampleFlags: UInt32 = 0x0200_0000

    /// Writes `moof` + `mdat` for one fragment.
    static func write(
        packets: [[UInt8]], sequenceNumber: UInt32, baseMediaDecodeTime: UInt64, frameSize: Int,
        into writer: inout ByteWriter
    ) {
        let moofStart = writer.count
        var dataOffsetPosition = 0
        writer.box("moof") { moof in
            moof.fullBox("mfhd", version: 0, flags: 0) { $0.u32(sequenceNumber) }
            moof.box("traf") { traf in
                // default-base-is-moof | default-sample-flags | default-sample-duration
                traf.fullBox("tfhd", version: 0, flags: 0x020000 | 0x000020 | 0x000008) { tfhd in
                    tfhd.u32(InitSegment.trackID)
                    tfhd.u32(UInt32(frameSize))
                    tfhd.u32(syncSampleFlags)
                }
                traf.fullBox("tfdt", version: 1, flags: 0) { $0.u64(baseMediaDecodeTime) }
                // data-offset-present | sample-size-present
                traf.fullBox("trun", version: 0, flags: 0x000001 | 0x000200) { trun in
                    trun.u32(UInt32(packets.count))
                    dataOffsetPosition = trun.count
                    trun.i32(0)
                    for packet in packets { trun.u32(UInt32(packet.count)) }
                }
            }
        }
        let moofSize = writer.count - moofStart
        writer.patchU32(at: dataOffsetPosition, UInt32(moofSize + 8))
        writer.box("mdat") { mdat in
            for packet in packets { mdat.bytes(packet) }
        }
    }

    /// Writes a `sidx` indexing `fragments`, which follow it directly.
    static func writeSegmentIndex(fragments: [Fragment], timescale: UInt32, into writer: inout ByteWriter) {
        writer.fullBox("sidx", version: 1, flags: 0) { sidx in
            sidx.u32(InitSegment.trackID)
            sidx.u32(timescale)
            sidx.u64(UInt64(fragments.first?.startTime ?? 0))  // earliest presentation time = first tfdt
            sidx.u64(0)  // first offset: fragments start right after this box
            sidx.u16(0)
            sidx.u16(UInt16(fragments.count))
            for fragment in fragments {
                sidx.u32(UInt32(fragment.size) & 0x7FFF_FFFF)  // reference type 0: media
                sidx.u32(UInt32(fragment.duration))
                sidx.u32(0x9000_0000)  // starts with SAP, SAP type 1
            }
        }
    }
}
