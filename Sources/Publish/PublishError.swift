/// Why a publish stopped. Every message names the file or folder and what to do; the previous publication is
/// left as it was.
public enum PublishError: Error, Sendable, Equatable, CustomStringConvertible {
    /// WORK_DIR is missing or holds no catalog.
    case workDirectory(path: String, detail: String)
    /// The catalog cannot be read, or is missing something the publication needs.
    case catalog(path: String, detail: String)
    /// A file the catalog names in WORK_DIR is missing, unreadable or not what the catalog says.
    case workFile(path: String, detail: String)
    /// Writing the publication failed.
    case output(path: String, detail: String)
    /// OUT_DIR holds files musikk-publish did not write: replacing it would lose them.
    case foreignOutput(path: String)
    /// Another run holds a lock this one needs.
    case busy(path: String, holder: String)

    public var description: String {
        switch self {
        case let .workDirectory(path, detail):
            "\(path): \(detail); pass the WORK_DIR that musikk-ingest wrote"
        case let .catalog(path, detail):
            "\(path): \(detail)"
        case let .workFile(path, detail):
            "\(path): \(detail); run musikk-ingest on this WORK_DIR again to rebuild it, then publish"
        case let .output(path, detail):
            "\(path): \(detail); check free space and permissions (the previous publication is untouched)"
        case let .foreignOutput(path):
            "\(path): holds files that musikk-publish did not write (no publish.json); pass an empty or new folder, "
                + "or one that musikk-publish wrote before"
        case let .busy(path, holder):
            "\(path) is in use by \(holder); wait for it to finish and run again"
        }
    }

    /// The process exit code: 4 when another run holds a lock (try again later), 1 otherwise.
    public var exitCode: Int32 {
        if case .busy = self { return 4 }
        return 1
    }
}
