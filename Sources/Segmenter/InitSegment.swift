/// Builds the CMAF header: `ftyp` and `moov` for one audio track.
enum InitSegment {
    struct Bitrates {
        /// Largest access unit, in bytes (`bufferSizeDB`).
        var bufferSize: Int
        var maximum: Int
        var average: Int
    }

    static let trackID: UInt32 = 1

    static func bytes(format: TrackFormat, presentationSamples: Int64, bitrates: Bitrates) -> [UInt8] {
        var writer = ByteWriter()
        writer.box("ftyp") { box in
            box.fourCC("cmfc")
            box.u32(0)
            for brand in ["cmfc", "iso6", "mp41", "dash"] + (format.protection == nil ? [] : ["cbcs"]) { box.fourCC(brand) }
        }
        writer.box("moov") { moov in
            movieHeader(format: format, into: &moov)
            moov.box("trak") { trak in
                trackHeader(presentationSamples: presentationSamples, into: &trak)
                trak.box("edts") { edts in
                    // One edit: skip the priming, present the source's length.
                    edts.fullBox("elst", version: 1, flags: 0) { elst in
                        elst.u32(1)
                        elst.u64(UInt64(presentationSamples))
                        elst.u64(UInt64(format.primingSamples))
                        elst.i16(1)
                        elst.i16(0)
                    }
                }
                trak.box("mdia") { mdia in
                    mdia.fullBox("mdhd", version: 0, flags: 0) { mdhd in
                        mdhd.u32(0)
                        mdhd.u32(0)
                        mdhd.u32(UInt32(format.sampleRate))
                        mdhd.u32(0)
                        mdhd.u16(0x55C4)  // language "und"
                        mdhd.u16(0)
                    }
                    mdia.fullBox("hdlr", version: 0, flags: 0) { hdlr in
                        hdlr.u32(0)
                        hdlr.fourCC("soun")
                        hdlr.zeros(12)
                        hdlr.bytes(Array("SoundHandler".utf8) + [0])
                    }
                    mdia.box("minf") { minf in
                        minf.fullBox("smhd", version: 0, flags: 0) { smhd in
                            smhd.u16(0)
                            smhd.u16(0)
                        }
                        minf.box("dinf") { dinf in
                            dinf.fullBox("dref", version: 0, flags: 0) { dref in
                                dref.u32(1)
                                dref.fullBox("url ", version: 0, flags: 1) { _ in }
                            }
                        }
                        minf.box("stbl") { stbl in
                            stbl.fullBox("stsd", version: 0, flags: 0) { stsd in
                                stsd.u32(1)
                                sampleEntry(format: format, bitrates: bitrates, into: &stsd)
                            }
                            stbl.fullBox("stts", version: 0, flags: 0) { $0.u32(0) }
                            stbl.fullBox("stsc", version: 0, flags: 0) { $0.u32(0) }
                            stbl.fullBox("stsz", version: 0, flags: 0) { stsz in
                                stsz.u32(0)
                                stsz.u32(0)
                            }
                            stbl.fullBox("stco", version: 0, flags: 0) { $0.u32(0) }
                        }
                    }
                }
            }
            if let protection = format.protection {
                // The ClearKey `pssh` (v1, key ids, no data): what an EME player's `encrypted` event hands over.
                moov.fullBox("pssh", version: 1, flags: 0) { pssh in
                    pssh.bytes(TrackProtection.clearKeySystemID)
                    pssh.u32(1)
                    pssh.bytes(protection.keyID)
                    pssh.u32(0)
                }
            }
            moov.box("mvex") { mvex in
                mvex.fullBox("mehd", version: 1, flags: 0) { $0.u64(UInt64(presentationSamples)) }
                mvex.fullBox("trex", version: 0, flags: 0) { trex in
                    trex.u32(trackID)
                    trex.u32(1)
                    trex.u32(UInt32(format.frameSize))
                    trex.u32(0)
                    trex.u32(0)
                }
            }
        }
        return writer.bytes
    }

