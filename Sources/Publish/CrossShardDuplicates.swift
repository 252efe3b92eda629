import Catalog
import Fingerprint
import Foundation
import WorkArea

/// Recordings ingested in two shards: each shard only looked for duplicates among its own masters, so a copy in
/// another shard is found here. The shards' fingerprint key indexes are merged in key order, a page at a time;
/// tracks of different shards that share many keys are aligned bit by bit, as one ingest would have done.
struct CrossShardDuplicates {
    /// One shard: its catalog and the live tracks' master paths by id.
    struct ShardCatalog {
        var work: WorkLayout
        var database: CatalogDatabase
        var paths: [String: String]
    }

    let shards: [ShardCatalog]
    let threshold: Double
    /// Keys held by more tracks than this say nothing about any pair (silence, a common intro) and are skipped.
    static let commonKeyLimit = 64
    /// Most candidate pairs counted at once; a catalog past it is reported, not searched further.
    static let pairLimit = 1_000_000
    static let pageSize = 10_000

    private struct Member: Hashable, Comparable {
        var shard: Int
        var trackId: String
        static func < (a: Member, b: Member) -> Bool { (a.shard, a.trackId) < (b.shard, b.trackId) }
    }

    private struct Pair: Hashable {
        var first: Member
        var second: Member
    }

    /// One shard's index, read a page at a time.
    private struct KeyReader {
        let shard: ShardCatalog
        var page: [(key: Int64, trackId: String)] = []
        var position = 0
        var exhausted = false

        mutating func nextKey() throws(PublishError) -> Int64? {
            if position == page.count, !exhausted {
                let last = page.last
                do {
                    page = try shard.database.fingerprintKeys(after: last, limit: CrossShardDuplicates.pageSize)
                } catch {
                    throw .catalog(path: shard.work.catalog.path, detail: "cannot read the fingerprint index (\(error))")
                }
                position = 0
                exhausted = page.count < CrossShardDuplicates.pageSize
            }
            return position < page.count ? page[position].key : nil
        }

        /// The tracks holding `key`, consumed.
        mutating func take(_ key: Int64) throws(PublishError) -> [String] {
            var tracks: [String] = []
            while try nextKey() == key {
                tracks.append(page[position].trackId)
                position += 1
            }
            return tracks
        }
    }

    /// One warning per pair of tracks in different shards that are the same recording, in path order.
    func find() throws(PublishError) -> [String] {
        var pairs: [Pair: Int] = [:]
        var keyCounts: [Member: Int] = [:]
        var truncated = false
        var readers = shards.map { KeyReader(shard: $0) }
        while true {
            var lowest: Int64?
            for index in readers.indices {
                if let key = try readers[index].nextKey(), key < lowest ?? .max { lowest = key }
            }
            guard let key = lowest else { break }
            var members: [Member] = []
            for index in readers.indices {
                members += try readers[index].take(key).compactMap { id in
                    shards[index].paths[id] == nil ? nil : Member(shard: index, trackId: id)
                }
            }
            for member in members { keyCounts[member, default: 0] += 1 }
            guard members.count > 1, members.count <= Self.commonKeyLimit, !truncated else { continue }
            for (position, first) in members.enumerated() {
                for second in members[(position + 1)...] where second.shard != first.shard {
                    pairs[Pair(first: min(first, second), second: max(first, second)), default: 0] += 1
                }
            }
            truncated = pairs.count > Self.pairLimit
        }

        var warnings: [(String, String)] = []
        for (pair, shared) in pairs {
            let fewest = min(keyCounts[pair.first] ?? 0, keyCounts[pair.second] ?? 0)
            guard shared >= FingerprintMatcher.minimumSharedKeys(fewest),
                  let first = try fingerprint(pair.first), let second = try fingerprint(pair.second),
                  let match = FingerprintMatcher.match(first, second),
                  FingerprintMatcher.isSameRecording(match, threshold: threshold) else { continue }
            let paths = [path(pair.first), path(pair.second)].sorted()
            warnings.append((paths[0], "\(paths[0]) and \(paths[1]) are the same recording (similarity "
                + String(format: "%.3f", match.similarity) + ") in different shards: a whole ingest would record the "
                + "second as a duplicate of the first, or leave it out with --skip-duplicates; shards cannot"))
        }
        let found = warnings.sorted { $0 < $1 }.map(\.1)
        guard truncated else { return found }
        return found + ["the shards share more than \(Self.pairLimit) candidate pairs of fingerprints; the search for "
            + "duplicates across shards stopped there"]
    }

    private func path(_ member: Member) -> String {
        "\(shards[member.shard].paths[member.trackId] ?? member.trackId) (shard \(member.shard))"
    }

    private func fingerprint(_ member: Member) throws(PublishError) -> [UInt32]? {
        let shard = shards[member.shard]
        do {
            return try shard.database.fingerprintRaw(ofTrack: member.trackId).map { Fingerprint.raw(fromBytes: [UInt8]($0)) }
        } catch {
            throw .catalog(path: shard.work.catalog.path, detail: "cannot read track \(member.trackId)'s fingerprint (\(error))")
        }
    }
}
