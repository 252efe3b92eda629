import Crypto
import Foundation

/// One shard of a sharded ingest (`--shard I/N`): the masters whose release folder hashes to `index` out of
/// `count`. Each shard has its own WORK, which records the shard it holds (`shard.json`), so shards never contend
/// and `musikk-publish WORK…` can check it was given every shard once.
public struct Shard: Sendable, Equatable, Codable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Why a shard could not be chosen: a usage error naming what to fix.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The environment variables array-job engines put the task's index in, in the order they are read.
    public static let engineIndexVariables = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"]

    /// Shards in one ingest at most: more would leave most WORK folders with a release or two.
    public static let maximumCount = 100_000

    public init(index: Int, count: Int) throws(Refusal) {
        guard (1...Self.maximumCount).contains(count) else {
            throw Refusal(description: "--shard I/N: N must be from 1 to \(Self.maximumCount), not \(count)")
        }
        guard (0..<count).contains(index) else {
            throw Refusal(description: "--shard I/N: I must be from 0 to \(count - 1) for \(count) shards, not \(index)")
        }
        self.index = index
        self.count = count
    }

    /// Reads `I/N`, or `auto/N` with I from the array-job engine's environment: Kubernetes Indexed Jobs
    /// (`JOB_COMPLETION_INDEX`), AWS Batch array jobs (`AWS_BATCH_JOB_ARRAY_INDEX`) or Slurm job arrays
    /// (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`, so `--array=1-3` works as well as `0-2`).
    public init(parsing text: String, environment: [String: String]) throws(Refusal) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let count = Int(parts[1]) else {
            throw Refusal(description: "--shard takes I/N (this shard's index from 0, and the number of shards) or auto/N, not '\(text)'")
        }
        if parts[0] == "auto" {
            try self.init(index: try Self.engineIndex(environment, count: count), count: count)
        } else {
            guard let index = Int(parts[0]) else {
                throw Refusal(description: "--shard I/N: I must be a number from 0, or auto; not '\(parts[0])'")
            }
            try self.init(index: index, count: count)
        }
    }

    private static func engineIndex(_ environment: [String: String], count: Int) throws(Refusal) -> Int {
        guard let name = engineIndexVariables.first(where: { environment[$0] != nil }), let text = environment[name] else {
            throw Refusal(description: "--shard auto/\(count): none of \(engineIndexVariables.joined(separator: ", ")) is set; "
                + "run it as a Kubernetes Indexed Job, an AWS Batch array job or a Slurm job array, or give the index: --shard I/\(count)")
        }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw Refusal(description: "--shard auto/\(count): \(name) is '\(text)', not a number")
        }
        guard name == "SLURM_ARRAY_TASK_ID" else { return value }
        let minimumText = environment["SLURM_ARRAY_TASK_MIN"] ?? "0"
        guard let minimum = Int(minimumText.trimmingCharacters(in: .whitespaces)), minimum >= 0, value >= minimum else {
            throw Refusal(description: "--shard auto/\(count): SLURM_ARRAY_TASK_MIN is '\(minimumText)', which does not fit SLURM_ARRAY_TASK_ID \(value)")
        }
        return value - minimum
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether the master at `relativePath` (relative to MASTERS, `/`-separated) belongs to this shard.
    public func contains(_ relativePath: String) -> Bool {
        Self.shard(of: relativePath, count: count) == index
    }

    /// The shard of a master: a hash of its release folder, so a release stays together (album gain is measured
    /// over it) and adding masters moves no release already placed.
    static func shard(of relativePath: String, count: Int) -> Int {
        let digest = SHA256.hash(data: Data(releaseFolder(of: relativePath).utf8))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int(value % UInt64(count))
    }

    /// The folder that holds a master's release: its parent, or the parent's parent when the parent is a disc of
    /// a multi-disc set (`CD1`, `Disc 2`, `disk3`). A master directly in MASTERS is its own release folder.
    static func releaseFolder(of relativePath: String) -> String {
        var folders = relativePath.split(separator: "/").dropLast().map(String.init)
        guard !folders.isEmpty else { return relativePath }
        if folders.count > 1, let last = folders.last, isDiscFolder(last) { folders.removeLast() }
        return folders.joined(separator: "/")
    }

    private static func isDiscFolder(_ name: String) -> Bool {
        let lowered = name.lowercased()
        for prefix in ["cd", "disc", "disk"] where lowered.hasPrefix(prefix) {
            let rest = lowered.dropFirst(prefix.count).trimmingCharacters(in: CharacterSet(charactersIn: " _-."))
            let number = rest.prefix { $0.isASCII && $0.isNumber }
            // "CD1", "Disc 2", "disc 2 - Remixes": a number right after the word.
            if !number.isEmpty, number.count <= 3 { return true }
        }
        return false
    }
}

extension Shard {
    private enum CodingKeys: String, CodingKey { case index, count }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(index: try container.decode(Int.self, forKey: .index), count: try container.decode(Int.self, forKey: .count))
        } catch let refusal as Refusal {
            throw DecodingError.dataCorruptedError(forKey: .index, in: container, debugDescription: refusal.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encode(count, forKey: .count)
    }
}

extension WorkLayout {
    /// Which shard of a sharded ingest this WORK holds; absent for a whole ingest.
    public var shardFile: URL { root.appendingPathComponent("shard.json") }

    /// The shard this WORK holds, or nil for a whole ingest.
    public func recordedShard() throws -> Shard? {
        guard FileManager.default.fileExists(atPath: shardFile.path) else { return nil }
        let handle = try FileHandle(forReadingFrom: shardFile)
        defer { try? handle.close() }
        // A shard record is a few bytes; more is not one.
        return try JSONDecoder().decode(Shard.self, from: try handle.read(upToCount: 4096) ?? Data())
    }

    /// Records the shard this WORK holds (written whole, then renamed into place).
    public func record(_ shard: Shard) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(shard).write(to: shardFile, options: .atomic)
    }
}
