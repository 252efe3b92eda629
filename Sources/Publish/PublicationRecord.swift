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

    /// Reads the record of the publication at `root`; nil when there is none.
    static func read(from root: URL) throws(PublishError) -> PublicationRecord? {
        let url = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(PublicationRecord.self, from: Data(contentsOf: url))
        } catch {
            throw .output(path: url.path, detail: "cannot read the previous publication's record (\(error)); "
                + "restore it, or publish into a new folder")
        }
    }

    func encoded() throws(PublishError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        do {
            return try encoder.encode(self) + Data("\n".utf8)
        } catch {
            throw .output(path: Self.fileName, detail: "cannot encode (\(error))")
        }
    }
}
