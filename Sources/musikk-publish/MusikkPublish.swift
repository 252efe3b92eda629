import ArgumentParser
import CommandLineSupport
import Fingerprint
import Foundation
import Logging
import MediaIO
import Publish
import WorkArea

@main
struct MusikkPublish: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musikk-publish",
        abstract: "Lay out a static folder for a CDN from the WORK folder (or the shards' WORK folders) that musikk-ingest wrote.",
        discussion: """
            OUT holds, with relative URLs throughout:
              media/      audio renditions, cover art and waveforms under
                          content-addressed names (they change whenever the
                          bytes do): cache them forever
              hls/ID/     each track's HLS master and media playlists
              dash/ID.mpd each track's DASH MPD
              api/        the static JSON catalog: index.json, artists,
                          releases, tracks (paged lists and one document
                          each) and search.json for client-side search;
                          schemas in the repository's schemas/publish/
              _headers    cache, type and CORS headers (Netlify, Cloudflare
                          Pages); nginx/musikk.conf is the same for nginx
              publish.json  every file with its size and SHA-256, in the
                          order a sync must upload them: media, manifests,
                          JSON, then _headers and publish.json last

            SHARDS
              `musikk-publish WORK0 WORK1 ... OUT`, or `musikk-publish SHARDS
              OUT` with SHARDS a folder of shard work folders, combines the
              shards of `musikk-ingest --shard I/N` into the publication one
              whole ingest would make. Every shard 0..N-1 must be there once.
              Conflicts (two shards giving one id to masters with the same
              audio; one release in two shards) are resolved as one ingest
              would and reported as warnings.

            SAFETY
              The new publication is built beside OUT and swapped in at once:
              readers, and a publish killed at any moment, leave OUT whole.
              Unchanged files are hard links to the previous publication's
              (not copied, not touched); media come from WORK by hard link
              where the filesystem allows. Media and manifests no longer
              referenced stay --keep-days (default 7) for CDNs still caching
              older manifests; removed tracks leave the JSON at once.
              When no catalog has changed since the last publish (nor the
              options, nor publish.json), a publish reads nothing and says
              so; --full reads and rebuilds all, repairing files removed
              from OUT by hand.

            COST OF A CHANGE
              Beside OUT a publish keeps .OUT.musikk-index.sqlite (every
              file, what refers to it, each track's list entry) and
              .OUT.musikk-behind (the publication before, sharing unchanged
              files by hard link). After a change, a publish
              reads only the tracks, releases and artists that changed,
              rewrites their documents and the pages and search they are
              in, brings the tree behind up to date and swaps it in: it
              costs what changed, not the catalog's size. A first publish,
              --full, other options, a change meeting another shard's
              tracks or releases, or an index or tree not as the last
              publish left them read the whole catalog ("full" in the
              --json report). Deleting both siblings is always safe.

            EXIT CODES
              0  published (or already up to date)
              1  error (unreadable catalog, missing work file, full disk); the
                 previous publication is untouched
              2  usage error
              4  another publish is using OUT, or musikk-ingest is running on
                 WORK (the message names it); try later
            """,
        version: MusikkVersion.current
    )

    @Argument(help: ArgumentHelp(
        "The work folder musikk-ingest wrote (or every shard's, or one folder of shard work folders), then the publication "
            + "folder (created if missing; must be empty or an earlier publication).",
        valueName: "work> ... <out"
    ))
    var folders: [String] = []

    /// The work folders: every folder named but the last.
    private var works: [String] { Array(folders.dropLast()) }
    /// The publication folder: the last one named.
    private var out: String { folders.last ?? "" }

    @Option(help: ArgumentHelp("Absolute URL the publication is served from; makes the JSON's URLs absolute.",
                               valueName: "url"))
    var baseURL: String?

    @Option(help: "Days to keep media and manifests no longer referenced.")
    var keepDays = 7

    @Option(help: ArgumentHelp(
        "Fingerprint similarity (0-1) from which masters in two shards are reported as one recording; use the value the "
            + "shards were ingested with.", valueName: "similarity"))
    var duplicateThreshold = FingerprintMatcher.defaultThreshold

    @Flag(help: "Read every catalog and rebuild even when nothing changed since the last publish.")
    var full = false

    @Flag(help: "Print what would change and write nothing.")
    var dryRun = false

    @Flag(help: "Print a JSON report to standard output.")
    var json = false

    @Flag(help: "Print only errors.")
    var quiet = false

    mutating func validate() throws {
        guard keepDays >= 0 else { throw ValidationError("--keep-days must be 0 or more.") }
        guard FingerprintMatcher.thresholdRange.contains(duplicateThreshold) else {
            throw ValidationError("--duplicate-threshold must be from 0.5 to 1.")
        }
        if let baseURL {
            guard let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme),
                  url.host != nil else {
                throw ValidationError("--base-url '\(baseURL)' must be an absolute http or https URL.")
            }
        }
        guard folders.count >= 2 else {
            throw ValidationError("Name the work folder (or the shards' work folders) and then the publication folder: musikk-publish WORK OUT.")
        }
        var isDirectory: ObjCBool = false
        for work in works {
            guard FileManager.default.fileExists(atPath: work, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("WORK '\(work)' is not a folder.")
            }
        }
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("OUT '\(out)' is a file, not a folder.")
        }
    }

    func run() throws {
        let options = PublishOptions(
            workDirectories: works.map { URL(fileURLWithPath: $0, isDirectory: true) },
            outputDirectory: URL(fileURLWithPath: out, isDirectory: true),
            baseURL: baseURL, keepDays: keepDays, duplicateThreshold: duplicateThreshold, full: full, dryRun: dryRun
        )
        let interactive = isatty(STDERR_FILENO) == 1 && !quiet
        let report: PublishReport
        do {
            report = try Publisher(options: options).run { event in
                guard interactive else { return }
                Self.show(event)
            }
        } catch {
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            Logger(label: "musikk-publish").critical("\(error.description)")
            throw ExitCode(error.exitCode)
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if !quiet { FileHandle.standardError.write(Data(Self.summary(report).utf8)) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(report) + Data("\n".utf8))
        }
    }

    static func main() async {
        // Resizing covers uses FFmpeg; a cover that fails is reported as a warning naming it.
        await runAsMusikkTool { FFmpegLogging.silence() }
    }

    private static func show(_ event: PublishProgress) {
        let text = switch event {
        case .reading: "reading the catalog"
        case let .staging(done, total): "placing media \(done)/\(total)"
        case .switching: "switching to the new publication"
        }
        FileHandle.standardError.write(Data("\r\u{1B}[Kmusikk-publish: \(text)".utf8))
    }

    /// What changed, in a few lines for a person or a cron mail.
    static func summary(_ report: PublishReport) -> String {
        var lines: [String] = []
        let verb = report.dryRun ? "would publish" : (report.switched ? "published" : "up to date:")
        let megabytes = String(format: "%.1f", Double(report.bytesWritten) / 1_000_000)
        lines.append("musikk-publish: \(verb) \(report.tracks) tracks, \(report.files) files in \(report.outputDirectory)")
        lines.append("  \(report.added.count) added, \(report.changed.count) changed, \(report.unchanged) unchanged, "
            + "\(report.retired.count) retired (\(report.stillRetired) earlier), \(report.pruned.count) deleted; "
            + "\(megabytes) MB written")
        if report.upToDate {
            lines.append("  the catalogs and options are as the last publish left them: nothing was read")
        }
        if report.dryRun {
            for path in report.added { lines.append("  add     \(path)") }
            for path in report.changed { lines.append("  change  \(path)") }
            for path in report.retired { lines.append("  retire  \(path)") }
            for path in report.pruned { lines.append("  delete  \(path)") }
        }
        for warning in report.warnings { lines.append("warning: \(warning)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
