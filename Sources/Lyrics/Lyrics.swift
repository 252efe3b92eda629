import Foundation
import PublicationFormat

/// Lyrics as masters carry them: tags FFmpeg reads (ID3 `USLT`, Vorbis `LYRICS`/`UNSYNCEDLYRICS`, MP4 `©lyr`),
/// ID3 `SYLT` frames (synced, which FFmpeg does not read), and `.lrc` files beside the master. Text in LRC form
/// (`[mm:ss.xx]line`), wherever it comes from, gives synced lines.
public enum MasterLyrics {
    public typealias Lyrics = TrackDocument.Lyrics

    /// Bytes of lyrics text read from one place (a sidecar, a frame).
    static let maxBytes = 1024 * 1024
    /// Lines kept of one set of lyrics.
    static let maxLines = 10_000

    /// Every set of lyrics of a master, synced ones first, each once.
    /// - Parameters:
    ///   - master: the master file (its ID3 tag and `.lrc` sidecar are read).
    ///   - tags: its tags with lowercased keys, as FFmpeg reports them.
    public static func of(master: URL, tags: [String: String]) -> [Lyrics] {
        var found: [Lyrics] = []
        if let sidecar = sidecar(beside: master) { found.append(sidecar) }
        found += syncedFrames(inID3Of: master)
        for key in tags.keys.sorted() where isLyricsKey(key) {
            if let text = tags[key], let lyrics = parse(text, language: language(ofKey: key)) { found.append(lyrics) }
        }
        var unique: [Lyrics] = []
        for lyrics in found where !unique.contains(lyrics) { unique.append(lyrics) }
        return unique.filter(\.synced) + unique.filter { !$0.synced }
    }

    /// The tag keys FFmpeg gives lyrics: `lyrics` (Vorbis, MP4), `lyrics-LANG` and `lyrics-DESCRIPTION-LANG`
    /// (ID3 USLT), `unsyncedlyrics`.
    static func isLyricsKey(_ key: String) -> Bool {
        key == "lyrics" || key.hasPrefix("lyrics-") || key == "unsyncedlyrics" || key == "unsynced lyrics"
    }

    /// The ISO 639-2 code at the end of a USLT key (`lyrics-eng`), else `und`.
    static func language(ofKey key: String) -> String {
        let code = key.split(separator: "-").last.map(String.init) ?? ""
        return key.hasPrefix("lyrics-") && code.count == 3 && code.allSatisfy({ $0.isASCII && $0.isLetter }) ? code.lowercased() : "und"
    }

    // MARK: Text and LRC

