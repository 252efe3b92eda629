import Foundation
import Testing
import TestSupport

/// The good fixtures ingested once per test process: the WORK_DIR the serving tests publish.
enum IngestedFixtures {
    static let work: Result<URL, SetupError> = Result { () throws(SetupError) in
        do {
            let root = try Repository.temporaryDirectory("publish-fixtures")
            let work = root.appendingPathComponent("work")
            let result = try Command.run(Repository.executable("musikk-ingest").path,
                                         [Repository.goodMasters.path, work.path, "--jobs", "2", "--quiet"])
            guard result.status == 0 else { throw SetupError(description: result.standardError) }
            return work
        } catch let error as SetupError {
            throw error
        } catch {
            throw SetupError(description: "\(error)")
        }
    }

    static func get() throws -> URL { try work.get() }
}

/// Runs musikk-publish.
func publish(_ work: URL, _ out: URL, _ extra: [String] = []) throws -> CommandResult {
    try Command.run(Repository.executable("musikk-publish").path, [work.path, out.path] + extra)
}

/// A publication on disk, read with nothing but Foundation: publish.json and the files it lists.
struct PublishedTree {
    let root: URL

    struct Entry: Decodable, Equatable {
        var path: String
        var size: Int64
        var sha256: String
        var stage: String
        var retired: String?
    }

    struct Record: Decodable {
        var files: [Entry]
    }

    func record() throws -> Record {
        try JSONDecoder().decode(Record.self, from: Data(contentsOf: root.appendingPathComponent("publish.json")))
    }

    func json(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent(path)))
        return object as? [String: Any] ?? [:]
    }

    /// Track ids listed in the JSON catalog's track pages.
    func trackIDs() throws -> [String] {
        var ids: [String] = []
        var page: String? = "api/tracks/page-1.json"
        while let current = page {
            let document = try json(current)
            ids += (document["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            page = document["next"] as? String
        }
        return ids
    }

    /// Every regular file under the root (publish.json included), relative paths.
    func files() -> Set<String> { Set(FileTree.files(under: root).keys) }

    /// Inode and modification time per file: equal pairs mean a file was neither rewritten nor copied.
    func fileStates() throws -> [String: String] {
        var states: [String: String] = [:]
        for path in files() {
            let attributes = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path)
            let inode = attributes[.systemFileNumber] as? Int ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            states[path] = "\(inode)@\(modified)"
        }
        return states
    }

    /// What is wrong with the tree as a whole: files publish.json lists that are missing or differ (sha256 with
    /// sha256sum), files it does not list, and manifest URIs that lead nowhere. Empty for a whole publication.
    func problems() throws -> [String] {
        var problems: [String] = []
        let record = try record()
        let listed = Set(record.files.map(\.path))
        let present = files()
        for extra in present.subtracting(listed).subtracting(["publish.json"]) {
            problems.append("\(extra): not listed in publish.json")
        }
        let missing = listed.subtracting(present)
        problems += missing.sorted().map { "\($0): listed but missing" }
        let checked = record.files.filter { present.contains($0.path) }
        if !checked.isEmpty {
            let sums = try Command.run("sha256sum", checked.map(\.path), in: root)
            var actual: [String: String] = [:]
            for line in sums.text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { actual[String(parts[1].drop { $0 == " " || $0 == "*" })] = String(parts[0]) }
            }
            for entry in checked where actual[entry.path] != entry.sha256 {
                problems.append("\(entry.path): sha256 differs from publish.json")
            }
        }
        for path in present where path.hasSuffix(".m3u8") || path.hasSuffix(".mpd") {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            for reference in Self.references(in: text, mpd: path.hasSuffix(".mpd")) {
                let target = root.appendingPathComponent(path).deletingLastPathComponent()
                    .appendingPathComponent(reference).standardizedFileURL
                if !FileManager.default.fileExists(atPath: target.path) {
                    problems.append("\(path): refers to \(reference), which is not there")
                }
            }
        }
        return problems
    }

    /// URIs a playlist or MPD refers to (file names only; byte ranges are the players' business).
    static func references(in text: String, mpd: Bool) -> [String] {
        if mpd {
            return text.components(separatedBy: "<BaseURL>").dropFirst().compactMap {
                $0.components(separatedBy: "</BaseURL>").first
            }.filter { !$0.hasSuffix("/") }
        }
        var uris: [String] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#EXT-X-MAP:URI=\"") {
                uris.append(String(line.dropFirst("#EXT-X-MAP:URI=\"".count).prefix { $0 != "\"" }))
            } else if !line.hasPrefix("#") && !line.isEmpty {
                uris.append(String(line))
            }
        }
        return uris
    }
}
