import Catalog
import Foundation
import WorkArea

/// The WORK folders one publication is made from: a whole ingest, or every shard of a sharded one
/// (`musikk-ingest --shard I/N`), in shard order.
struct WorkSet {
    let works: [WorkLayout]

    /// Reads what the command line named: WORK folders, or one folder whose subfolders are the shards' WORKs.
    /// Refuses a set that is not one whole ingest or exactly every shard of one: publishing part of the shards
    /// would retire every release of the others.
    static func resolve(_ directories: [URL]) throws(PublishError) -> WorkSet {
        var works = directories.map { WorkLayout(root: $0.standardizedFileURL) }
        if works.count == 1, let only = works.first, !FileManager.default.fileExists(atPath: only.catalog.path) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: only.root.path)) ?? []
            works = names.sorted().map { WorkLayout(root: only.root.appendingPathComponent($0)) }
                .filter { FileManager.default.fileExists(atPath: $0.catalog.path) }
            guard !works.isEmpty else {
                throw .workDirectory(path: only.root.path, detail: "no catalog.sqlite here, nor in its subfolders")
            }
        }
        var shards: [(work: WorkLayout, shard: Shard?)] = []
        for work in works {
            guard FileManager.default.fileExists(atPath: work.catalog.path) else {
                throw .workDirectory(path: work.root.path, detail: "no catalog.sqlite here")
            }
            do {
                shards.append((work, try work.recordedShard()))
            } catch {
                throw .workDirectory(path: work.shardFile.path, detail: "not a shard record (\(error))")
            }
        }
        if shards.count == 1, shards[0].shard.map({ $0.count == 1 }) ?? true { return WorkSet(works: works) }
        let counts = Set(shards.map { $0.shard?.count ?? 0 })
        guard let count = counts.first, counts.count == 1, count > 0 else {
            let described = shards.map { "\($0.work.root.path) (\($0.shard.map { "shard \($0)" } ?? "a whole ingest"))" }
            throw .workDirectory(
                path: shards[0].work.root.path,
                detail: "these work folders are not the shards of one ingest: \(described.joined(separator: ", "))")
        }
        let byIndex = Dictionary(grouping: shards) { $0.shard?.index ?? -1 }
        if let twice = byIndex.first(where: { $0.value.count > 1 }) {
            throw .workDirectory(
                path: twice.value[0].work.root.path,
                detail: "shard \(twice.key)/\(count) is given twice (\(twice.value.map(\.work.root.path).joined(separator: ", ")))")
        }
        let missing = (0..<count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw .workDirectory(
                path: shards[0].work.root.path,
                detail: "shards \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) are missing; publish every shard's WORK together "
                    + "(a missing one would retire its releases), after all shard jobs finished")
        }
        return WorkSet(works: (0..<count).compactMap { byIndex[$0]?.first?.work })
    }
}

/// The contents of one or more catalogs as one, with the WORK each track's and release's files are in.
struct CombinedContents {
    var contents: CatalogContents
    var trackWork: [String: WorkLayout]
    /// The id a track has in its shard's catalog, where combining gave it another.
    var shardTrackID: [String: String] = [:]
    var releaseWork: [Int64: WorkLayout]
    /// Conflicts resolved while combining, for the report.
    var warnings: [String]

    /// One catalog as it is.
    init(_ contents: CatalogContents, work: WorkLayout) {
        self.contents = contents
        trackWork = Dictionary(uniqueKeysWithValues: contents.tracks.map { ($0.id, work) })
        releaseWork = Dictionary(uniqueKeysWithValues: contents.releases.compactMap { release in release.id.map { ($0, work) } })
        warnings = []
    }

