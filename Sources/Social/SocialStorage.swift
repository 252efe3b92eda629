import Foundation

/// Where the social data lives: SQLite (module SocialSQLite, the embedded default) or PostgreSQL (module
/// SocialPostgres, for several server instances). The domain writes each query once, in the SQL both speak; a
/// backend brings connections, transactions, migrations, placeholders and full-text search.
public protocol SocialStorage: Sendable {
    /// Runs `body` in a read-only transaction that sees one consistent state.
    func read<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value
    /// Runs `body` in a transaction that commits when it returns and rolls back when it throws. A backend may run
    /// `body` again after a serialization failure, so it must do nothing but database work.
    @discardableResult
    func write<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value
    /// Releases connections (admin commands and tests that end).
    func close() async
}

/// One transaction of a backend. Statements use `?` (positional) or `:name` (named) parameters.
public protocol SocialSession {
    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
    func fetchAll(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow]
    /// The full-text clauses of this backend for a search of `words` (each a run of letters and digits) in the
    /// table `searchIndex`.
    func searchClauses(words: [String]) -> SearchClauses
    /// Called before a transaction stores live events, so that events commit in the order of their ids (a reader
    /// that resumes after id N must never find a smaller id appear later).
    func willStoreEvents() throws
}

/// How a backend matches and ranks `searchIndex` rows.
public struct SearchClauses: Sendable {
    /// A boolean SQL expression, with `matchArguments` for its parameters.
    public var match: String
    public var matchArguments: [SQLValue]
    /// An ORDER BY expression, best first, with `orderArguments`.
    public var order: String
    public var orderArguments: [SQLValue]

    public init(match: String, matchArguments: [SQLValue], order: String, orderArguments: [SQLValue]) {
        self.match = match
        self.matchArguments = matchArguments
        self.order = order
        self.orderArguments = orderArguments
    }
}

extension SocialSession {
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    public func fetchOne(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? { try fetchAll(sql, arguments).first }

    /// The first column of the first row.
    public func value<Value: SQLDecodable>(_ sql: String, _ arguments: SQLArguments = []) throws -> Value? {
        guard let row = try fetchOne(sql, arguments) else { return nil }
        return try Value?(sqlValue: row.first)
    }

    public func value<Value: SQLDecodable>(as type: Value.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> Value? {
        try value(sql, arguments)
    }

    public func values<Value: SQLDecodable>(as type: Value.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [Value] {
        try values(sql, arguments)
    }

    /// The first column of every row.
    public func values<Value: SQLDecodable>(_ sql: String, _ arguments: SQLArguments = []) throws -> [Value] {
        try fetchAll(sql, arguments).map { try Value(sqlValue: $0.first) }
    }

    /// Runs an INSERT into a table with an `id` column and returns the new row's id.
    public func insert(_ sql: String, _ arguments: SQLArguments) throws -> Int64 {
        guard let id: Int64 = try value(sql + " RETURNING id", arguments) else {
            throw SQLFailure(message: "the insert returned no id: \(sql)")
        }
        return id
    }
}

/// `count` positional parameters separated by commas, for `IN (...)`.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case date(Date)
    /// Bytes (BLOB, bytea): an avatar image.
    case bytes([UInt8])
}

/// A stored value that does not have the type the code expects: a schema and code out of step, never user input.
public struct SQLFailure: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The arguments of a statement: positional (`[a, b]`) or named (`["id": a]`).
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public var positional: [SQLValue]
    public var named: [String: SQLValue]

    public init(_ values: [SQLValue]) {
        positional = values
        named = [:]
    }

    public init(arrayLiteral elements: (any SQLBindable)?...) {
        self.init(elements.map { $0?.sqlValue ?? .null })
    }

    public init(dictionaryLiteral elements: (String, (any SQLBindable)?)...) {
        positional = []
        named = Dictionary(elements.map { ($0.0, $0.1?.sqlValue ?? .null) }, uniquingKeysWith: { $1 })
    }

    static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        SQLArguments(lhs.positional + rhs.positional)
    }

    /// The parameters of `sql` in order of appearance, each `?` taking the next positional value and each `:name`
    /// its named value, and the statement with each replaced by `placeholder(n)` (n counts from 1). Quoted text and
    /// identifiers are left alone, as are PostgreSQL's `::` casts.
    public func bind(_ sql: String, placeholder: (Int) -> String) throws -> (sql: String, values: [SQLValue]) {
        var output = ""
        var values: [SQLValue] = []
        var nextPositional = 0
        var quote: Character?
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                index = sql.index(after: index)
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
                index = sql.index(after: index)
            case "?":
                guard nextPositional < positional.count else { throw SQLFailure(message: "too few arguments for: \(sql)") }
                values.append(positional[nextPositional])
                nextPositional += 1
                output += placeholder(values.count)
                index = sql.index(after: index)
            case ":":
                let next = sql.index(after: index)
                if next < sql.endIndex, sql[next] == ":" {
                    output += "::"
                    index = sql.index(after: next)
                    continue
                }
                let nameEnd = sql[next...].firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) ?? sql.endIndex
                let name = String(sql[next..<nameEnd])
                guard !name.isEmpty, let value = named[name] else {
                    throw SQLFailure(message: "no argument named \"\(name)\" for: \(sql)")
                }
                values.append(value)
                output += placeholder(values.count)
                index = nameEnd
            default:
                output.append(character)
                index = sql.index(after: index)
            }
        }
        guard nextPositional == positional.count else { throw SQLFailure(message: "too many arguments for: \(sql)") }
        return (output, values)
    }
}

