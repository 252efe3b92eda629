import ArgumentParser
import CommandLineSupport
import Fingerprint
import Foundation
import Ingest
import Logging
import MediaIO
import WorkArea

@main
struct MusikkIngest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musikk-ingest",
        abstract: "Turn a folder of audio masters into HLS + DASH renditions and a SQLite catalog.",
        discussion: """
            Every file under MASTERS is probed by content (FLAC, WAV, AIFF, MP3, Ogg Vorbis, Opus, M4A/ALAC, \
            or a video carrying a music track). Each good master is decoded once and encoded to the ladder \
            (default AAC-LC 64/128/256 kb/s, Opus 64/96/160 kb/s), packaged as CMAF with an HLS master playlist \
            and a DASH MPD under WORK/tracks/ID/, and recorded in WORK/catalog.sqlite. A master is rejected, with \
            a one-line reason, when it has no audio, is damaged or truncated anywhere, is shorter than the minimum \
            duration, is digital silence, or has a sample rate or channel count outside the limits; rejected \
            masters cost the others nothing.

            ANALYSIS (from the same decode, no extra pass; --no-analysis: none)
              fingerprint: Chromaprint, the string `fpcalc -length 0` prints,
                and the first 120 s (fpcalc's default), raw and compressed.
              duplicates: fingerprints are looked up in the catalog's index
                and among masters recorded earlier in the run; similarity at
                or above --duplicate-threshold (default 0.85; re-encodes score
                above 0.95) prints "duplicate of" and fills the duplicate
                table. Duplicates are ingested unless --skip-duplicates.
              loudness: EBU R128 integrated (LUFS), range (LU), sample and
                true peak; ReplayGain 2.0 track gain (-18 LUFS), album gain
                and peak per release.
              waveform: audiowaveform data version 2, tracks/ID/waveform.json
                and .dat, 8-bit, 100 pixels/s, channels merged.
              signal: clipping and DC offset are warned about; leading and
                trailing silence are recorded (gapless, crossfades).

            RE-RUNS (cron, CI)
              A run does only what changed since the last one: a master with
              the same size and modification time is not read; otherwise its
              SHA-256 decides (touched but identical: nothing to do), then the
              SHA-256 of its audio packets (tags only: catalog updated, no
              re-encoding). A moved or renamed master keeps its track id and
              renditions; a vanished one is marked removed. A profile change
              re-encodes only the renditions whose settings changed. Runs are
              locked per WORK (musikk.lock); a killed run is cleaned up after
              by the next. --dry-run prints the plan and writes nothing.

            TIERS
              lossless: a [[rendition]] with codec = "flac" adds FLAC in CMAF
                (fLaC + dfLa) at the master's rate (up to 192 kHz) and depth
                (16 or 24 bits), bit-exact; its own HLS master and DASH
                AdaptationSet. surround = "keep" keeps more than 2 channels.
              protected: a [protection] table with scheme = "cbcs" encrypts
                every rendition (CMAF cbcs: sinf/tenc, senc, saiz/saio) under a
                key per track derived from the key-encryption key: --key-file,
                else WORK/keys/kek (made on first use, mode 0600). Keys never
                reach the publication: musikk-server --key-file hands them to
                signed-in listeners (ClearKey licence, HLS key URI). --json
                gives each rendition's "tier" and, protected, its "kid".

            SHARDS (catalogs too big for one machine)
              --shard I/N ingests only the masters whose release folder
              (the master's folder, or the set's folder for CD1/Disc 2
              subfolders) hashes to I of N; --shard auto/N takes I from
              JOB_COMPLETION_INDEX (Kubernetes Indexed Job),
              AWS_BATCH_JOB_ARRAY_INDEX or SLURM_ARRAY_TASK_ID (less
              SLURM_ARRAY_TASK_MIN). Each shard needs its own WORK, which
              remembers its shard; `musikk-publish WORK0 WORK1 ... OUT` (or a
              folder of shard WORKs) makes the one publication. Adding masters
              moves no release to another shard; track ids do not depend on
              the shard. See examples/ for Slurm, Kubernetes and AWS Batch.

            EXIT CODES
              0  every master was ingested, updated or unchanged (or skipped:
                 --skip-duplicates)
              1  fatal error (unreadable masters folder, unwritable work folder,
                 full disk, catalog failure); nothing half-written is recorded
              2  usage error (also: WORK holds another shard than --shard)
              3  some masters were rejected; the others were ingested
              4  another run is using WORK (the message names it); try later
            """,
        version: MusikkVersion.current
    )

    @Argument(help: "Folder of masters, scanned recursively.")
    var masters: String

    @Argument(help: "Work folder for media, manifests, cover art and catalog.sqlite (created if missing).")
    var work: String

    @Option(help: ArgumentHelp(
        "TOML profile: ladder, layout, fragment duration and validation rules.",
        discussion: "See examples/profile.toml for every key and its default.", valueName: "file"
    ))
    var profile: String?

    @Option(help: "Masters ingested at once (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "One file per fragment (DASH SegmentTemplate, plain HLS URIs) instead of one file per rendition.")
    var segmentFiles = false

    @Option(help: ArgumentHelp("Reject masters shorter than this (default 1; profile: validation.min_duration_seconds).",
                               valueName: "seconds"))
    var minDuration: Double?

    @Flag(help: "Accept masters that are digital silence (profile: validation.reject_silence = false).")
    var allowSilence = false

    @Flag(help: "Accept damaged masters, skipping what cannot be decoded (profile: validation.reject_damaged = false).")
    var allowDamaged = false

    @Flag(help: "Packaging only: no fingerprint, loudness, waveform, signal checks or duplicate detection (profile: analysis.enabled = false).")
    var noAnalysis = false

    @Flag(help: "Leave out masters that duplicate a track already in the catalog (profile: analysis.skip_duplicates).")
    var skipDuplicates = false

    @Option(help: ArgumentHelp("Fingerprint similarity from which two masters are the same recording, 0.5 to 1 (default 0.85; profile: analysis.duplicate_threshold).",
                               valueName: "similarity"))
    var duplicateThreshold: Double?

    @Option(help: ArgumentHelp(
        "Ingest only shard I of N (I from 0), or auto/N with I from the array-job engine's environment; each shard needs its own WORK.",
        valueName: "I/N"
    ))
    var shard: String?

    @Option(help: ArgumentHelp(
        "The protected tier's key-encryption key: 64 hex digits (default: WORK/keys/kek, made on first use).",
        discussion: "Give every shard of one catalog, and musikk-server, the same file.", valueName: "file"
    ))
    var keyFile: String?

    @Flag(help: "Print what a run would do (new, changed, moved, removed, unchanged) and write nothing.")
    var dryRun = false

    @Flag(help: "At the end, print a JSON report of every master to standard output.")
    var json = false

    @Flag(help: "Print only rejections and errors.")
    var quiet = false

    mutating func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more.") }
        if let minDuration, minDuration < 0 { throw ValidationError("--min-duration must be 0 or more.") }
        if let duplicateThreshold, !FingerprintMatcher.thresholdRange.contains(duplicateThreshold) {
            throw ValidationError("--duplicate-threshold must be from 0.5 to 1.")
        }
        if noAnalysis && skipDuplicates {
            throw ValidationError("--skip-duplicates needs the analysis; drop --no-analysis.")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: masters, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("MASTERS '\(masters)' is not a folder.")
        }
        if let profile, !FileManager.default.fileExists(atPath: profile) {
            throw ValidationError("--profile '\(profile)' does not exist.")
        }
        if let keyFile, !FileManager.default.fileExists(atPath: keyFile) {
            throw ValidationError("--key-file '\(keyFile)' does not exist; make one with `openssl rand -hex 32 > FILE; chmod 600 FILE`.")
        }
        _ = try selectedShard()
    }

    /// The shard `--shard` names, index read from the environment for `auto/N`.
    private func selectedShard() throws -> Shard? {
        guard let shard else { return nil }
        do {
            return try Shard(parsing: shard, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        var settings = Profile()
        if let profile {
            do {
                settings = try Profile.load(path: profile)
            } catch {
                throw ValidationError(error.description)
            }
        }
        if segmentFiles { settings.layout = .segmentFiles }
        if let minDuration { settings.validation.minimumDuration = minDuration }
        if allowSilence { settings.validation.rejectSilence = false }
        if allowDamaged { settings.validation.rejectDamaged = false }
        if noAnalysis { settings.analysis.enabled = false }
        if skipDuplicates { settings.analysis.skipDuplicates = true }
        if let duplicateThreshold { settings.analysis.duplicateThreshold = duplicateThreshold }

        let options = IngestOptions(
            mastersDirectory: URL(fileURLWithPath: masters, isDirectory: true),
            workDirectory: URL(fileURLWithPath: work, isDirectory: true),
            profile: settings, jobs: jobs, shard: try selectedShard(), keyFile: keyFile.map { URL(fileURLWithPath: $0) }
        )
        if dryRun {
            try printPlan(options)
            return
        }
        let console = ProgressConsole(quiet: quiet, interactive: isatty(STDERR_FILENO) == 1)
        let started = Date()
        let report: IngestReport
        do {
            report = try IngestRunner(options: options).run { console.handle($0) }
        } catch {
            console.finish()
            Logger(label: "musikk-ingest").critical("\(error.description)")
            throw ExitCode(error.exitCode)
        }
        console.finish()
        if !quiet {
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            let summary = report.summary
            let counts = [("ingested", summary.ingested), ("updated", summary.updated), ("unchanged", summary.unchanged),
                          ("removed", summary.removed), ("rejected", summary.rejected),
                          ("skipped as duplicates", summary.skipped)]
                .filter { $0.1 > 0 || ["ingested", "rejected"].contains($0.0) }
                .map { "\($0.1) \($0.0)" }.joined(separator: ", ")
            let shardNote = options.shard.map { " (shard \($0))" } ?? ""
            console.line("musikk-ingest: \(counts) in \(seconds) s; output in \(options.workDirectory.path)\(shardNote)")
        }
        if json { try printJSON(report) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// `--dry-run`: the plan, one line per master that would change (every master with `--json`), then counts.
    private func printPlan(_ options: IngestOptions) throws {
        let plan: DryRunReport
        do {
            plan = try IngestRunner(options: options).dryRun()
        } catch {
            Logger(label: "musikk-ingest").critical("\(error.description)")
            throw ExitCode(error.exitCode)
        }
        if json {
            try printJSON(plan)
            return
        }
        var lines: [String] = []
        for file in plan.files where file.action != "unchanged" {
            var line = file.action.padding(toLength: 10, withPad: " ", startingAt: 0) + file.path
            if let previous = file.previousPath { line += "  (from \(previous))" }
            if let changes = file.changes, file.action == "changed" {
                line += "  (" + changes.map(\.rawValue).joined(separator: ", ") + ")"
            }
            if let reason = file.reason { line += "  \(reason)" }
            lines.append(line)
        }
        let counts = DryRunReport.actions
            .map { "\(plan.summary[$0] ?? 0) \($0)" }.joined(separator: ", ")
        lines.append("musikk-ingest --dry-run: \(counts); nothing was written")
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    private func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    static func main() async {
        await runAsMusikkTool { FFmpegLogging.silence() }
    }
}
