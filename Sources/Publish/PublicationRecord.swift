import Foundation

/// `publish.json`: every file of the publication with its size and SHA-256, grouped into stages in the order a
/// sync must upload them. It is written last, and the next publish reads it to know what is already there and
/// since when a media file has been unreferenced.
public struct PublicationRecord: Codable, Sendable, Equatable {
    public var version = 1
    public var generator: String
    /// When the catalog last changed (the last ingest run that finished), ISO 8601.
    public var catalogUpdated: String?
    /// Days an unreferenced media file or manifest is kept before it is deleted.
    public var keepDays: Int
    /// Upload order: every file of a stage before any file of the next.
    public var stages: [Stage]
    /// Every file but publish.json itself, by stage then path.
    public var files: [Entry]

    public struct Stage: Codable, Sendable, Equatable {
        public var name: SyncStage
        public var description: String
        /// False for files meant for the origin machine only.
        public var upload: Bool
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int64
        public var sha256: String
        public var stage: SyncStage
        /// Set on a file no manifest or document refers to any more: when it stopped being referenced (ISO 8601).
        /// It stays for a CDN that still caches an older manifest, and is deleted after `keepDays`.
        public var retired: String?
    }

    static let fileName = "publish.json"

    static func stages() -> [Stage] {
        SyncStage.allCases.map { Stage(name: $0, description: $0.summary, upload: $0.uploads) }
    }