    /// Shards' catalogs (in shard order) as the one catalog a whole ingest would have made. Artists and releases
    /// are the same rows in every shard (their ids come from their names); tracks are each in one shard, except
    /// where two shards gave one id to two masters with the same audio: the master first in path order keeps it and
    /// the others get the id a whole ingest would have given them (``Track/newID(audioSHA256:relativePath:isTaken:)``).
    init(shards: [(work: WorkLayout, contents: CatalogContents)]) {
        var artists: [Int64: Artist] = [:]
        var releaseRows: [Int64: [(shard: Int, release: Release, work: WorkLayout)]] = [:]
        var warnings: [String] = []
        var candidates: [(track: Track, shard: Int, work: WorkLayout, contents: CatalogContents)] = []
        for (shard, (work, contents)) in shards.enumerated() {
            for artist in contents.artists { if let id = artist.id, artists[id] == nil { artists[id] = artist } }
            for release in contents.releases { if let id = release.id { releaseRows[id, default: []].append((shard, release, work)) } }
            candidates += contents.tracks.map { ($0, shard, work, contents) }
        }
        // A byte-for-byte copy of a master in another shard: a whole ingest rejects every copy after the first in
        // path order (the order it scans masters in), so the combination leaves it out.
        var firstWithBytes: [String: String] = [:]
        for candidate in candidates.sorted(by: { $0.track.sourcePath < $1.track.sourcePath }) {
            firstWithBytes[candidate.track.sourceSHA256] = firstWithBytes[candidate.track.sourceSHA256] ?? candidate.track.sourcePath
        }
        candidates.removeAll { candidate in
            guard let first = firstWithBytes[candidate.track.sourceSHA256], first != candidate.track.sourcePath else { return false }
            warnings.append("\(candidate.track.sourcePath) (in \(candidate.work.root.path)) is a copy of \(first), in another shard: "
                + "left out, as a whole ingest rejects it; remove the copy")
            return true
        }
        // A release is published as the shard holding most of its tracks has it (album gain is measured there).
        var releases: [Int64: Release] = [:]
        var releaseWork: [Int64: WorkLayout] = [:]
        var tracksOfRelease: [Int64: [Int: Int]] = [:]
        for candidate in candidates { if let id = candidate.track.releaseId { tracksOfRelease[id, default: [:]][candidate.shard, default: 0] += 1 } }
        for (id, rows) in releaseRows {
            let held = tracksOfRelease[id] ?? [:]
            guard let chosen = rows.max(by: { (held[$0.shard] ?? 0, -$0.shard) < (held[$1.shard] ?? 0, -$1.shard) }) else { continue }
            (releases[id], releaseWork[id]) = (chosen.release, chosen.work)
            if held.count > 1 {
                warnings.append("release \(id) \(chosen.release.title) has masters in \(held.count) shards (its masters are in several release "
                    + "folders); published as \(chosen.work.root.path) has it, album gain included")
            }
        }
        // One id per master: on a clash, the master first in path order keeps it.
        candidates.sort { ($0.track.id, $0.track.sourcePath) < ($1.track.id, $1.track.sourcePath) }
        var taken = Set(candidates.map(\.track.id))
        var combined = CatalogContents(
            artists: [], releases: [], tracks: [], trackArtists: [:], renditions: [:], loudness: [:], waveforms: [:], lyrics: [:], lastChange: nil)
        var trackWork: [String: WorkLayout] = [:]
        var shardTrackID: [String: String] = [:]
        var previous: String?
        for (track, _, work, contents) in candidates {
            var track = track
            let original = track.id
            if original == previous {
                track.id = Track.newID(audioSHA256: track.audioSHA256, relativePath: track.sourcePath) { taken.contains($0) }
                taken.insert(track.id)
                shardTrackID[track.id] = original
                warnings.append("tracks \(original) (\(track.sourcePath)) and another master share their audio across shards; "
                    + "\(track.sourcePath) is published as \(track.id), as one whole ingest would have named it")
            }
            previous = original
            combined.tracks.append(track)
            trackWork[track.id] = work
            combined.trackArtists[track.id] = contents.trackArtists[original]
            combined.renditions[track.id] = contents.renditions[original]?.map { var row = $0; row.trackId = track.id; return row }
            combined.loudness[track.id] = contents.loudness[original].map { var row = $0; row.trackId = track.id; return row }
            combined.waveforms[track.id] = contents.waveforms[original].map { var row = $0; row.trackId = track.id; return row }
            combined.lyrics[track.id] = contents.lyrics[original]
        }
        // The orders CatalogDatabase.contents() reads in: SQLite's, NULL first, text by its UTF-8 bytes.
        combined.tracks.sort { a, b in
            Self.precedes([.integer(a.releaseId == nil ? 1 : 0), .integer(a.releaseId), .integer(a.discNumber.map(Int64.init)),
                           .integer(a.trackNumber.map(Int64.init)), .text(a.title), .text(a.id)],
                          [.integer(b.releaseId == nil ? 1 : 0), .integer(b.releaseId), .integer(b.discNumber.map(Int64.init)),
                           .integer(b.trackNumber.map(Int64.init)), .text(b.title), .text(b.id)])
        }
        combined.artists = artists.values.sorted { Self.precedes([.text($0.name), .integer($0.id)], [.text($1.name), .integer($1.id)]) }
        combined.releases = releases.values.sorted { Self.precedes([.text($0.title), .integer($0.id)], [.text($1.title), .integer($1.id)]) }
        combined.lastChange = shards.compactMap(\.contents.lastChange).max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }
        self.contents = combined
        self.trackWork = trackWork
        self.shardTrackID = shardTrackID
        self.releaseWork = releaseWork
        self.warnings = warnings
    }

    /// A sort key as SQLite compares it (NULL first, integers by value, text by its UTF-8 bytes).
    private enum SortValue {
        case integer(Int64?)
        case text(String)
    }

    private static func precedes(_ a: [SortValue], _ b: [SortValue]) -> Bool {
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case let (.integer(p), .integer(q)):
                if p == q { continue }
                guard let p else { return true }
                guard let q else { return false }
                return p < q
            case let (.text(p), .text(q)):
                if p.utf8.elementsEqual(q.utf8) { continue }
                return p.utf8.lexicographicallyPrecedes(q.utf8)
            default:
                continue
            }
        }
        return false
    }
}
