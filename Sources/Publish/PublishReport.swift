/// What a publish did (or, in a dry run, would do). `--json` prints it.
public struct PublishReport: Codable, Sendable {
    public var outputDirectory: String
    public var dryRun: Bool
    /// Whether OUT_DIR now holds a new publication (false when nothing changed, and in a dry run).
    public var switched = false
    /// Whether the catalogs and options were as the last publish left them, so nothing was read or written.
    public var upToDate = false
    /// Whether the whole catalog was read and the publication built anew: a first publish, `--full`, other options,
    /// several WORK folders, or a publication not as the last publish left it. Otherwise only what changed since the
    /// last publish was read and written.
    public var full = false
    public var tracks = 0
    /// Files in the publication, retired ones included (publish.json not counted).
    public var files = 0
    /// Paths new to the publication.
    public var added: [String] = []
    /// Paths whose bytes changed (manifests, JSON; media never change under a name).
    public var changed: [String] = []
    /// Files kept as they were (hard-linked, not rewritten).
    public var unchanged = 0
    /// Files no longer referenced as of this publish, kept for `--keep-days`.
    public var retired: [String] = []
    /// Files retired earlier and still within their grace period.
    public var stillRetired = 0
    /// Files deleted: retired longer than `--keep-days`.
    public var pruned: [String] = []
    /// Bytes written or copied (hard links cost none).
    public var bytesWritten: Int64 = 0
    public var warnings: [String] = []

    public init(outputDirectory: String, dryRun: Bool) {
        self.outputDirectory = outputDirectory
        self.dryRun = dryRun
    }
}