    /// Lyrics from text: synced when lines carry LRC time tags (`[01:02.50]`, several per line allowed, word
    /// times `<01:02.80>` dropped, `[offset:±ms]` applied), else plain lines. Nil for text with no words.
    public static func parse(_ text: String, language: String = "und") -> Lyrics? {
        guard text.utf8.count <= maxBytes else { return nil }
        var timed: [Lyrics.Line] = []
        var plain: [String] = []
        var offset = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).prefix(maxLines) {
            var rest = Substring(rawLine)
            var starts: [Int] = []
            var isHeader = false
            while rest.first == "[", let close = rest.firstIndex(of: "]") {
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if let time = timestamp(inside) {
                    starts.append(time)
                } else if let colon = inside.firstIndex(of: ":"), inside[..<colon].allSatisfy({ $0.isLetter }) {
                    // A header ([ar:…], [ti:…]); [offset:+250] moves every line 250 ms earlier.
                    if inside[..<colon].lowercased() == "offset", let value = Int(inside[inside.index(after: colon)...].trimmingCharacters(in: .whitespaces)) {
                        offset = max(-3_600_000, min(3_600_000, value))
                    }
                    isHeader = true
                } else {
                    break
                }
                rest = rest[rest.index(after: close)...]
            }
            let words = withoutWordTimes(rest).trimmingCharacters(in: .whitespaces)
            if !starts.isEmpty {
                for start in starts { timed.append(Lyrics.Line(start: start, text: words)) }
            } else if !isHeader {
                plain.append(words)
            }
        }
        if !timed.isEmpty {
            let lines = timed.enumerated().sorted { ($0.element.start ?? 0, $0.offset) < ($1.element.start ?? 0, $1.offset) }.map { item in
                Lyrics.Line(start: max(0, (item.element.start ?? 0) - offset), text: item.element.text)
            }
            return Lyrics(language: language, synced: true, lines: lines)
        }
        while plain.last?.isEmpty == true { plain.removeLast() }
        while plain.first?.isEmpty == true { plain.removeFirst() }
        guard plain.contains(where: { !$0.isEmpty }) else { return nil }
        return Lyrics(language: language, synced: false, lines: plain.map { Lyrics.Line(text: $0) })
    }

    /// Milliseconds of an LRC time tag's inside (`mm:ss`, `mm:ss.x`, `mm:ss.xx`, `mm:ss.xxx`, or `:` before the
    /// fraction), or nil.
    static func timestamp(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let minutesText = parts[0]
        var secondsText = parts[1]
        var fractionText: Substring = ""
        if parts.count == 3 {
            fractionText = parts[2]
        } else if let dot = secondsText.firstIndex(of: ".") {
            fractionText = secondsText[secondsText.index(after: dot)...]
            secondsText = secondsText[..<dot]
        }
        func digits(_ part: Substring, _ range: ClosedRange<Int>) -> Int? {
            guard range.contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part)
        }
        guard let minutes = digits(minutesText, 1...3), let seconds = digits(secondsText, 1...2), seconds < 60 else { return nil }
        var milliseconds = 0
        if !fractionText.isEmpty {
            guard let fraction = digits(fractionText, 1...3) else { return nil }
            milliseconds = fraction * [100, 10, 1][fractionText.count - 1]
        }
        return (minutes * 60 + seconds) * 1000 + milliseconds
    }

    /// Text without enhanced-LRC word times (`<01:02.80>`).
    static func withoutWordTimes(_ text: Substring) -> String {
        var result = ""
        var rest = text
        while let open = rest.firstIndex(of: "<") {
            result += rest[..<open]
            if let close = rest[open...].firstIndex(of: ">"), timestamp(rest[rest.index(after: open)..<close]) != nil {
                rest = rest[rest.index(after: close)...]
            } else {
                result.append("<")
                rest = rest[rest.index(after: open)...]
            }
        }
        return result + rest
    }

    // MARK: Sidecar

    /// `NAME.lrc` (or `.LRC`) beside `NAME.flac`, read as UTF-8 (Latin-1 if it is not).
    static func sidecar(beside master: URL) -> Lyrics? {
        let stem = master.deletingPathExtension()
        for suffix in ["lrc", "LRC"] {
            let url = stem.appendingPathExtension(suffix)
            guard let handle = try? FileHandle(forReadingFrom: url) else { continue }
            defer { try? handle.close() }
            guard let data = try? handle.read(upToCount: maxBytes + 1), data.count <= maxBytes else { return nil }
            let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) ?? ""
            return parse(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        }
        return nil
    }

    // MARK: ID3 SYLT

    /// The synced lyrics (`SYLT` frames with times in milliseconds) of the ID3v2.3/2.4 tag at the start of a file.
    /// Reads frame headers and skips the other frames' bodies (cover art); a malformed tag gives what was read
    /// before the damage.
    public static func syncedFrames(inID3Of url: URL) -> [Lyrics] {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [] }
        defer { try? handle.close() }
        return ID3Frames(handle).syncedLyrics()
    }
}

/// Walks the frames of an ID3v2 tag through a file handle, reading only what it must.
struct ID3Frames {
    let handle: FileHandle

    init(_ handle: FileHandle) { self.handle = handle }

    /// A tag larger than this is not walked.
    static let maxTagSize = 64 * 1024 * 1024

    func syncedLyrics() -> [MasterLyrics.Lyrics] {
        guard let header = read(10), header.count == 10, header.starts(with: Array("ID3".utf8)) else { return [] }
        let version = header[3], flags = header[5]
        // v2.2 (three-letter frames) is not read; nor a v2.3 tag unsynchronised as a whole (its frame sizes count
        // the unsynchronised bytes).
        guard version == 3 || version == 4, version == 4 || flags & 0x80 == 0, let tagSize = Self.syncsafe(header[6..<10]), tagSize <= Self.maxTagSize else { return [] }
        var position = 0
        if flags & 0x40 != 0 {
            guard let sizeBytes = read(4), sizeBytes.count == 4 else { return [] }
            let size = version == 4 ? Self.syncsafe(sizeBytes[...]) : Self.bigEndian(sizeBytes[...])
            guard let size else { return [] }
            // v2.4 counts the size field in the extended header's size; v2.3 does not.
            let skip = version == 4 ? size - 4 : size
            guard skip >= 0, skip <= tagSize, seek(by: skip) else { return [] }
            position = 4 + skip
        }
        var found: [MasterLyrics.Lyrics] = []
        while position + 10 <= tagSize {
            guard let frame = read(10), frame.count == 10, frame[0] != 0 else { break }
            let id = String(decoding: frame[0..<4], as: UTF8.self)
            guard let size = version == 4 ? Self.syncsafe(frame[4..<8]) : Self.bigEndian(frame[4..<8]), size >= 0, position + 10 + size <= tagSize else { break }
            position += 10 + size
            let formatFlags = frame[9]
            guard id == "SYLT", size <= MasterLyrics.maxBytes else {
                guard seek(by: size) else { break }
                continue
            }
            guard var body = read(size), body.count == size else { break }
            // Compressed or encrypted frames are skipped; a group byte, unsynchronisation and a data length are undone.
            if version == 4 {
                if formatFlags & 0x0C != 0 { continue }
                if formatFlags & 0x40 != 0 { body = Array(body.dropFirst(1)) }
                if formatFlags & 0x02 != 0 { body = Self.resynchronised(body) }
                if formatFlags & 0x01 != 0 { body = Array(body.dropFirst(4)) }
            } else {
                if formatFlags & 0xC0 != 0 { continue }
                if formatFlags & 0x20 != 0 { body = Array(body.dropFirst(1)) }
            }
            if let lyrics = Self.sylt(body) { found.append(lyrics) }
        }
        return found
    }

