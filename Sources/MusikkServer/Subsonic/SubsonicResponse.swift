import Foundation
import Hummingbird

/// A scalar of a Subsonic answer: an XML attribute, a JSON string, number or boolean.
enum SubsonicValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case boolean(Bool)
}

/// Swift values that go into an answer as they are.
protocol SubsonicScalar {
    var subsonicValue: SubsonicValue { get }
}

extension String: SubsonicScalar { var subsonicValue: SubsonicValue { .string(self) } }
extension Int: SubsonicScalar { var subsonicValue: SubsonicValue { .integer(Int64(self)) } }
extension Int64: SubsonicScalar { var subsonicValue: SubsonicValue { .integer(self) } }
extension Double: SubsonicScalar { var subsonicValue: SubsonicValue { .number(self) } }
extension Bool: SubsonicScalar { var subsonicValue: SubsonicValue { .boolean(self) } }

/// One element of a Subsonic answer, written once and rendered as the XML the original Subsonic API defined or as
/// the JSON its clients read: attributes become members, a child a nested object, and a list (even of one, even
/// empty) an array, as the OpenSubsonic specification's examples show.
struct SubsonicNode: Sendable {
    let name: String
    private(set) var attributes: [(String, SubsonicValue)] = []
    private(set) var children: [SubsonicNode] = []
    /// Names of children that are lists, in the order they were first added.
    private(set) var listNames: [String] = []
    /// Lists of scalars (`versions: [1]`, `allowedUser: ["…"]`): one element each in XML.
    private(set) var scalarLists: [(String, [SubsonicValue])] = []
    /// Text content (a lyrics line): the element's text in XML, `value` in JSON.
    var text: String?

    init(_ name: String) { self.name = name }

    /// An answer's payload: `element` in the envelope.
    static func payload(_ element: SubsonicNode) -> SubsonicNode {
        var payload = SubsonicNode("")
        payload.add(element)
        return payload
    }

    /// Sets an attribute; nil and non-finite numbers leave it out.
    mutating func set(_ key: String, _ value: (any SubsonicScalar)?) {
        guard let value = value?.subsonicValue else { return }
        if case .number(let number) = value, !number.isFinite { return }
        attributes.append((key, value))
    }

    mutating func add(_ child: SubsonicNode) { children.append(child) }

    /// Adds a list of children named `name` (each node should carry that name).
    mutating func addList(_ name: String, _ items: [SubsonicNode]) {
        if !listNames.contains(name) { listNames.append(name) }
        children += items
    }

    mutating func addScalars(_ name: String, _ values: [any SubsonicScalar]) {
        scalarLists.append((name, values.map(\.subsonicValue)))
    }

    /// Takes in another node's content (an answer's payload into the envelope).
    mutating func merge(_ other: SubsonicNode) {
        attributes += other.attributes
        children += other.children
        listNames += other.listNames.filter { !listNames.contains($0) }
        scalarLists += other.scalarLists
    }

    // MARK: XML

    func writeXML(into out: inout String, namespace: String? = nil) {
        out += "<\(name)"
        if let namespace { out += " xmlns=\"\(namespace)\"" }
        for (key, value) in attributes {
            out += " \(key)=\""
            Self.escapeXML(Self.text(of: value), into: &out)
            out += "\""
        }
        guard !children.isEmpty || !scalarLists.isEmpty || text != nil else {
            out += "/>"
            return
        }
        out += ">"
        if let text { Self.escapeXML(text, into: &out) }
        for (key, values) in scalarLists {
            for value in values {
                out += "<\(key)>"
                Self.escapeXML(Self.text(of: value), into: &out)
                out += "</\(key)>"
            }
        }
        for child in children { child.writeXML(into: &out) }
        out += "</\(name)>"
    }

    private static func text(of value: SubsonicValue) -> String {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case .number(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        }
    }

    /// Escapes markup and leaves out the characters XML 1.0 cannot carry at all (most C0 controls).
    private static func escapeXML(_ text: String, into out: inout String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
    }

    // MARK: JSON

