import Foundation

/// What a finished command left behind.
public struct CommandResult: Sendable {
    public var status: Int32
    public var standardOutput: Data
    public var standardError: String

    public var text: String { String(decoding: standardOutput, as: UTF8.self) }
}

/// Runs external programs (the independent judges: ffmpeg, ffprobe, gst-launch-1.0, xmllint) and our binaries.
public enum Command {
    /// Runs `executable` (looked up on PATH unless absolute) and waits for it.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
        let errorData = LockedData()
        let errorRead = DispatchGroup()
        errorRead.enter()
        Thread {
            errorData.set(error.fileHandleForReading.readDataToEndOfFile())
            errorRead.leave()
        }.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorRead.wait()
        return CommandResult(
            status: process.terminationStatus, standardOutput: outputData,
            standardError: String(decoding: errorData.value, as: UTF8.self)
        )
    }
}

extension Command {
    /// `run` on a thread of its own, so a test's own server keeps answering while the command talks to it.
    public static func runInBackground(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run(executable, arguments) }) }.start()
        }
    }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func set(_ value: Data) {
        lock.lock()
        data = value
        lock.unlock()
    }

    var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// Paths inside the repository.
public enum Repository {
    /// The package root, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var goodMasters: URL { root.appendingPathComponent("fixtures/audio/masters") }
    public static var badMasters: URL { root.appendingPathComponent("fixtures/audio/bad") }
    public static var dashSchema: URL { root.appendingPathComponent("../shared/schemas/dash/DASH-MPD.xsd").standardizedFileURL }

    /// A built executable of this package, next to the test bundle.
    public static func executable(_ name: String) -> URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [beside, beside.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return root.appendingPathComponent(".build/debug/\(name)")
    }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("musikk-tests-\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
