import Foundation
import Ingest
import Synchronization

/// Shows progress on standard error: a redrawn bar on a terminal, one line per master otherwise.
final class ProgressConsole: Sendable {
    private struct State {
        var total = 0
        var done = 0
        var audioSeconds = 0.0
        var barShown = false
    }

    private let quiet: Bool
    private let interactive: Bool
    private let started = Date()
    private let state = Mutex(State())

    init(quiet: Bool, interactive: Bool) {
        self.quiet = quiet
        self.interactive = interactive
    }

    func handle(_ event: IngestEvent) {
        state.withLock { state in
            switch event {
            case let .recovered(interruptedRun, leftovers):
                let who = interruptedRun.map { "a run that did not finish, \($0)" } ?? "an earlier run"
                write("musikk-ingest: took over from \(who); cleaned up \(leftovers) half-written outputs\n")
            case let .scanned(total, unchanged):
                state.total = total
                if total + unchanged == 0 && !quiet { write("musikk-ingest: no files found under the masters folder\n") }
                if interactive && !quiet { drawBar(&state) }
            case let .finished(report, audioSeconds):
                if report.renditions != nil || audioSeconds > 0 { state.done += 1 }
                state.audioSeconds += audioSeconds
                var text: String
                switch report.status {
                case .ingested:
                    text = "ingested  \(report.path)  \(Self.duration(report.durationSeconds ?? 0)), "
                        + "\(report.renditions?.count ?? 0) renditions"
                    if let loudness = report.loudness, let integrated = loudness.integratedLUFS {
                        text += String(format: ", %.1f LUFS, %.1f dBTP", integrated, loudness.truePeakDBTP)
                    }
                case .updated:
                    let changes = (report.changes ?? []).map(\.rawValue).joined(separator: ", ")
                    text = "updated   \(report.path)  (\(changes))"
                    if let previous = report.previousPath { text += ", moved from \(previous)" }
                case .removed:
                    text = "removed   \(report.path)  (track \(report.trackID ?? "?") marked removed)"
                case .unchanged:
                    return
                case .rejected:
                    text = "rejected  \(report.error ?? report.path)"
                case .skipped:
                    text = "skipped   \(report.path)"
                }
                if let other = report.duplicateOf, let similarity = report.similarity {
                    text += "\n  duplicate of \(other.path) (track \(other.trackID), similarity "
                        + String(format: "%.3f", similarity) + ")"
                }
                for warning in report.warnings ?? [] {
                    text += "\n  warning: \(report.path): \(warning)"
                }
                if quiet && report.status != .rejected && report.duplicateOf == nil && report.warnings == nil { return }
                if interactive {
                    write("\r\u{1B}[2K" + text + "\n")
                    if !quiet { drawBar(&state) }
                } else {
                    write(text + "\n")
                }
            }
        }
    }

    /// Clears the bar before the closing lines.
    func finish() {
        state.withLock { state in
            if state.barShown { write("\r\u{1B}[2K") }
            state.barShown = false
        }
    }

    func line(_ text: String) {
        state.withLock { _ in write(text + "\n") }
    }

    private func drawBar(_ state: inout State) {
        guard state.total > 0 else { return }
        let width = 30
        let filled = width * state.done / state.total
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let speed = String(format: "%.1f", state.audioSeconds / 60 / elapsed)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write("[\(bar)] \(state.done)/\(state.total) masters, \(speed) audio min/s")
        state.barShown = true
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return "\(total / 60):" + (total % 60 < 10 ? "0" : "") + "\(total % 60)"
    }
}
