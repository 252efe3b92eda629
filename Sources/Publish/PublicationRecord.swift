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
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw .output(path: url.path, detail: "cannot create the file (\(OutputArea.lastError))")
        }
        defer { try? handle.close() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var buffer = Data()
        func put(_ text: String) throws(PublishError) {
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= 1 << 20 { try flush() }
        }
        func json(_ value: some Encodable) throws(PublishError) -> String {
            do {
                return String(decoding: try encoder.encode(value), as: UTF8.self)
            } catch {
                throw .output(path: url.path, detail: "cannot encode (\(error))")
            }
        }
        func flush() throws(PublishError) {
            do {
                try handle.write(contentsOf: buffer)
            } catch {
                throw .output(path: url.path, detail: "cannot write (\(error.localizedDescription))")
            }
            buffer.removeAll(keepingCapacity: true)
        }
        try put("{\n")
        if let catalogUpdated { try put("  \"catalogUpdated\": \(try json(catalogUpdated)),\n") }
        try put("  \"files\": [")
        for (index, entry) in files.enumerated() {
            try put((index == 0 ? "\n    " : ",\n    ") + (try json(entry)))
        }
        try put("\n  ],\n")
        try put("  \"generator\": \(try json(generator)),\n")
        try put("  \"keepDays\": \(keepDays),\n")
        try put("  \"stages\": [")
        for (index, stage) in stages.enumerated() {
            try put((index == 0 ? "\n    " : ",\n    ") + (try json(stage)))
        }
        try put("\n  ],\n")
        try put("  \"version\": \(version)\n}\n")
        try flush()
    }
}
