import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Social

/// The one error shape of the API: `{"error": {"code": "...", "message": "..."}}`.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) does not exist") }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let data = try JSONCoding.encoder.encode(Body(error: .init(code: code, message: message)))
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The API error for any error a handler threw.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as SocialError:
            switch error {
            case .invalid(let field, let message): return APIError(.unprocessableContent, "invalid_\(field)", message)
            case .notFound(let what): return .notFound(what)
            case .forbidden(let message): return APIError(.forbidden, "forbidden", message)
            case .conflict(let message): return APIError(.conflict, "conflict", message)
            }
        case let error as HTTPError where error.status == .badRequest:
            // Hummingbird reports a body it cannot decode this way.
            return APIError(.badRequest, "invalid_json", "the request body is not the JSON this endpoint expects (see docs/openapi.yaml): \(error.body ?? "")")
        case let error as HTTPError:
            let code = error.status == .notFound ? "not_found" : error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase, headers: error.headers)
        case is NIOTooManyBytesError:
            return APIError(
                .contentTooLarge, "body_too_large",
                "the request body is too large: JSON bodies take at most \(ServerRequestContext.maxJSONBody / 1024) KiB and avatars \(UsersController.maxAvatarBytes / 1024) KiB")
        case is DecodingError:
            return APIError(.badRequest, "invalid_json", "the request body is not the JSON this endpoint expects (see docs/openapi.yaml)")
        default:
            return nil
        }
    }
}

/// Turns every error into the API's error shape; unexpected ones are logged and reported as 500 without detail.
struct ErrorShapeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError.from(error) { throw apiError }
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "internal", "the server failed; try again, and tell the operator if it keeps failing")
        }
    }
}
