/// A `Range` request header (RFC 9110 §14.2) resolved against a representation of `size` bytes.
enum ByteRange: Equatable {
    /// No range, or one the server ignores (bad syntax, several ranges): send everything with 200.
    case whole
    /// Send these bytes with 206.
    case partial(ClosedRange<Int>)
    /// No requested range overlaps the representation: 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header else { self = .whole; return }
        let trimmed = Substring(header).withoutOptionalWhitespace
        guard trimmed.prefix(6).lowercased() == "bytes=" else { self = .whole; return }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false).map(\.withoutOptionalWhitespace)
        var ranges: [ClosedRange<Int>] = []
        for spec in specs {
            guard let parsed = Self.parse(spec, size: size) else { self = .whole; return }  // invalid syntax: ignore the header
            if let range = parsed { ranges.append(range) }
        }
        if ranges.isEmpty {
            self = .unsatisfiable
        } else if ranges.count == 1, let range = ranges.first {
            self = .partial(range)
        } else {
            self = .whole  // several ranges: a server may answer with the whole representation
        }
    }

    /// nil: invalid syntax; .some(nil): valid but unsatisfiable; otherwise the clamped range.
    private static func parse(_ spec: Substring, size: Int) -> ClosedRange<Int>?? {
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        let isDigits = { (text: Substring) in !text.isEmpty && text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber) }
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard isDigits(last) else { return nil }
            guard let count = Int(last) else { return .some(size > 0 ? 0...(size - 1) : nil) }  // more digits than Int: everything
            guard count > 0, size > 0 else { return .some(nil) }
            return .some(max(0, size - count)...(size - 1))
        }
        // The syntax, and first <= last, are checked on the digits: a number too long for Int is still a number.
        guard isDigits(first), last.isEmpty || isDigits(last) else { return nil }
        if !last.isEmpty, compareDecimal(first, last) > 0 { return nil }
        guard let start = Int(first) else { return .some(nil) }  // beyond any file
        let end = last.isEmpty ? Int.max : Int(last) ?? Int.max
        guard start < size else { return .some(nil) }
        return .some(start...min(end, size - 1))
    }

    /// -1, 0 or 1 as the decimal number `a` is less than, equal to or greater than `b`, whatever their lengths.
    private static func compareDecimal(_ a: Substring, _ b: Substring) -> Int {
        let x = a.drop { $0 == "0" }, y = b.drop { $0 == "0" }
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        return x == y ? 0 : (x < y ? -1 : 1)
    }
}

extension Substring {
    /// Without the optional whitespace (spaces and tabs) HTTP allows around values.
    fileprivate var withoutOptionalWhitespace: Substring {
        let isWhitespace = { (character: Character) in character == " " || character == "\t" }
        guard let start = firstIndex(where: { !isWhitespace($0) }), let end = lastIndex(where: { !isWhitespace($0) }) else { return "" }
        return self[start...end]
    }
}
