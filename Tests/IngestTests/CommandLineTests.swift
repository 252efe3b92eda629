import Foundation
import Testing
import TestSupport

@Suite("musikk-ingest command line")
struct CommandLineTests {
    let binary = Repository.executable("musikk-ingest").path

    @Test("--help documents every option and the exit codes")
    func help() throws {
        let result = try Command.run(binary, ["--help"])
        #expect(result.status == 0)
        for option in ["--profile", "--jobs", "--json", "--quiet", "--segment-files", "--min-duration",
                       "--allow-silence", "--allow-damaged", "--version", "EXIT CODES", "--no-analysis",
                       "--skip-duplicates", "--duplicate-threshold", "ANALYSIS", "fpcalc", "ReplayGain", "waveform",
                       "--dry-run", "RE-RUNS", "musikk.lock", "4  another run"] {
            #expect(result.text.contains(option), "help lacks \(option)")
        }
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try Command.run(binary, ["--version"])
        #expect(result.status == 0)
        #expect(result.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test("usage errors exit with 2 and say what is wrong", arguments: [
        ["/nonexistent/masters", "/tmp/work"],
        ["--jobs", "0", ".", "/tmp/work"],
        ["only-one-argument"],
        [".", "/tmp/work", "--profile", "/nonexistent/profile.toml"],
    ])
    func usageErrors(arguments: [String]) throws {
        let result = try Command.run(binary, arguments, in: Repository.root)
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        #expect(result.standardError.contains("Error") || result.standardError.contains("error"))
    }

    @Test("a profile with an unknown key is a usage error naming the key")
    func badProfile() throws {
        let directory = try Repository.temporaryDirectory("profile")
        let profile = directory.appendingPathComponent("profile.toml")
        try Data("[[rendition]]\ncodec = \"aac\"\nbitrat = 128\n".utf8).write(to: profile)
        let result = try Command.run(binary, [Repository.goodMasters.path, directory.appendingPathComponent("w").path,
                                              "--profile", profile.path])
        #expect(result.status == 2)
        #expect(result.standardError.contains("rendition[0].bitrat"), "\(result.standardError)")
    }

    @Test("on a terminal, progress is a bar with masters done and audio minutes per second")
    func progressBarOnTerminal() throws {
        let work = try Repository.temporaryDirectory("tty").appendingPathComponent("work")
        let masters = Repository.goodMasters.appendingPathComponent("Sonic Pi/Loops")
        // script(1) runs the command on a pseudo-terminal, as a person at a shell would.
        let command = "'\(binary)' '\(masters.path)' '\(work.path)' --jobs 1"
        let result = try Command.run("script", ["-qec", command, "/dev/null"])
        #expect(result.status == 0, "\(result.text)")
        #expect(result.text.contains("[..............................] 0/3 masters"), "\(result.text)")
        #expect(result.text.contains("[##########....................] 1/3 masters"), "\(result.text)")
        #expect(result.text.contains("3/3 masters"))
        #expect(result.text.contains("audio min/s"))
        #expect(result.text.contains("3 ingested, 0 rejected"))
    }

    @Test("without a terminal, one line per master and no bar")
    func linesWithoutTerminal() throws {
        let work = try Repository.temporaryDirectory("lines").appendingPathComponent("work")
        let masters = Repository.goodMasters.appendingPathComponent("Sonic Pi/Loops")
        let result = try Command.run(binary, [masters.path, work.path])
        #expect(result.status == 0)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("ingested  ") }.count == 3)
        #expect(!result.standardError.contains("[#"))
        #expect(result.text.isEmpty, "nothing on standard output without --json")
    }

    @Test("an unwritable work folder is a fatal error, exit 1")
    func unwritableWork() throws {
        let directory = try Repository.temporaryDirectory("unwritable")
        let blocker = directory.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let result = try Command.run(binary, [Repository.goodMasters.path, blocker.appendingPathComponent("work").path])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.standardError.contains("work folder"))
    }
}
