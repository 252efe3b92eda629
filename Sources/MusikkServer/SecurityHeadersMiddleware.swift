import HTTPTypes
import Hummingbird

/// API responses are data: never sniffed as HTML, never framed, no referrer leaks.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return Self.secured(try await next(request, context))
        } catch let error as APIError {
            var error = error
            error.headers.append(contentsOf: Self.securityHeaders)
            throw error
        }
    }

    static let securityHeaders: HTTPFields = [
        .xContentTypeOptions: "nosniff",
        .contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    /// Adds the headers; a response with its own security policy (the web app's pages) keeps it.
    static func secured(_ response: Response) -> Response {
        var response = response
        for field in securityHeaders where field.name != .contentSecurityPolicy || response.headers[.contentSecurityPolicy] == nil {
            response.headers.append(field)
        }
        return response
    }
}
