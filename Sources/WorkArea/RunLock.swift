import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lock that keeps two runs off one folder: an advisory `flock` on a lock file, which also holds who took it.
/// The kernel releases the lock when its process ends, however it ends, so a lock left by a killed run is taken
/// over at once; what that run wrote into the file tells the next one it was interrupted.
public final class RunLock: Sendable {
    /// Who holds (or last held) the lock, as written into the lock file.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int32
        public var host: String
        public var started: String
        public var command: String

        public var description: String { "\(command) (pid \(pid) on \(host), started \(started))" }
    }

    /// Why the lock could not be taken.
    public enum Failure: Error, Sendable {
        /// Another run holds it; `holder` is who, when the lock file says.
        case busy(holder: Holder?)
        /// The lock file cannot be opened.
        case unavailable(path: String, detail: String)
    }

    private let descriptor: Int32
    /// The holder of an earlier lock that was never released: that run did not finish.
    public let interrupted: Holder?

    /// Takes the lock at `path` without waiting: exclusive for a run that writes, shared for one that only reads,
    /// which may overlap other readers but not a writer. `command` is recorded as the holder of an exclusive lock.
    public init(path: String, exclusive: Bool, command: String) throws(Failure) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .unavailable(path: path, detail: String(cString: strerror(errno)))
        }
        guard flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            let holder = Self.read(descriptor)
            close(descriptor)
            throw .busy(holder: holder)
        }
        self.descriptor = descriptor
        interrupted = Self.read(descriptor)
        if exclusive {
            var host = [CChar](repeating: 0, count: 256)
            gethostname(&host, host.count)
            let started = ISO8601DateFormatter().string(from: Date())
            let text = "pid=\(getpid())\nhost=\(String(cString: host))\nstarted=\(started)\ncommand=\(command)\n"
            ftruncate(descriptor, 0)
            _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        }
    }

    /// Releases the lock at the end of a run that finished (an interrupted run leaves its holder in the file).
    public func release(finished: Bool) {
        if finished { ftruncate(descriptor, 0) }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func read(_ descriptor: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let pid = fields["pid"].flatMap({ Int32($0) }) else { return nil }
        return Holder(pid: pid, host: fields["host"] ?? "?", started: fields["started"] ?? "?",
                      command: fields["command"] ?? "?")
    }
}
