import Foundation
import Segmenter

/// Writes HLS playlists (RFC 8216) for packaged renditions.
public enum HLSPlaylists {
    /// The media playlist of one rendition. URIs are relative to the playlist: the rendition's ``PackagedRendition/mediaBase``
    /// followed by the segment table's file names.
    public static func mediaPlaylist(for rendition: PackagedRendition) -> String {
        let track = rendition.track
        let base = rendition.mediaBase
        let segments = track.presentedSegments
        let targetDuration = targetDuration(of: segments)
        var lines = [
            "#EXTM3U",
            // EXT-X-MAP in a playlist that is not I-frames-only needs version 6 (RFC 8216 §7).
            "#EXT-X-VERSION:6",
            "#EXT-X-TARGETDURATION:\(targetDuration)",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        if let protection = track.format.protection {
            // SAMPLE-AES is how RFC 8216 (§4.3.2.4) names `cbcs` in fMP4; each sample's IV is in its `senc`.
            // KEYFORMAT identity: the URI answers the 16-byte key to a signed-in listener.
            lines.append("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"\(protection.licenseURL)/\(protection.keyIDHex)\",KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\"")
        }
        switch track.layout {
        case .singleFile:
            let initialization = track.initialization
            lines.append(
                "#EXT-X-MAP:URI=\"\(base)\(track.initializationFile)\",BYTERANGE=\"\(initialization.length)@\(initialization.offset)\""
            )
            for segment in segments {
                guard let range = segment.fragment.byteRange else { continue }
                lines.append("#EXTINF:\(formatDuration(segment.duration)),")
                lines.append("#EXT-X-BYTERANGE:\(range.length)@\(range.offset)")
                lines.append(base + track.initializationFile)
            }
        case .segmentFiles:
            lines.append("#EXT-X-MAP:URI=\"\(base)\(track.initializationFile)\"")
            for segment in segments {
                guard let fileName = segment.fragment.fileName else { continue }
                lines.append("#EXTINF:\(formatDuration(segment.duration)),")
                lines.append(base + fileName)
            }
        }
        lines.append("#EXT-X-ENDLIST")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The master playlist of a track: one EXT-X-STREAM-INF per rendition, in the order given.
    /// - Parameter mediaPlaylistURI: the URI of each rendition's media playlist, relative to the master.
    public static func masterPlaylist(
        for renditions: [PackagedRendition], mediaPlaylistURI: (PackagedRendition) -> String
    ) -> String {
        var lines = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS"]
        for rendition in renditions {
            let bandwidth = peakSegmentBitrate(of: rendition.track)
            let average = averageSegmentBitrate(of: rendition.track)
            lines.append(
                "#EXT-X-STREAM-INF:BANDWIDTH=\(bandwidth),AVERAGE-BANDWIDTH=\(average),CODECS=\"\(rendition.codec.hlsName)\""
            )
            lines.append(mediaPlaylistURI(rendition))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer is at most this (§4.3.3.1).
    static func targetDuration(of segments: [PresentedSegment]) -> Int {
        max(1, segments.map { Int($0.duration.rounded()) }.max() ?? 1)
    }

    /// Peak segment bit rate as §4.3.4.2 defines it: the largest bit rate of any contiguous set of segments whose
    /// total duration is between 0.5 and 1.5 times the target duration.
    public static func peakSegmentBitrate(of track: SegmentedTrack) -> Int {
        let segments = track.presentedSegments
        let target = Double(targetDuration(of: segments))
        var peak = 0.0
        for first in segments.indices {
            var bits = 0.0
            var duration = 0.0
            for segment in segments[first...] {
                bits += Double(segment.size * 8)
                duration += segment.duration
                if duration > 1.5 * target { break }
                if duration >= 0.5 * target { peak = max(peak, bits / duration) }
            }
        }
        // A playlist too short for any such set: its overall rate is its peak.
        if peak == 0 { return averageSegmentBitrate(of: track) }
        return Int(peak.rounded(.up))
    }

    /// AVERAGE-BANDWIDTH: all segment bytes over the presented duration.
    public static func averageSegmentBitrate(of track: SegmentedTrack) -> Int {
        let segments = track.presentedSegments
        let duration = segments.reduce(0) { $0 + $1.duration }
        guard duration > 0 else { return 0 }
        let bits = Double(segments.reduce(0) { $0 + $1.size * 8 })
        return Int((bits / duration).rounded(.up))
    }

    /// Decimal seconds with microsecond precision, without exponent.
    static func formatDuration(_ seconds: Double) -> String {
        String(format: "%.6f", seconds)
    }
}