    private static let identityMatrix: [UInt32] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]

    private static func movieHeader(format: TrackFormat, into writer: inout ByteWriter) {
        writer.fullBox("mvhd", version: 0, flags: 0) { mvhd in
            mvhd.u32(0)  // creation time: none, so output is reproducible
            mvhd.u32(0)  // modification time
            mvhd.u32(UInt32(format.sampleRate))
            mvhd.u32(0)  // duration of the samples in moov: none, they are in fragments
            mvhd.u32(0x0001_0000)  // rate 1.0
            mvhd.u16(0x0100)  // volume 1.0
            mvhd.zeros(10)
            for value in identityMatrix { mvhd.u32(value) }
            mvhd.zeros(24)
            mvhd.u32(trackID + 1)
        }
    }

    private static func trackHeader(presentationSamples: Int64, into writer: inout ByteWriter) {
        writer.fullBox("tkhd", version: 1, flags: 0x000003) { tkhd in
            tkhd.u64(0)
            tkhd.u64(0)
            tkhd.u32(trackID)
            tkhd.u32(0)
            tkhd.u64(UInt64(presentationSamples))
            tkhd.zeros(8)
            tkhd.u16(0)  // layer
            tkhd.u16(1)  // alternate group: audio
            tkhd.u16(0x0100)  // volume 1.0
            tkhd.u16(0)
            for value in identityMatrix { tkhd.u32(value) }
            tkhd.u32(0)  // width
            tkhd.u32(0)  // height
        }
    }

    private static func sampleEntry(format: TrackFormat, bitrates: Bitrates, into writer: inout ByteWriter) {
        writer.box(format.protection == nil ? format.sampleEntry.fourCC : "enca") { entry in
            entry.zeros(6)
            entry.u16(1)  // data reference index
            entry.zeros(8)
            entry.u16(UInt16(format.channels))
            entry.u16(UInt16(format.sampleEntry.sampleSize))
            entry.u16(0)
            entry.u16(0)
            // 16.16 fixed point; a rate above 65535 Hz is written as 0 and read from the codec's own header
            // (isoflac.txt; what FFmpeg's muxer does).
            entry.u32(format.sampleRate <= 0xFFFF ? UInt32(format.sampleRate) << 16 : 0)
            switch format.sampleEntry {
            case let .aac(audioSpecificConfig):
                entry.fullBox("esds", version: 0, flags: 0) { esds in
                    esds.descriptor(tag: 0x03) { elementaryStream in
                        elementaryStream.u16(UInt16(trackID))
                        elementaryStream.u8(0)
                        elementaryStream.descriptor(tag: 0x04) { decoderConfig in
                            decoderConfig.u8(0x40)  // Audio ISO/IEC 14496-3
                            decoderConfig.u8(0x15)  // audio stream, upstream 0, reserved 1
                            decoderConfig.u24(UInt32(bitrates.bufferSize))
                            decoderConfig.u32(UInt32(bitrates.maximum))
                            decoderConfig.u32(UInt32(bitrates.average))
                            decoderConfig.descriptor(tag: 0x05) { $0.bytes(audioSpecificConfig) }
                        }
                        elementaryStream.descriptor(tag: 0x06) { $0.u8(0x02) }
                    }
                }
            case let .opus(configuration):
                entry.box("dOps") { dOps in
                    dOps.u8(0)
                    dOps.u8(configuration.outputChannelCount)
                    dOps.u16(configuration.preSkip)
                    dOps.u32(configuration.inputSampleRate)
                    dOps.i16(configuration.outputGain)
                    dOps.u8(configuration.channelMappingFamily)
                    dOps.bytes(configuration.channelMappingTable)
                }
            case let .flac(streamInfo):
                entry.fullBox("dfLa", version: 0, flags: 0) { dfLa in
                    // One metadata block, STREAMINFO (type 0), marked last.
                    dfLa.u8(0x80)
                    dfLa.u24(UInt32(streamInfo.count))
                    dfLa.bytes(streamInfo)
                }
            }
            entry.box("btrt") { btrt in
                btrt.u32(UInt32(bitrates.bufferSize))
                btrt.u32(UInt32(bitrates.maximum))
                btrt.u32(UInt32(bitrates.average))
            }
            if let protection = format.protection {
                protectionScheme(protection, original: format.sampleEntry.fourCC, into: &entry)
            }
        }
    }

    /// `sinf` (ISO/IEC 23001-7 §8): the original format, the scheme, and `tenc` with the key id and IV size.
    private static func protectionScheme(_ protection: TrackProtection, original: String, into writer: inout ByteWriter) {
        writer.box("sinf") { sinf in
            sinf.box("frma") { $0.fourCC(original) }
            sinf.fullBox("schm", version: 0, flags: 0) { schm in
                schm.fourCC(protection.scheme)
                schm.u32(0x0001_0000)
            }
            sinf.box("schi") { schi in
                schi.fullBox("tenc", version: 1, flags: 0) { tenc in
                    tenc.u8(0)
                    tenc.u8(0)  // crypt and skip blocks: 0 and 0, no pattern (audio)
                    tenc.u8(1)  // protected
                    tenc.u8(UInt8(TrackProtection.ivSize))
                    tenc.bytes(protection.keyID)
                }
            }
        }
    }
}
