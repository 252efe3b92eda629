import Foundation
import WorkArea
#if canImport(Glibc)
import Glibc
#endif

/// What the last publish into OUT_DIR was made from, kept beside it (`.OUT.musikk-state.json`): when the catalogs'
/// change keys, the options and the publication on disk are all as recorded, and no retired file is due for
/// deletion, a publish has nothing to do and returns without reading a catalog.
struct PublishState: Codable, Equatable {
    /// The version, options and each WORK's catalog change key the publication was made from.
    var inputKey: String
    /// `publish.json` as that publish left it: a publication replaced or restored by hand is not trusted.
    var record: FileStamp
    /// When the earliest retired file is due for deletion; nil when none is retired.
    var pruneDue: Date?
    var tracks: Int
    var files: Int
    var retired: Int

    /// The input key of a publish: what, if it changes, may change the publication.
    /// OUT's own path is in it: the nginx snippet names it.
    static func inputKey(options: PublishOptions, out: URL, catalogs: [(path: String, changeKey: String)]) -> String {
        var lines = [
            "musikk-publish \(MusikkVersion.current)", "base \(options.baseURL.map(Publisher.normalized) ?? "")",
            "keep \(options.keepDays)", "out \(out.path)",
        ]
        lines += catalogs.map { "catalog \($0.path) \($0.changeKey)" }
        return FileDigest.sha256(of: Data(lines.joined(separator: "\n").utf8))
    }

    /// Whether a publish with `inputKey` at `now` would leave the publication at `root` as it is.
    func holds(inputKey: String, root: URL, now: Date) -> Bool {
        self.inputKey == inputKey && FileStamp(path: root.appendingPathComponent(PublicationRecord.fileName).path) == record
            && pruneDue.map { now < $0 } ?? true
    }

    static func read(_ url: URL) -> PublishState? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(PublishState.self, from: data)
    }

    /// Writes the state in one step (a temporary file renamed over it).
    func write(_ url: URL) throws(PublishError) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw .output(path: url.path, detail: "cannot record the publish state (\(error.localizedDescription))")
        }
    }

    /// Forgets the state before the publication changes, so a publish killed before it records the new state
    /// leaves none, and the next publish reads everything.
    static func discard(_ url: URL) throws(PublishError) {
        guard unlink(url.path) == 0 || errno == ENOENT else {
            throw .output(path: url.path, detail: "cannot remove the stale publish state (\(OutputArea.lastError))")
        }
    }
}
