import Foundation
import Hummingbird
import Social

/// A JSON response of any encodable value (dates in ISO 8601, keys sorted).
struct JSON<Value: Encodable & Sendable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try EncodedJSON(body: ByteBuffer(bytes: JSONCoding.encoder.encode(value)), status: status).response(from: request, context: context)
    }
}

/// A JSON response whose body is already encoded.
struct EncodedJSON: ResponseGenerator {
    var body: ByteBuffer
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }
}

extension Request {
    /// An integer path parameter, or 404 when it is not one (no such object can exist).
    func id(_ name: String, context: some RequestContext, what: String) throws -> Int64 {
        guard let text = context.parameters.get(name), let value = canonicalID(text) else {
            throw APIError.notFound("\(what) \(context.parameters.get(name) ?? "")")
        }
        return value
    }

    /// `limit` and `cursor` query parameters.
    func pageRequest() throws -> Social.PageRequest {
        let limit = try uri.queryParameters["limit"].map { text in
            guard let value = Int(text), (1...200).contains(value) else { throw APIError.badRequest("limit must be a number from 1 to 200") }
            return value
        }
        let cursor = try uri.queryParameters["cursor"].map { text in
            guard let value = canonicalID(text) else { throw APIError.badRequest("cursor must be the nextCursor of a previous page") }
            return value
        }
        return PageRequest(limit: limit ?? 50, cursor: cursor)
    }
}

/// The positive integer an id is written as, and only as: decimal digits without sign, leading zeros or spaces, so
/// that `+1`, `01` and `1` cannot name one object three ways.
func canonicalID(_ text: some StringProtocol) -> Int64? {
    guard let first = text.utf8.first, first != UInt8(ascii: "0"), text.utf8.count <= 19,
          text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
    else { return nil }
    return Int64(text)
}