    /// The node's members as a JSON object (its name is the key its parent gives it).
    func writeJSONObject(into out: inout String) {
        out += "{"
        var first = true
        func key(_ name: String) {
            if !first { out += "," }
            first = false
            Self.writeJSONString(name, into: &out)
            out += ":"
        }
        for (name, value) in attributes {
            key(name)
            Self.writeJSON(value, into: &out)
        }
        if let text {
            key("value")
            Self.writeJSONString(text, into: &out)
        }
        for (name, values) in scalarLists {
            key(name)
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                Self.writeJSON(value, into: &out)
            }
            out += "]"
        }
        var written: Set<String> = []
        for child in children where !written.contains(child.name) {
            written.insert(child.name)
            key(child.name)
            if listNames.contains(child.name) {
                out += "["
                var firstItem = true
                for item in children where item.name == child.name {
                    if !firstItem { out += "," }
                    firstItem = false
                    item.writeJSONObject(into: &out)
                }
                out += "]"
            } else {
                child.writeJSONObject(into: &out)
            }
        }
        for name in listNames where !written.contains(name) {
            key(name)
            out += "[]"
        }
        out += "}"
    }

    private static func writeJSON(_ value: SubsonicValue, into out: inout String) {
        switch value {
        case .string(let text): writeJSONString(text, into: &out)
        case .integer(let number): out += String(number)
        case .number(let number): out += String(number)
        case .boolean(let flag): out += flag ? "true" : "false"
        }
    }

    private static func writeJSONString(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // `</script>` and the line separators JavaScript does not allow in strings, for JSONP.
            case "<": out += "\\u003c"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// The error codes of the Subsonic API (OpenSubsonic's `error` response).
enum SubsonicErrorCode: Int, Sendable {
    case generic = 0
    case missingParameter = 10
    case wrongCredentials = 40
    case tokenAuthenticationNotSupported = 41
    case mechanismNotSupported = 42
    case conflictingMechanisms = 43
    case invalidAPIKey = 44
    case notAuthorized = 50
    case notFound = 70
}

/// A request the API refuses, answered as a `failed` Subsonic response in the format the client asked for.
struct SubsonicError: Error, Sendable {
    var code: SubsonicErrorCode
    var message: String
    /// Where a user finds how to fix it (OpenSubsonic's `helpUrl`).
    var helpURL: String?
    /// The HTTP status: 200 as Subsonic clients expect, but 429 when a rate limit refuses.
    var status: HTTPResponse.Status = .ok
    var headers: HTTPFields = [:]

    static func missing(_ parameter: String, _ method: String) -> SubsonicError {
        SubsonicError(code: .missingParameter, message: "\(method): the required parameter `\(parameter)` is missing")
    }

    static func notFound(_ what: String) -> SubsonicError {
        SubsonicError(code: .notFound, message: "\(what) was not found")
    }

    static func invalid(_ parameter: String, _ method: String, _ expected: String) -> SubsonicError {
        SubsonicError(code: .generic, message: "\(method): `\(parameter)` must be \(expected)")
    }
}

/// How an answer is written: `f=xml` (the default), `json`, or `jsonp` with `callback`.
enum SubsonicFormat: Sendable, Equatable {
    case xml
    case json
    case jsonp(callback: String)

    /// The format a request asks for. An unknown `f` or an unsafe callback name falls back to XML, so that even
    /// that mistake gets an answer the client can read.
    init(_ parameters: SubsonicParameters) {
        switch parameters.first("f") {
        case "json": self = .json
        case "jsonp":
            let callback = parameters.first("callback") ?? ""
            let allowed = callback.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2E || $0 == 0x24 }
            self = !callback.isEmpty && callback.utf8.count <= 64 && allowed ? .jsonp(callback: callback) : .json
        default: self = .xml
        }
    }
}

/// The answer envelope every Subsonic response shares.
enum SubsonicEnvelope {
    /// The Subsonic API version answered (the last one, 1.16.1, which OpenSubsonic builds on).
    static let apiVersion = "1.16.1"
    static let serverType = "musikk"
    static let namespace = "http://subsonic.org/restapi"

    /// The envelope around `payload`'s content (its own name is not used), as an HTTP response.
    static func response(_ payload: SubsonicNode?, failure: SubsonicError? = nil, format: SubsonicFormat, serverVersion: String) -> Response {
        let (body, contentType) = text(payload, failure: failure, format: format, serverVersion: serverVersion)
        var headers = failure?.headers ?? [:]
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-store"
        return Response(status: failure?.status ?? .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The envelope around `payload`'s content, written in `format`, and its media type.
    static func text(_ payload: SubsonicNode?, failure: SubsonicError? = nil, format: SubsonicFormat, serverVersion: String) -> (body: String, contentType: String) {
        var root = SubsonicNode("subsonic-response")
        root.set("status", failure == nil ? "ok" : "failed")
        root.set("version", apiVersion)
        root.set("type", serverType)
        root.set("serverVersion", serverVersion)
        root.set("openSubsonic", true)
        if let failure {
            var error = SubsonicNode("error")
            error.set("code", failure.code.rawValue)
            error.set("message", failure.message)
            error.set("helpUrl", failure.helpURL)
            root.add(error)
        }
        if let payload { root.merge(payload) }
        var body = ""
        switch format {
        case .xml:
            body = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            root.writeXML(into: &body, namespace: namespace)
            return (body, "text/xml; charset=utf-8")
        case .json:
            body = #"{"subsonic-response":"#
            root.writeJSONObject(into: &body)
            return (body + "}", "application/json")
        case .jsonp(let callback):
            body = callback + #"({"subsonic-response":"#
            root.writeJSONObject(into: &body)
            return (body + "});", "text/javascript; charset=utf-8")
        }
    }
}