    /// A SYLT body: encoding, language, time format, content type, descriptor, then (text, time) pairs.
    static func sylt(_ body: [UInt8]) -> MasterLyrics.Lyrics? {
        guard body.count >= 6, body[4] == 2 else { return nil }  // times in milliseconds only (not MPEG frames)
        let encoding = body[0]
        let language = String(decoding: body[1..<4], as: UTF8.self).lowercased()
        var index = 6
        guard terminatedText(body, &index, encoding: encoding) != nil else { return nil }
        var lines: [MasterLyrics.Lyrics.Line] = []
        while index < body.count, lines.count < MasterLyrics.maxLines {
            guard let text = terminatedText(body, &index, encoding: encoding), index + 4 <= body.count,
                  let time = bigEndian(body[index..<(index + 4)]) else { break }
            index += 4
            let line = text.trimmingCharacters(in: .newlines)
            lines.append(MasterLyrics.Lyrics.Line(start: time, text: line))
        }
        guard !lines.isEmpty else { return nil }
        let ordered = lines.enumerated().sorted { ($0.element.start ?? 0, $0.offset) < ($1.element.start ?? 0, $1.offset) }.map(\.element)
        let code = language.count == 3 && language.allSatisfy({ $0.isASCII && $0.isLetter }) ? language : "und"
        return MasterLyrics.Lyrics(language: code, synced: true, lines: ordered)
    }

    /// A string ended by its encoding's terminator (or the body's end), advancing `index` past it.
    static func terminatedText(_ bytes: [UInt8], _ index: inout Int, encoding: UInt8) -> String? {
        guard index <= bytes.count else { return nil }
        let wide = encoding == 1 || encoding == 2
        var end = index
        if wide {
            while end + 1 < bytes.count, !(bytes[end] == 0 && bytes[end + 1] == 0) { end += 2 }
            if end + 1 >= bytes.count { end = bytes.count }
        } else {
            while end < bytes.count, bytes[end] != 0 { end += 1 }
        }
        let raw = Array(bytes[index..<end])
        index = min(bytes.count, end + (wide ? 2 : 1))
        switch encoding {
        case 0: return String(bytes: raw, encoding: .isoLatin1)
        case 1:
            if raw.starts(with: [0xFF, 0xFE]) { return String(bytes: raw.dropFirst(2), encoding: .utf16LittleEndian) }
            if raw.starts(with: [0xFE, 0xFF]) { return String(bytes: raw.dropFirst(2), encoding: .utf16BigEndian) }
            return String(bytes: raw, encoding: .utf16LittleEndian)
        case 2: return String(bytes: raw, encoding: .utf16BigEndian)
        case 3: return String(decoding: raw, as: UTF8.self)
        default: return nil
        }
    }

    /// `FF 00` back to `FF`.
    static func resynchronised(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var previous: UInt8 = 0
        for byte in bytes {
            if !(previous == 0xFF && byte == 0x00) { result.append(byte) }
            previous = byte
        }
        return result
    }

    static func syncsafe(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count == 4, bytes.allSatisfy({ $0 & 0x80 == 0 }) else { return nil }
        return bytes.reduce(0) { $0 << 7 | Int($1) }
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | Int($1) }
    }

    private func read(_ count: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        guard count > 0 else { return [] }
        return (try? handle.read(upToCount: count)).map { [UInt8]($0) } ?? []
    }

    private func seek(by count: Int) -> Bool {
        guard count >= 0, let now = try? handle.offset() else { return false }
        return (try? handle.seek(toOffset: now + UInt64(count))) != nil
    }
}
