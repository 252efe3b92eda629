import Foundation

/// Waveform peaks in audiowaveform's data format, version 2 (bbc/audiowaveform, doc/DataFormat.md): for each
/// pixel the minimum and maximum sample, per channel or with channels merged.
public struct WaveformData: Sendable, Equatable {
    public var sampleRate: Int
    public var samplesPerPixel: Int
    /// 8 or 16.
    public var bits: Int
    /// Channels stored: 1 when merged.
    public var channels: Int
    /// Per pixel, per channel: minimum then maximum, in the range of `bits`.
    public var values: [Int16]

    /// Pixels (min/max pairs per channel).
    public var length: Int { values.count / (2 * channels) }

    /// The JSON form (`version` 2), as `audiowaveform --output-format json` writes it. Numbers are written
    /// straight into the bytes, without an intermediate string per value (a 2-hour track has 1.4 million).
    public var json: Data {
        var bytes = Array("{\"version\":2,\"channels\":\(channels),\"sample_rate\":\(sampleRate),"
            .utf8)
        bytes += Array("\"samples_per_pixel\":\(samplesPerPixel),\"bits\":\(bits),\"length\":\(length),\"data\":[".utf8)
        bytes.reserveCapacity(bytes.count + values.count * 5 + 3)
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: String(value).utf8)
        }
        bytes += Array("]}\n".utf8)
        return Data(bytes)
    }

    /// The binary `.dat` form (version 2, little-endian): a 24-byte header, then the values as int8 or int16.
    public var binary: Data {
        var data = Data(capacity: 24 + values.count * bits / 8)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        append(Int32(2))
        append(UInt32(bits == 8 ? 1 : 0))
        append(Int32(sampleRate))
        append(Int32(samplesPerPixel))
        append(UInt32(length))
        append(Int32(channels))
        for value in values {
            if bits == 8 { append(Int8(clamping: value)) } else { append(value) }
        }
        return data
    }
}

/// Builds ``WaveformData`` from interleaved float samples fed in pieces, the way audiowaveform computes it: each
/// sample as 16-bit, channels merged by averaging (integer division), min and max per `samplesPerPixel` frames
/// (the last pixel may hold fewer), divided by 256 for 8 bits.
public struct WaveformBuilder: Sendable {
    public let sampleRate: Int
    public let channels: Int
    public let samplesPerPixel: Int
    public let bits: Int
    public let mergeChannels: Bool

    private var values: [Int16] = []
    private var minimum: [Int]
    private var maximum: [Int]
    private var framesInPixel = 0

    /// - Parameters:
    ///   - pixelsPerSecond: horizontal resolution; samples per pixel is the sample rate divided by it (integer division, as audiowaveform does), at least 2.
    ///   - bits: 8 (the default of audiowaveform's players) or 16.
    public init(sampleRate: Int, channels: Int, pixelsPerSecond: Int, bits: Int = 8, mergeChannels: Bool = true) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.samplesPerPixel = max(2, sampleRate / max(1, pixelsPerSecond))
        self.bits = bits == 16 ? 16 : 8
        self.mergeChannels = mergeChannels
        let stored = mergeChannels ? 1 : channels
        minimum = Array(repeating: Int.max, count: stored)
        maximum = Array(repeating: Int.min, count: stored)
    }

    /// Adds interleaved samples (whole frames).
    public mutating func add(_ samples: [Float]) {
        let frames = samples.count / channels
        samples.withUnsafeBufferPointer { buffer in
            for frame in 0..<frames {
                let base = frame * channels
                if mergeChannels {
                    var sum = 0
                    for channel in 0..<channels { sum += Self.int16(buffer[base + channel]) }
                    record(sum / channels, channel: 0)
                } else {
                    for channel in 0..<channels { record(Self.int16(buffer[base + channel]), channel: channel) }
                }
                framesInPixel += 1
                if framesInPixel == samplesPerPixel { emitPixel() }
            }
        }
    }

    /// Ends the audio (emitting a last, partial pixel) and returns the waveform.
    public mutating func finish() -> WaveformData {
        if framesInPixel > 0 { emitPixel() }
        return WaveformData(
            sampleRate: sampleRate, samplesPerPixel: samplesPerPixel, bits: bits,
            channels: minimum.count, values: values
        )
    }

    private mutating func record(_ value: Int, channel: Int) {
        if value < minimum[channel] { minimum[channel] = value }
        if value > maximum[channel] { maximum[channel] = value }
    }

    private mutating func emitPixel() {
        for channel in minimum.indices {
            let scale = bits == 8 ? 256 : 1
            values.append(Int16(minimum[channel] / scale))
            values.append(Int16(maximum[channel] / scale))
            minimum[channel] = Int.max
            maximum[channel] = Int.min
        }
        framesInPixel = 0
    }

    /// A float sample as the 16-bit value it came from (or the nearest one).
    private static func int16(_ sample: Float) -> Int {
        Int(max(-32768, min(32767, (sample * 32768).rounded())))
    }
}
