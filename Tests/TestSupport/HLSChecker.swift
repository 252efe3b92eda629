import Foundation

/// Checks HLS playlists on disk against the RFC 8216 rules Musikk promises, reading the media they point at.
/// Written independently of the Manifest module: it parses the text and measures the files.
public enum HLSChecker {
    /// Violations in a master playlist and every media playlist it lists; empty when all is well.
    public static func checkMaster(at url: URL) -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return ["\(url.path): unreadable"] }
        var problems: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.first != "#EXTM3U" { problems.append("\(url.lastPathComponent): does not start with #EXTM3U") }
        if !lines.contains("#EXT-X-INDEPENDENT-SEGMENTS") {
            problems.append("\(url.lastPathComponent): no EXT-X-INDEPENDENT-SEGMENTS")
        }
        var variants = 0
        for (index, line) in lines.enumerated() where line.hasPrefix("#EXT-X-STREAM-INF:") {
            variants += 1
            let attributes = parseAttributes(String(line.dropFirst("#EXT-X-STREAM-INF:".count)))
            guard index + 1 < lines.count, !lines[index + 1].hasPrefix("#"), !lines[index + 1].isEmpty else {
                problems.append("EXT-X-STREAM-INF without a URI line after it")
                continue
            }
            let mediaURL = url.deletingLastPathComponent().appendingPathComponent(lines[index + 1])
            guard let bandwidth = attributes["BANDWIDTH"].flatMap(Int.init) else {
                problems.append("\(lines[index + 1]): EXT-X-STREAM-INF without BANDWIDTH")
                continue
            }
            guard let codecs = attributes["CODECS"], !codecs.isEmpty else {
                problems.append("\(lines[index + 1]): EXT-X-STREAM-INF without CODECS")
                continue
            }
            problems += checkMedia(at: mediaURL).map { "\(lines[index + 1]): \($0)" }
            guard let measured = measure(mediaURL) else { continue }
            // §4.3.4.2: BANDWIDTH is the peak segment bit rate; it must not under-report, nor be padded.
            if Double(bandwidth) < measured.peak || Double(bandwidth) > measured.peak * 1.02 + 1 {
                problems.append("\(lines[index + 1]): BANDWIDTH \(bandwidth) is not the peak segment bit rate \(Int(measured.peak))")
            }
            if let average = attributes["AVERAGE-BANDWIDTH"].flatMap(Double.init) {
                if abs(average - measured.average) > measured.average * 0.01 + 1 {
                    problems.append("\(lines[index + 1]): AVERAGE-BANDWIDTH \(Int(average)) differs from \(Int(measured.average))")
                }
                if average > Double(bandwidth) { problems.append("\(lines[index + 1]): AVERAGE-BANDWIDTH above BANDWIDTH") }
            } else {
                problems.append("\(lines[index + 1]): no AVERAGE-BANDWIDTH")
            }
            if codecs.contains("mp4a") && codecs != "mp4a.40.2" { problems.append("unexpected AAC codec \(codecs)") }
        }
        if variants == 0 { problems.append("\(url.lastPathComponent): no EXT-X-STREAM-INF") }
        return problems
    }

    /// Violations in one media playlist.
    public static func checkMedia(at url: URL) -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return ["unreadable"] }
        var problems: [String] = []
        let lines = text.split(separator: "\n").map(String.init)
        if lines.first != "#EXTM3U" { problems.append("does not start with #EXTM3U") }
        let targets = lines.filter { $0.hasPrefix("#EXT-X-TARGETDURATION:") }
        guard targets.count == 1, let target = Int(targets[0].dropFirst("#EXT-X-TARGETDURATION:".count)) else {
            return problems + ["needs exactly one integer EXT-X-TARGETDURATION"]
        }
        let declaredVersion = lines.first { $0.hasPrefix("#EXT-X-VERSION:") }.flatMap { Int($0.dropFirst(15)) } ?? 1
        var requiredVersion = 1
        var sawMap = false
        var previousRange: (uri: String, end: Int)?
        var pendingDuration: Double?
        var pendingRange: (length: Int, offset: Int?)?
        var segments = 0
        for line in lines {
            if line.hasPrefix("#EXTINF:") {
                let value = line.dropFirst("#EXTINF:".count).split(separator: ",", omittingEmptySubsequences: false)[0]
                guard let duration = Double(value) else {
                    problems.append("EXTINF duration '\(value)' is not a number")
                    continue
                }
                if value.contains(".") { requiredVersion = max(requiredVersion, 3) }
                if Int(duration.rounded()) > target {
                    problems.append("EXTINF \(value) rounds above EXT-X-TARGETDURATION \(target) (§4.3.3.1)")
                }
                pendingDuration = duration
            } else if line.hasPrefix("#EXT-X-BYTERANGE:") {
                requiredVersion = max(requiredVersion, 4)
                let parts = line.dropFirst("#EXT-X-BYTERANGE:".count).split(separator: "@").map(String.init)
                pendingRange = (Int(parts[0]) ?? -1, parts.count > 1 ? Int(parts[1]) : nil)
            } else if line.hasPrefix("#EXT-X-MAP:") {
                if segments > 0 { problems.append("EXT-X-MAP after the first segment") }
                sawMap = true
                requiredVersion = max(requiredVersion, 6)
                let attributes = parseAttributes(String(line.dropFirst("#EXT-X-MAP:".count)))
                guard let uri = attributes["URI"] else {
                    problems.append("EXT-X-MAP without URI")
                    continue
                }
                let file = url.deletingLastPathComponent().appendingPathComponent(uri)
                if !FileManager.default.fileExists(atPath: file.path) { problems.append("EXT-X-MAP file \(uri) missing") }
                if let range = attributes["BYTERANGE"] {
                    let parts = range.split(separator: "@").compactMap { Int($0) }
                    if parts.count != 2 { problems.append("EXT-X-MAP BYTERANGE needs length@offset") }
                    if parts.count == 2, !boxTypes(in: file, offset: parts[1], length: parts[0]).elementsEqual(["ftyp", "moov"]) {
                        problems.append("EXT-X-MAP range is not ftyp+moov")
                    }
                }
            } else if !line.hasPrefix("#") {
                segments += 1
                guard pendingDuration != nil else {
                    problems.append("URI \(line) without EXTINF")
                    continue
                }
                let file = url.deletingLastPathComponent().appendingPathComponent(line)
                guard let size = fileSize(file) else {
                    problems.append("segment \(line) missing")
                    continue
                }
                if let range = pendingRange {
                    let offset: Int
                    if let explicit = range.offset {
                        offset = explicit
                    } else if let previous = previousRange, previous.uri == line {
                        offset = previous.end
                    } else {
                        problems.append("EXT-X-BYTERANGE without @offset not following a range of the same file (§4.3.2.2)")
                        offset = 0
                    }
                    if offset + range.length > size { problems.append("byte range \(range.length)@\(offset) past the end of \(line)") }
                    if boxTypes(in: file, offset: offset, length: range.length).first != "moof" {
                        problems.append("byte range \(range.length)@\(offset) does not start with a moof")
                    }
                    previousRange = (line, offset + range.length)
                }
                pendingDuration = nil
                pendingRange = nil
            }
        }
        if !sawMap { problems.append("no EXT-X-MAP") }
        if declaredVersion < requiredVersion {
            problems.append("EXT-X-VERSION \(declaredVersion) but features used need \(requiredVersion) (§7)")
        }
        if !lines.contains("#EXT-X-PLAYLIST-TYPE:VOD") { problems.append("no EXT-X-PLAYLIST-TYPE:VOD") }
        if lines.last != "#EXT-X-ENDLIST" { problems.append("does not end with EXT-X-ENDLIST") }
        if segments == 0 { problems.append("no segments") }
        return problems
    }

    /// Peak (per §4.3.4.2) and average segment bit rates of a media playlist, from the bytes it addresses.
    public static func measure(_ url: URL) -> (peak: Double, average: Double)? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        var segments: [(duration: Double, bytes: Int)] = []
        var duration: Double?
        var length: Int?
        var target = 0.0
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#EXT-X-TARGETDURATION:") { target = Double(line.dropFirst(22)) ?? 0 }
            if line.hasPrefix("#EXTINF:") { duration = Double(line.dropFirst(8).split(separator: ",")[0]) }
            if line.hasPrefix("#EXT-X-BYTERANGE:") { length = Int(line.dropFirst(17).split(separator: "@")[0]) }
            if !line.hasPrefix("#"), let current = duration {
                let bytes = length ?? fileSize(url.deletingLastPathComponent().appendingPathComponent(line)) ?? 0
                segments.append((current, bytes))
                duration = nil
                length = nil
            }
        }
        let totalDuration = segments.reduce(0) { $0 + $1.duration }
        guard totalDuration > 0 else { return nil }
        let average = Double(segments.reduce(0) { $0 + $1.bytes * 8 }) / totalDuration
        // Brute force over every contiguous run of segments (§4.3.4.2: "any contiguous set of segments whose total
        // duration is between 0.5 and 1.5 times the target duration"), from prefix sums of durations and bits.
        let startTimes = segments.reduce(into: [0.0]) { $0.append($0[$0.count - 1] + $1.duration) }
        let startBits = segments.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.bytes * 8) }
        var peak = 0.0
        for first in 0..<segments.count {
            for end in (first + 1)...segments.count {
                let seconds = startTimes[end] - startTimes[first]
                guard seconds >= 0.5 * target, seconds <= 1.5 * target else { continue }
                peak = max(peak, Double(startBits[end] - startBits[first]) / seconds)
            }
        }
        return (peak == 0 ? average : peak, average)
    }

    static func parseAttributes(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var key = ""
        var value = ""
        var inKey = true
        var quoted = false
        for character in text + "," {
            if inKey {
                if character == "=" { inKey = false } else { key.append(character) }
            } else if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                result[key] = value
                key = ""
                value = ""
                inKey = true
            } else {
                value.append(character)
            }
        }
        return result
    }

    static func fileSize(_ url: URL) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
    }

    /// Types of the top-level boxes inside a byte range of a file.
    public static func boxTypes(in url: URL, offset: Int, length: Int) -> [String] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        var types: [String] = []
        var position = offset
        while position + 8 <= offset + length {
            guard (try? handle.seek(toOffset: UInt64(position))) != nil,
                  let header = try? handle.read(upToCount: 8), header.count == 8 else { break }
            let size = header.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: header.suffix(4), as: UTF8.self))
            guard size >= 8 else { break }
            position += size
        }
        return types
    }
}
