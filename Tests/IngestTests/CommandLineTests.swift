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
                       "--allow-silence", "--allow-damaged", "--version", "EXIT CODES"] {
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
