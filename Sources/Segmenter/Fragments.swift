/// Builds movie fragments and the segment index.
enum Fragments {
    /// Audio samples are all sync samples: sample_depends_on = 2 (depends on no other sample).
    private static let syncSampleFlags: UInt32 = 0x0200_0000

    /// Writes `moof` + `mdat` for one fragment.
    /// - Parameters:
    ///   - durations: each packet's duration, when one differs from `frameSize` (FLAC's last frame).
    ///   - ivs: each (encrypted) packet's IV, for `senc` with `saiz` and `saio`.
    static func write(
        packets: [[UInt8]], durations: [Int]?, ivs: [[UInt8]]?, sequenceNumber: UInt32, baseMediaDecodeTime: UInt64,
        frameSize: Int, into writer: inout ByteWriter
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
                // data-offset-present | sample-size-present (| sample-duration-present)
                traf.fullBox("trun", version: 0, flags: 0x000001 | 0x000200 | (durations == nil ? 0 : 0x000100)) { trun in
                    trun.u32(UInt32(packets.count))
                    dataOffsetPosition = trun.count
                    trun.i32(0)
                    for (index, packet) in packets.enumerated() {
                        if let durations { trun.u32(UInt32(durations[index])) }
                        trun.u32(UInt32(packet.count))
                    }
                }
                if let ivs {
                    var firstIV = 0
                    traf.fullBox("senc", version: 0, flags: 0) { senc in
                        senc.u32(UInt32(ivs.count))
                        firstIV = senc.count
                        for iv in ivs { senc.bytes(iv) }
                    }
                    traf.fullBox("saiz", version: 0, flags: 0) { saiz in
                        saiz.u8(UInt8(TrackProtection.ivSize))
                        saiz.u32(UInt32(ivs.count))
                    }
                    // Offset of the first IV from the moof (default-base-is-moof).
                    traf.fullBox("saio", version: 0, flags: 0) { saio in
                        saio.u32(1)
                        saio.u32(UInt32(firstIV - moofStart))
                    }
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
