import ArgumentParser
import Foundation
import Logging

extension ParsableCommand {
    /// Parses and runs a Musikk tool the way all of them behave: log lines on standard error, and usage errors exit
    /// with 2 (the parser's default is 64), which scripts and CI tell apart from a run that failed. `prepare` runs
    /// first (musikk-ingest and musikk-publish silence FFmpeg's own log there).
    public static func runAsMusikkTool(prepare: @Sendable () -> Void = {}) async {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        prepare()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
