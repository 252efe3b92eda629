import Hummingbird

/// Requires a valid access token (`Authorization: Bearer …`; the SSE endpoint also takes `?access_token=`, since
/// browsers' EventSource cannot set headers) and puts its user in the context.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let tokens: TokenIssuer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var token: String?
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        } else if request.uri.path == "/api/events" {
            token = request.uri.queryParameters["access_token"].map(String.init)
        }
        guard let token, !token.isEmpty else {
            throw APIError(.unauthorized, "unauthenticated", "sign in first: send `Authorization: Bearer ACCESS_TOKEN`", headers: [.wwwAuthenticate: "Bearer"])
        }
        var context = context
        context.user = try await tokens.verify(accessToken: token)
        return try await next(request, context)
    }
}
