import Foundation
import FuzzingDriver
import MusikkServer

/// The fuzz harness for musikk-server's parsers of request input; `MUSIKK_FUZZ_TARGET` names the parser (`range`,
/// `page`, `media-link`, `json`: see ``ParserFuzzing``).
@main
struct Main {
    static func main() {
        let name = ProcessInfo.processInfo.environment["MUSIKK_FUZZ_TARGET"] ?? ""
        guard let target = ParserFuzzing.targets[name] else {
            FileHandle.standardError.write(Data(
                "musikk-fuzz-server: set MUSIKK_FUZZ_TARGET to one of \(ParserFuzzing.targets.keys.sorted().joined(separator: ", "))\n".utf8))
            exit(2)
        }
        FuzzingDriver.main("musikk-fuzz-server", target)
    }
}
