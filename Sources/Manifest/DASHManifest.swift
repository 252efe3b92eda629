import Foundation
import Segmenter

/// Writes static DASH MPDs (ISO/IEC 23009-1) with libxml2: the on-demand profile (SegmentBase with the `sidx`)
/// for single-file renditions, the live profile (SegmentTemplate with a SegmentTimeline) for segment files.
public enum DASHManifest {
    /// Buffer the `@bandwidth` values are computed against.
    public static let minBufferTime = 6.0

    private static let channelConfigurationScheme = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
    private static let commonEncryptionScheme = "urn:mpeg:dash:mp4protection:2011"
    /// W3C EME ClearKey's system id.
    private static let clearKeyScheme = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"

    /// One MPD for a track; renditions are grouped into one AdaptationSet per codec, in the order given.
    /// Every rendition must share one layout.
    public static func mpd(for renditions: [PackagedRendition]) throws(ManifestError) -> String {
        let layout = renditions.first?.track.layout ?? .singleFile
        let duration = renditions.map(\.track.presentationDuration).max() ?? 0
        let profile = layout == .singleFile
            ? "urn:mpeg:dash:profile:isoff-on-demand:2011" : "urn:mpeg:dash:profile:isoff-live:2011"
        var codecs: [PackagedRendition.Codec] = []
        for rendition in renditions where !codecs.contains(rendition.codec) { codecs.append(rendition.codec) }

        let protected = renditions.contains { $0.track.format.protection != nil }
        let xml = try XMLWriter()
        try xml.element("MPD", [
            ("xmlns", "urn:mpeg:dash:schema:mpd:2011"),
        ] + (protected ? [("xmlns:cenc", "urn:mpeg:cenc:2013"), ("xmlns:dashif", "https://dashif.org/CPS")] : []) + [
            ("profiles", profile),
            ("type", "static"),
            ("mediaPresentationDuration", isoDuration(duration)),
            ("minBufferTime", isoDuration(minBufferTime)),
        ]) { () throws(ManifestError) in
            try xml.element("Period", [("id", "0"), ("start", "PT0S")]) { () throws(ManifestError) in
                for (index, codec) in codecs.enumerated() {
                    let group = renditions.filter { $0.codec == codec }
                    try adaptationSet(id: index + 1, renditions: group, layout: layout, xml: xml)
                }
            }
        }
        return try xml.finish()
    }

    private static func adaptationSet(
        id: Int, renditions: [PackagedRendition], layout: SegmentLayout, xml: XMLWriter
    ) throws(ManifestError) {
        let channels = renditions.first?.track.format.channels ?? 2
        let aligned = segmentsAligned(renditions)
        var attributes: [(String, String)] = [
            ("id", String(id)), ("contentType", "audio"), ("mimeType", "audio/mp4"), ("lang", "und"),
        ]
        if aligned {
            attributes += [("segmentAlignment", "true"), ("subsegmentAlignment", "true")]
        }
        attributes += [("startWithSAP", "1"), ("subsegmentStartsWithSAP", "1")]
        try xml.element("AdaptationSet", attributes) { () throws(ManifestError) in
            try xml.element("AudioChannelConfiguration", [
                ("schemeIdUri", channelConfigurationScheme), ("value", String(channels)),
            ])
            if let protection = renditions.first?.track.format.protection {
                try xml.element("ContentProtection", [
                    ("schemeIdUri", commonEncryptionScheme), ("value", protection.scheme),
                    ("cenc:default_KID", protection.keyIDUUID),
                ])
                try xml.element("ContentProtection", [("schemeIdUri", clearKeyScheme), ("value", "ClearKey1.0")]) { () throws(ManifestError) in
                    try xml.textElement("dashif:Laurl", protection.licenseURL)
                }
            }
            if layout == .segmentFiles, let first = renditions.first {
                try segmentTemplate(for: first.track, xml: xml)
            }
            for rendition in renditions {
                try representation(rendition, layout: layout, xml: xml)
            }
        }
    }

    private static func representation(
        _ rendition: PackagedRendition, layout: SegmentLayout, xml: XMLWriter
    ) throws(ManifestError) {
        let track = rendition.track
        try xml.element("Representation", [
            ("id", rendition.name),
            ("codecs", rendition.codec.dashName),
            ("bandwidth", String(bandwidth(of: track, minBufferTime: minBufferTime))),
            ("audioSamplingRate", String(track.format.sampleRate)),
        ]) { () throws(ManifestError) in
            guard layout == .singleFile, let index = track.index else {
                // Segment files: the AdaptationSet's SegmentTemplate resolves against this BaseURL.
                if !rendition.mediaBase.isEmpty { try xml.textElement("BaseURL", rendition.mediaBase) }
                return
            }
            try xml.textElement("BaseURL", rendition.mediaBase + track.initializationFile)
            try xml.element("SegmentBase", [
                ("indexRange", "\(index.offset)-\(index.lastByte)"), ("indexRangeExact", "true"),
            ]) { () throws(ManifestError) in
                try xml.element("Initialization", [
                    ("range", "\(track.initialization.offset)-\(track.initialization.lastByte)"),
                ])
            }
        }
    }

    /// A SegmentTemplate shared by the AdaptationSet: every rendition of one codec has the same timeline.
    private static func segmentTemplate(for track: SegmentedTrack, xml: XMLWriter) throws(ManifestError) {
        try xml.element("SegmentTemplate", [
            ("timescale", String(track.format.sampleRate)),
            ("initialization", "$RepresentationID$/init.mp4"),
            ("media", "$RepresentationID$/seg-$Number$.m4s"),
            ("startNumber", "1"),
        ]) { () throws(ManifestError) in
            try xml.element("SegmentTimeline") { () throws(ManifestError) in
                var runs: [(start: Int64, duration: Int64, repeats: Int)] = []
                for fragment in track.fragments {
                    if let last = runs.last, last.duration == fragment.duration {
                        runs[runs.count - 1].repeats += 1
                    } else {
                        runs.append((fragment.startTime, fragment.duration, 0))
                    }
                }
                for (index, run) in runs.enumerated() {
                    var attributes: [(String, String)] = []
                    if index == 0 { attributes.append(("t", String(run.start))) }
                    attributes.append(("d", String(run.duration)))
                    if run.repeats > 0 { attributes.append(("r", String(run.repeats))) }
                    try xml.element("S", attributes)
                }
            }
        }
    }

    /// True when every rendition has fragments at the same times.
    static func segmentsAligned(_ renditions: [PackagedRendition]) -> Bool {
        guard let first = renditions.first else { return true }
        let times = first.track.fragments.map { [$0.startTime, $0.duration] }
        return renditions.allSatisfy { rendition in
            rendition.track.format.sampleRate == first.track.format.sampleRate
                && rendition.track.fragments.map { [$0.startTime, $0.duration] } == times
        }
    }

    /// The smallest `@bandwidth` B (bits/s) such that, starting at any fragment, a client receiving at B that
    /// begins playout after `minBufferTime` has each fragment complete before it is due (ISO/IEC 23009-1 §5.3.5.2).
    public static func bandwidth(of track: SegmentedTrack, minBufferTime: Double) -> Int {
        let rate = Double(track.format.sampleRate)
        let fragments = track.fragments
        var required = 0.0
        for first in fragments.indices {
            var bits = 0.0
            let origin = Double(fragments[first].startTime) / rate
            for fragment in fragments[first...] {
                bits += Double(fragment.size * 8)
                let due = Double(fragment.startTime) / rate - origin + minBufferTime
                required = max(required, bits / due)
            }
        }
        return Int(required.rounded(.up))
    }

    /// `xs:duration` in seconds with millisecond precision, e.g. `PT183.042S`.
    static func isoDuration(_ seconds: Double) -> String {
        String(format: "PT%.3fS", seconds)
    }
}
