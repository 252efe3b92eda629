import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite("Killed publishes")
struct KillTests {
    @Test("kill -9 at any moment of a publish leaves OUT_DIR whole: the previous publication or the new one")
    func killDuringPublish() throws {
        // Two different catalogs published in turn into one OUT_DIR, so every publish replaces most files.
        let fixtures = try IngestedFixtures.get()
        let space = try PublishSpace("kill")
        try space.ingest()
        let works = [fixtures, space.work]
        var trackSets: [Set<String>] = []
        // How long a publish replacing the other catalog's publication takes here and now: kills are spread over
        // that span and a little past it, so they land in every phase, the switch and the clean-up included.
        var spans: [Double] = []
        for (index, work) in works.enumerated() {
            let probe = try Repository.temporaryDirectory("kill-probe").appendingPathComponent("out")
            #expect(try publish(works[1 - index], probe).status == 0)
            let started = Date()
            #expect(try publish(work, probe).status == 0)
            spans.append(Date().timeIntervalSince(started))
            trackSets.append(Set(try PublishedTree(root: probe).trackIDs()))
        }
        #expect(try publish(works[0], space.out).status == 0)

        let executable = Repository.executable("musikk-publish")
        var killed = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<24 {
            let process = Process()
            process.executableURL = executable
            process.arguments = [works[round % 2].path, space.out.path, "--quiet"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let wait = Double.random(in: 0.02...1.3, using: &generator) * spans[round % 2]
            try process.run()
            usleep(UInt32(wait * 1_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
                process.waitUntilExit()
            } else {
                // It finished within `wait`: the machine may be faster now than when the span was measured (other
                // tests stopped loading it), so the next kills are spread over at most that.
                process.waitUntilExit()
                spans[round % 2] = min(spans[round % 2], wait)
            }

            let tree = space.tree
            let problems = try tree.problems()
            #expect(problems.isEmpty, "round \(round): \(problems)")
            let tracks = Set(try tree.trackIDs())
            #expect(trackSets.contains(tracks), "round \(round): a mix of two publications")
        }
        #expect(killed >= 10, "only \(killed) of 24 publishes were killed before they finished (publishes took \(spans) s)")

        // The next publish cleans up what the killed ones left and finishes.
        let result = try publish(works[1], space.out)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(Set(try space.tree.trackIDs()) == trackSets[1])
        #expect(try space.tree.problems().isEmpty)
        #expect(space.leftovers.isEmpty, "\(space.leftovers)")
    }

    @Test("what a killed full publish left beside OUT_DIR goes at the next publish, even one that finds nothing to do")
    func leftoversGoOnAnUpToDatePublish() throws {
        let fixtures = try IngestedFixtures.get()
        let space = try PublishSpace("leftovers", tones: [])
        #expect(try publish(fixtures, space.out).status == 0)
        // A full publish killed after it made its staging tree and new index (as round 23 of the test above can be).
        try FileManager.default.createDirectory(at: space.root.appendingPathComponent(".out.musikk-staging/media"), withIntermediateDirectories: true)
        try Data("half an index".utf8).write(to: space.root.appendingPathComponent(".out.musikk-index-new.sqlite"))
        #expect(space.leftovers.sorted() == [".out.musikk-index-new.sqlite", ".out.musikk-staging"])
        let again = try publish(fixtures, space.out, ["--json"])
        #expect(again.status == 0, "\(again.standardError)")
        #expect(space.leftovers.isEmpty, "\(space.leftovers)")
        #expect(try space.tree.problems().isEmpty)
    }
}
