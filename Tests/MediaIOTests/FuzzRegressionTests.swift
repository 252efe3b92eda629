import Foundation
import MediaIO
import Testing
import TestSupport

/// Inputs scripts/fuzz-decode found, replayed through the same harness the fuzzer runs (`musikk-fuzz-decode`).
@Suite("fuzzer findings")
struct FuzzRegressionTests {
    static let findings: [String] = ["vorbis-chained-refused-leak.ogg"]

    static func finding(_ name: String) -> URL { Repository.root.appendingPathComponent("fixtures/fuzz/\(name)") }

    @Test("each finding is refused or decoded with a MediaError, not a crash", arguments: findings)
    func refusedCleanly(name: String) throws {
        for strict in [true, false] {
            do {
                let decoder = try AudioDecoder(path: Self.finding(name).path, strict: strict)
                while try decoder.nextFrame() != nil {}
            } catch {
                #expect(error.description.hasPrefix(Self.finding(name).path), "\(error)")
            }
        }
    }

    /// valgrind's memcheck judges leaks here as LeakSanitizer did in the fuzzer: a definite leak fails the replay.
    @Test("replaying each finding leaks nothing (valgrind memcheck)", arguments: findings)
    func noLeak(name: String) throws {
        let result = try Command.run("valgrind", [
            "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=9", "-q",
            Repository.executable("musikk-fuzz-decode").path, Self.finding(name).path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
    }
}