/// A type that binds to a statement parameter.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
/// Booleans are stored as 0 and 1 in both backends.
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Date: SQLBindable { public var sqlValue: SQLValue { .date(self) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .bytes(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// One result row. Columns are found by name whatever its case (PostgreSQL folds unquoted names to lower case).
public struct SQLRow: Sendable {
    private let values: [String: SQLValue]
    /// The columns in the order of the query.
    public let columns: [(name: String, value: SQLValue)]
    /// The first column's value.
    public let first: SQLValue

    public init(_ columns: [(name: String, value: SQLValue)]) {
        self.columns = columns
        var values: [String: SQLValue] = [:]
        for column in columns where values[column.name.lowercased()] == nil { values[column.name.lowercased()] = column.value }
        self.values = values
        first = columns.first?.value ?? .null
    }

    public subscript<Value: SQLDecodable>(_ column: String) -> Value {
        get throws {
            guard let value = values[column.lowercased()] else { throw SQLFailure(message: "no column \(column) in the result") }
            do {
                return try Value(sqlValue: value)
            } catch let failure as SQLFailure {
                throw SQLFailure(message: "column \(column): \(failure.message)")
            }
        }
    }
}

/// A type a stored value converts to.
public protocol SQLDecodable {
    init(sqlValue: SQLValue) throws
}

extension Int64: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value) where value.rounded() == value && abs(value) < 9e18: self = Int64(value)
        case .text(let text) where Int64(text) != nil: self = Int64(text) ?? 0
        default: throw SQLFailure(message: "expected an integer, found \(sqlValue)")
        }
    }
}

extension Int: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        let value = try Int64(sqlValue: sqlValue)
        guard let int = Int(exactly: value) else { throw SQLFailure(message: "\(value) does not fit an Int") }
        self = int
    }
}

extension Double: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: throw SQLFailure(message: "expected a number, found \(sqlValue)")
        }
    }
}

extension Bool: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        self = try Int64(sqlValue: sqlValue) != 0
    }
}

extension String: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        guard case .text(let text) = sqlValue else { throw SQLFailure(message: "expected text, found \(sqlValue)") }
        self = text
    }
}

extension Date: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .date(let date): self = date
        case .text(let text):
            guard let date = Date(storedText: text) else { throw SQLFailure(message: "expected a date, found \(text)") }
            self = date
        default: throw SQLFailure(message: "expected a date, found \(sqlValue)")
        }
    }
}

extension Array: SQLDecodable where Element == UInt8 {
    public init(sqlValue: SQLValue) throws {
        guard case .bytes(let bytes) = sqlValue else { throw SQLFailure(message: "expected bytes, found \(sqlValue)") }
        self = bytes
    }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        self = sqlValue == .null ? nil : try Wrapped(sqlValue: sqlValue)
    }
}

extension Date {
    /// How a date is written where a backend stores dates as text (SQLite): UTC `yyyy-MM-dd HH:mm:ss.SSS`, GRDB's
    /// format, so that databases written before this layer read the same, and text order is time order.
    public var storedText: String {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded(.down)
        let seconds = (milliseconds / 1000).rounded(.down)
        let parts = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2)) \(pad(parts.hour, 2)):\(pad(parts.minute, 2)):"
            + "\(pad(parts.second, 2)).\(pad(Int(milliseconds - seconds * 1000), 3))"
    }

    /// Reads ``storedText`` (the milliseconds, or the whole time, may be missing; a `T` may separate date and time).
    public init?(storedText text: String) {
        let fields = text.split(whereSeparator: { "-: T.".contains($0) }).map(String.init)
        let values = fields.compactMap { Int($0) }
        guard fields.count >= 3, fields.count <= 7, values.count == fields.count else { return nil }
        var components = DateComponents()
        components.year = values[0]
        components.month = values[1]
        components.day = values[2]
        components.hour = values.count > 3 ? values[3] : 0
        components.minute = values.count > 4 ? values[4] : 0
        components.second = values.count > 5 ? values[5] : 0
        guard let date = Calendar.utc.date(from: components) else { return nil }
        var fraction = 0.0
        if fields.count == 7 {
            let digits = fields[6]
            fraction = Double(values[6]) / pow(10, Double(digits.count))
        }
        self = date.addingTimeInterval(fraction)
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()
}