    /// Reads the record of the publication at `root`; nil when there is none. A record as ``write(to:)`` lays it
    /// out is read a line at a time; one in any other layout (an older version's) is decoded whole.
    static func read(from root: URL) throws(PublishError) -> PublicationRecord? {
        let url = root.appendingPathComponent(fileName)
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            throw .output(path: url.path, detail: "cannot open the previous publication's record (\(OutputArea.lastError))")
        }
        defer { try? handle.close() }
        do {
            if let record = try readLines(handle) { return record }
            return try JSONDecoder().decode(PublicationRecord.self, from: Data(contentsOf: url))
        } catch {
            throw .output(path: url.path, detail: "cannot read the previous publication's record (\(error)); "
                + "restore it, or publish into a new folder")
        }
    }

    /// The record from a file ``write(to:)`` wrote; nil for any other layout.
    private static func readLines(_ handle: FileHandle) throws -> PublicationRecord? {
        let decoder = JSONDecoder()
        var record = PublicationRecord(generator: "", catalogUpdated: nil, keepDays: 0, stages: [], files: [])
        var array: String?
        var pending = Data()
        var lineNumber = 0
        func line(_ bytes: Data) throws -> Bool {
            lineNumber += 1
            var text = String(decoding: bytes, as: UTF8.self)
            if text.hasSuffix(",") { text.removeLast() }
            if lineNumber == 1 { return text == "{" }
            if let open = array {
                if text == "  ]" {
                    array = nil
                    return true
                }
                guard text.hasPrefix("    {") else { return false }
                let object = Data(text.utf8)
                if open == "files" { record.files.append(try decoder.decode(Entry.self, from: object)) }
                if open == "stages" { record.stages.append(try decoder.decode(Stage.self, from: object)) }
                return true
            }
            guard text.hasPrefix("  \""), let colon = text.range(of: "\": ") else { return text == "}" }
            let key = String(text[text.index(text.startIndex, offsetBy: 3)..<colon.lowerBound])
            let value = Data(text[colon.upperBound...].utf8)
            switch key {
            case "files", "stages":
                guard value == Data("[".utf8) else { return false }
                array = key
            case "catalogUpdated": record.catalogUpdated = try decoder.decode(String.self, from: value)
            case "generator": record.generator = try decoder.decode(String.self, from: value)
            case "keepDays": record.keepDays = try decoder.decode(Int.self, from: value)
            case "version": record.version = try decoder.decode(Int.self, from: value)
            default: return false
            }
            return true
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(chunk)
            var start = pending.startIndex
            while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                guard try line(pending[start..<end]) else { return nil }
                start = pending.index(after: end)
            }
            pending = Data(pending[start...])
        }
        guard pending.isEmpty, lineNumber > 1, array == nil else { return nil }
        return record
    }

    /// Writes the record to `url` a megabyte at a time, one file per line: a large publication's record is
    /// hundreds of megabytes, too much to build in memory first. Keys are in sorted order, as JSONEncoder sorts them.
    func write(to url: URL) throws(PublishError) {
        try write(to: url) { body throws(PublishError) in
            for entry in files { try body(entry) }
        }
    }

    /// Writes the record with the files `eachFile` hands on (in upload order) instead of ``files``.
    func write(
        to url: URL, eachFile: ((Entry) throws(PublishError) -> Void) throws(PublishError) -> Void
    ) throws(PublishError) {
        var writer = try Writer(record: self, url: url)
        try eachFile { entry throws(PublishError) in try writer.line(try Self.line(for: entry, in: url)) }
        try writer.finish()
    }

    /// Writes the record with the files of the record at `old` (as ``write(to:)`` lays it out), less the lines of
    /// `removing` (stage and path), plus `adding`, both in upload order: the other lines are copied as bytes, so a
    /// record of a million files costs a copy, not an encoding. False when `old` is not in that layout (what is at
    /// `url` is then of no use).
    func write(
        to url: URL, splicing old: URL, removing: [(stage: SyncStage, path: String)], adding: [Entry]
    ) throws(PublishError) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: old.path) else { return false }
        defer { try? handle.close() }
        var writer = try Writer(record: self, url: url)
        var splicer = Splicer(
            removing: removing.map { (Self.order($0.stage), Array($0.path.utf8)) },
            adding: adding.map { (Self.order($0.stage), Array($0.path.utf8), $0) }, url: url
        )
        var pending = Data()
        reading: while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw .output(path: old.path, detail: "cannot read the previous record (\(error.localizedDescription))")
            }
            if chunk.isEmpty { break }
            pending.append(chunk)
            let (consumed, more) = try splicer.take(pending, into: &writer)
            pending = Data(pending.dropFirst(consumed))
            if !more { break reading }
        }
        guard splicer.finished else { return false }
        try splicer.finish(into: &writer)
        try writer.finish()
        return true
    }

    /// Merges the lines of an old record with the removals and additions, both in upload order, comparing raw bytes:
    /// a record has a line per file, and this runs once per line.
    private struct Splicer {
        let removing: [(stage: Int, path: [UInt8])]
        let adding: [(stage: Int, path: [UInt8], entry: Entry)]
        let url: URL
        private var removal = 0
        private var addition = 0
        private var inFiles = false
        /// Whether the files' closing line was seen (false also for a record in another layout).
        private(set) var finished = false
        private static let stages = SyncStage.allCases.map { Array($0.rawValue.utf8) }

        init(removing: [(Int, [UInt8])], adding: [(Int, [UInt8], Entry)], url: URL) {
            (self.removing, self.adding, self.url) = (removing, adding, url)
        }

        /// Handles the whole lines of `bytes`; returns how many bytes they took, and false once done (the end of the
        /// files, or a line not in the layout).
        mutating func take(_ bytes: Data, into writer: inout Writer) throws(PublishError) -> (consumed: Int, more: Bool) {
            var failure: PublishError?
            var consumed = 0
            var more = true
            bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                guard let base = raw.baseAddress else { return }
                while more, consumed < raw.count, let found = memchr(base + consumed, 0x0A, raw.count - consumed) {
                    let newline = base.distance(to: UnsafeRawPointer(found))
                    let line = UnsafeRawBufferPointer(rebasing: raw[consumed..<newline])
                    do throws(PublishError) {
                        more = try self.line(line, into: &writer)
                    } catch {
                        failure = error
                        more = false
                    }
                    consumed = newline + 1
                }
            }
            if let failure { throw failure }
            return (consumed, more)
        }

        /// Emits what is left to add.
        mutating func finish(into writer: inout Writer) throws(PublishError) {
            for (_, _, entry) in adding[addition...] { try writer.line(try PublicationRecord.line(for: entry, in: url)) }
        }

        private mutating func line(_ line: UnsafeRawBufferPointer, into writer: inout Writer) throws(PublishError) -> Bool {
            guard inFiles else {
                inFiles = line.elementsEqual("  \"files\": [".utf8)
                return true
            }
            if line.elementsEqual("  ],".utf8) || line.elementsEqual("  ]".utf8) {
                finished = true
                return false
            }
            var body = line[...]
            guard body.starts(with: "    {".utf8) else { return false }
            body = body.dropFirst(4)
            if body.last == UInt8(ascii: ",") { body = body.dropLast() }
            let entry = UnsafeRawBufferPointer(rebasing: body)
            if let (stage, path) = Self.plainKey(of: entry) {
                try merge(entry, stage: stage, path: entry[path], into: &writer)
                return true
            }
            // A path with escapes: decoded (musikk-publish makes none).
            guard let decoded = try? JSONDecoder().decode(Entry.self, from: Data(entry)) else { return false }
            try merge(entry, stage: PublicationRecord.order(decoded.stage), path: Array(decoded.path.utf8), into: &writer)
            return true
        }

        /// Writes the additions that come before the line, then the line unless it is removed.
        private mutating func merge(
            _ line: UnsafeRawBufferPointer, stage: Int, path: some Collection<UInt8>, into writer: inout Writer
        ) throws(PublishError) {
            func precedes(_ otherStage: Int, _ otherPath: [UInt8]) -> Bool {
                otherStage != stage ? otherStage < stage : otherPath.lexicographicallyPrecedes(path)
            }
            while addition < adding.count, precedes(adding[addition].stage, adding[addition].path) {
                try writer.line(try PublicationRecord.line(for: adding[addition].entry, in: url))
                addition += 1
            }
            while removal < removing.count, precedes(removing[removal].stage, removing[removal].path) { removal += 1 }
            if removal < removing.count, removing[removal].stage == stage, removing[removal].path.elementsEqual(path) {
                removal += 1
            } else {
                writer.line(line)
                try writer.flushIfFull()
            }
        }

        /// The stage (in upload order) and the range of the path in a file's line `{"path":"…",…,"stage":"…"}`;
        /// nil when the path has escapes or the line is laid out otherwise.
        private static func plainKey(of line: UnsafeRawBufferPointer) -> (Int, Range<Int>)? {
            let opening = #"{"path":""#.utf8
            guard line.starts(with: opening), line.count > opening.count + 4, line[line.count - 1] == UInt8(ascii: "}"),
                  line[line.count - 2] == UInt8(ascii: "\""),
                  let close = line[opening.count...].firstIndex(of: UInt8(ascii: "\"")),
                  let stageStart = line[..<(line.count - 2)].lastIndex(of: UInt8(ascii: "\"")),
                  let stage = stages.firstIndex(where: { $0.elementsEqual(line[(stageStart + 1)..<(line.count - 2)]) }),
                  !line[opening.count..<close].contains(UInt8(ascii: "\\"))
            else { return nil }
            return (stage, opening.count..<close)
        }
    }

    /// A stage's place in upload order.
    static func order(_ stage: SyncStage) -> Int { SyncStage.allCases.firstIndex(of: stage) ?? 0 }

    /// A file's line: ``Entry/plainJSON``, or JSONEncoder's bytes where a string needs escaping.
    fileprivate static func line(for entry: Entry, in url: URL) throws(PublishError) -> Data {
        if let plain = entry.plainJSON { return Data(plain.utf8) }
        return try PublicationBuilder.fragment(entry, path: url.path)
    }

    /// Writes a record a megabyte at a time: the header, then each file's line, then the rest.
    private struct Writer {
        let record: PublicationRecord
        let url: URL
        private let handle: FileHandle
        private var buffer = Data()
        private var first = true

        init(record: PublicationRecord, url: URL) throws(PublishError) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
                throw .output(path: url.path, detail: "cannot create the file (\(OutputArea.lastError))")
            }
            (self.record, self.url, self.handle) = (record, url, handle)
            put("{\n")
            if let catalogUpdated = record.catalogUpdated { put("  \"catalogUpdated\": \(try json(catalogUpdated)),\n") }
            put("  \"files\": [")
        }

        mutating func line(_ bytes: Data) throws(PublishError) {
            put(first ? "\n    " : ",\n    ")
            buffer.append(bytes)
            first = false
            try flushIfFull()
        }

        /// A line copied as it is; ``flushIfFull()`` after it.
        mutating func line(_ bytes: UnsafeRawBufferPointer) {
            put(first ? "\n    " : ",\n    ")
            buffer.append(contentsOf: bytes)
            first = false
        }

        mutating func flushIfFull() throws(PublishError) {
            if buffer.count >= 1 << 20 { try flush() }
        }

        mutating func finish() throws(PublishError) {
            defer { try? handle.close() }
            put("\n  ],\n")
            put("  \"generator\": \(try json(record.generator)),\n")
            put("  \"keepDays\": \(record.keepDays),\n")
            put("  \"stages\": [")
            for (index, stage) in record.stages.enumerated() {
                put((index == 0 ? "\n    " : ",\n    ") + (try json(stage)))
            }
            put("\n  ],\n")
            put("  \"version\": \(record.version)\n}\n")
            try flush()
        }

        private mutating func put(_ text: String) {
            buffer.append(contentsOf: text.utf8)
        }

        private func json(_ value: some Encodable) throws(PublishError) -> String {
            String(decoding: try PublicationBuilder.fragment(value, path: url.path), as: UTF8.self)
        }

        private mutating func flush() throws(PublishError) {
            do {
                try handle.write(contentsOf: buffer)
            } catch {
                throw .output(path: url.path, detail: "cannot write (\(error.localizedDescription))")
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }
}

extension PublicationRecord.Entry {
    /// The entry as JSONEncoder writes it (sorted keys, slashes unescaped), made without it when no string needs
    /// escaping (every path musikk-publish makes): a record has a line per file, a million at 100,000 tracks, and
    /// the encoder took most of the time of writing it. Nil when a string needs escaping.
    var plainJSON: String? {
        func plain(_ text: String) -> Bool {
            text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        guard plain(path), plain(sha256), retired.map(plain) ?? true else { return nil }
        let retiredKey = retired.map { ",\"retired\":\"\($0)\"" } ?? ""
        return "{\"path\":\"\(path)\"\(retiredKey),\"sha256\":\"\(sha256)\",\"size\":\(size),\"stage\":\"\(stage.rawValue)\"}"
    }
}
