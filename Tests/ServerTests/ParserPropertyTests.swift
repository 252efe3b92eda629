import Foundation
@testable import MusikkServer
import Testing
import TestSupport

@Suite("Request parsers against models nobody optimised")
struct ParserPropertyTests {
    /// RFC 9110 §14.1.2 for one representation of `size` bytes, worked out byte by byte: which positions each range
    /// spec covers. Numbers are compared as digit strings, so any length works.
    static func model(_ header: String?, size: Int) -> ByteRange {
        guard let header else { return .whole }
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        let trimmed = String(header.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        guard trimmed.count >= 6, trimmed.prefix(6).lowercased() == "bytes=" else { return .whole }
        var covering: [[Int]] = []
        for rawSpec in trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false) {
            let spec = String(rawSpec.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
            let halves = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let digits = { (text: String) in !text.isEmpty && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }
            guard halves.count == 2 else { return .whole }
            var positions: [Int] = []
            if halves[0].isEmpty {
                guard digits(halves[1]) else { return .whole }
                positions = (0..<size).filter { compare(String(size - $0), halves[1]) <= 0 && compare(halves[1], "0") > 0 }
            } else {
                guard digits(halves[0]), halves[1].isEmpty || digits(halves[1]) else { return .whole }
                if !halves[1].isEmpty, compare(halves[0], halves[1]) > 0 { return .whole }
                positions = (0..<size).filter {
                    compare(String($0), halves[0]) >= 0 && (halves[1].isEmpty || compare(String($0), halves[1]) <= 0)
                }
            }
            covering.append(positions)
        }
        let satisfiable = covering.filter { !$0.isEmpty }
        if satisfiable.isEmpty { return .unsatisfiable }
        guard satisfiable.count == 1, let only = satisfiable.first, let first = only.first, let last = only.last else { return .whole }
        return .partial(first...last)
    }

    /// Compares two decimal numbers written with any number of digits (leading zeros allowed).
    static func compare(_ a: String, _ b: String) -> Int {
        let x = String(a.drop { $0 == "0" }), y = String(b.drop { $0 == "0" })
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        return x == y ? 0 : (x < y ? -1 : 1)
    }

    static func randomHeader(_ random: inout SeededRandom, size: Int) -> String? {
        if random.next() % 20 == 0 { return nil }
        func number() -> String {
            switch random.next() % 10 {
            case 0: return String(repeating: "9", count: Int(random.next() % 25) + 1)
            case 1: return "0" + String(random.next() % 50)
            case 2: return ["", "x", "+1", "1.5", "٣"][Int(random.next() % 5)]
            default: return String(random.next() % UInt64(max(1, size * 2 + 3)))
            }
        }
        func space() -> String { ["", "", "", " ", "\t", "  "][Int(random.next() % 6)] }
        let specs = (0..<(Int(random.next() % 3) + 1)).map { _ -> String in
            switch random.next() % 4 {
            case 0: return "-" + number()
            case 1: return number() + "-"
            case 2: return number()
            default: return number() + "-" + number()
            }
        }
        let unit = ["bytes=", "bytes=", "bytes=", "BYTES=", "bytes =", "items=", ""][Int(random.next() % 7)]
        return space() + unit + specs.map { space() + $0 + space() }.joined(separator: random.next() % 8 == 0 ? ",," : ",") + space()
    }

    @Test("ByteRange agrees with a byte-by-byte model of RFC 9110 on 20,000 random headers and sizes")
    func byteRangeModel() {
        var random = SeededRandom(state: 16)
        var kinds: [String: Int] = [:]
        for _ in 0..<20_000 {
            let size = Int(random.next() % 64)
            let header = Self.randomHeader(&random, size: size)
            let expected = Self.model(header, size: size)
            let actual = ByteRange(header: header, size: size)
            #expect(actual == expected, "size \(size), header \(String(reflecting: header))")
            switch expected {
            case .whole: kinds["whole", default: 0] += 1
            case .partial: kinds["partial", default: 0] += 1
            case .unsatisfiable: kinds["unsatisfiable", default: 0] += 1
            }
        }
        // The generator reaches every outcome often.
        #expect(kinds.values.allSatisfy { $0 > 500 } && kinds.count == 3, "\(kinds)")
    }

    @Test("inputs that broke or could break a parser, replayed through the fuzz harness's own entry points")
    func fuzzRegressions() {
        // Overflowed `start + limit` before issue 16 (one GET stopped the server).
        for query in ["cursor=9223372036854775807&limit=200", "cursor=9223372036854775806", "cursor=-9223372036854775808"] {
            ParserFuzzing.page(Data([200]) + Data(query.utf8))
        }
        ParserFuzzing.range(Data([0, 0, 0, 0, 0, 0, 0, 10]) + Data("bytes=-9223372036854775808".utf8))
        ParserFuzzing.range(Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) + Data("bytes=9223372036854775806-9223372036854775807".utf8))
        ParserFuzzing.mediaLink(Data("9223372036854775807/x/media/a".utf8))
        ParserFuzzing.mediaLink(Data("-9223372036854775808/x/hls/..".utf8))
        ParserFuzzing.json(Data(#"{"email":"a\u0000@b.org","password":"\u0000abcdefgh","displayName":"x"}"#.utf8))
        ParserFuzzing.json(Data(#"{"version":9223372036854775807,"trackIds":[],"currentIndex":-9223372036854775808,"positionSeconds":1e309,"device":""}"#.utf8))
    }
}
