import Foundation
import Ingest
import TestSupport

/// One `musikk-ingest --json` run over the good and bad fixtures, shared by the tests that judge its output.
struct FixtureRun: Sendable {
    let masters: URL
    let work: URL
    let result: CommandResult
    let report: IngestReport

    /// Runs once per test process.
    static let shared: Result<FixtureRun, FixtureError> = Result { () throws(FixtureError) in
        try FixtureRun.make(label: "fixtures", includeBad: true, extraArguments: [])
    }

    static func get() throws -> FixtureRun { try shared.get() }

    /// Copies the fixtures into a fresh masters folder and ingests them.
    static func make(label: String, includeBad: Bool, extraArguments: [String], only: [String]? = nil) throws(FixtureError) -> FixtureRun {
        do {
            let root = try Repository.temporaryDirectory(label)
            let masters = root.appendingPathComponent("masters")
            let work = root.appendingPathComponent("work")
            try FileManager.default.copyItem(at: Repository.goodMasters, to: masters)
            if let only {
                for path in goodMasterPaths where !only.contains(path) {
                    try FileManager.default.removeItem(at: masters.appendingPathComponent(path))
                }
            }
            if includeBad {
                try FileManager.default.copyItem(at: Repository.badMasters, to: masters.appendingPathComponent("bad"))
            }
            let result = try Command.run(
                Repository.executable("musikk-ingest").path,
                [masters.path, work.path, "--json", "--jobs", "2"] + extraArguments
            )
            let report = try JSONDecoder().decode(IngestReport.self, from: result.standardOutput)
            return FixtureRun(masters: masters, work: work, result: result, report: report)
        } catch {
            throw FixtureError(description: "ingest of the fixtures failed: \(error)")
        }
    }

    /// Paths of the good fixtures, relative to fixtures/audio/masters.
    static let goodMasterPaths: [String] = {
        let root = Repository.goodMasters.standardizedFileURL.path
        let enumerator = FileManager.default.enumerator(atPath: root)
        var paths: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            // The fixtures' one sidecar is a master's lyrics (`.lrc`); every other file is a master.
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue,
               !(path as NSString).lastPathComponent.hasPrefix("."), (path as NSString).pathExtension != "lrc" {
                paths.append(path)
            }
        }
        return paths.sorted()
    }()

    func file(_ path: String) -> FileReport? { report.files.first { $0.path == path } }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}
