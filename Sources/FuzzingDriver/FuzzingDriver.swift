import Foundation

/// The `main` of Musikk's fuzz harnesses. Built with `-DFUZZING` and `-sanitize=fuzzer,address` (scripts/fuzz-decode,
/// scripts/fuzz-server) it hands `body` to libFuzzer; built plainly it replays the files named on the command line,
/// so a finding reproduces without sanitizers.
public enum FuzzingDriver {
    public static func main(_ name: String, _ body: @escaping @Sendable (Data) -> Void) -> Never {
        #if FUZZING
        fuzzedBody = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzTestOneInput))
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(name) FILE...  (replays fuzzer inputs)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(name): cannot read \(path)\n".utf8))
                exit(1)
            }
            body(bytes)
            print("replayed \(path)")
        }
        exit(0)
        #endif
    }
}

#if FUZZING
/// What the harness fuzzes; set once, before libFuzzer starts calling.
nonisolated(unsafe) private var fuzzedBody: (@Sendable (Data) -> Void)?

/// What libFuzzer calls for each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, let fuzzedBody else { return 0 }
    fuzzedBody(Data(bytes: data, count: size))
    return 0
}

/// libFuzzer's entry for programs that have a `main` of their own (SwiftPM links executables through one).
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif
