/// The codec-specific part of a CMAF audio track.
public enum AudioSampleEntry: Sendable, Equatable, Codable {
    /// AAC: `mp4a` with an `esds` carrying the AudioSpecificConfig.
    case aac(audioSpecificConfig: [UInt8])
    /// Opus: `Opus` with a `dOps` box, built from the encoder's OpusHead.
    case opus(OpusConfiguration)
    /// FLAC (xiph/flac doc/isoflac.txt): `fLaC` with a `dfLa` box holding the 34-byte STREAMINFO block.
    case flac(streamInfo: [UInt8])

    /// The four-character code of the sample entry, which is also the RFC 6381 codec name for Opus and FLAC.
    public var fourCC: String {
        switch self {
        case .aac: "mp4a"
        case .opus: "Opus"
        case .flac: "fLaC"
        }
    }

    /// Bits per sample the sample entry declares: FLAC's from its STREAMINFO, 16 for the lossy codecs.
    public var sampleSize: Int {
        guard case let .flac(streamInfo) = self, streamInfo.count >= 14 else { return 16 }
        return (Int(streamInfo[12] & 0x01) << 4 | Int(streamInfo[13] >> 4)) + 1
    }
}

/// The fields of an OpusHead (RFC 7845 §5.1) that the `dOps` box repeats.
public struct OpusConfiguration: Sendable, Equatable, Codable {
    public var outputChannelCount: UInt8
    public var preSkip: UInt16
    public var inputSampleRate: UInt32
    public var outputGain: Int16
    public var channelMappingFamily: UInt8
    /// Stream count, coupled count and mapping table; empty for mapping family 0.
    public var channelMappingTable: [UInt8]

    /// Parses an OpusHead packet (as FFmpeg's libopus encoder puts in its extradata).
    public init?(opusHead bytes: [UInt8]) {
        guard bytes.count >= 19, bytes.starts(with: Array("OpusHead".utf8)) else { return nil }
        func littleEndian(_ offset: Int, _ length: Int) -> UInt32 {
            (0..<length).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
        }
        outputChannelCount = bytes[9]
        preSkip = UInt16(littleEndian(10, 2))
        inputSampleRate = littleEndian(12, 4)
        outputGain = Int16(bitPattern: UInt16(littleEndian(16, 2)))
        channelMappingFamily = bytes[18]
        channelMappingTable = channelMappingFamily == 0 ? [] : Array(bytes[19...])
    }
}

/// Everything the init segment says about a track.
public struct TrackFormat: Sendable, Equatable, Codable {
    public var sampleEntry: AudioSampleEntry
    /// Sample rate; also the media and movie timescale, so that frame durations are whole ticks.
    public var sampleRate: Int
    public var channels: Int
    /// Samples in every access unit.
    public var frameSize: Int
    /// Samples the encoder put in front of the audio; the edit list skips them.
    public var primingSamples: Int
    /// Set when the samples are encrypted.
    public var protection: TrackProtection?

    public init(
        sampleEntry: AudioSampleEntry, sampleRate: Int, channels: Int, frameSize: Int, primingSamples: Int,
        protection: TrackProtection? = nil
    ) {
        self.sampleEntry = sampleEntry
        self.sampleRate = sampleRate
        self.channels = channels
        self.frameSize = frameSize
        self.primingSamples = primingSamples
        self.protection = protection
    }
}
