import Foundation
import Hummingbird
import NIOCore
import Social

/// The signed-in user a request acts for.
struct AuthenticatedUser: Sendable {
    var id: Int64
    var role: Role
}

/// The request context of every route: the authenticated user (set by ``AuthenticationMiddleware``) and the
/// client's address (for rate limits).
struct ServerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var user: AuthenticatedUser?
    let remoteAddress: SocketAddress?
    /// The client's address as ``ClientAddressMiddleware`` found it (behind a trusted proxy, the forwarded one).
    var clientAddress: String

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientAddress = remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bytes a JSON request body may have: the largest valid one (a 10,000-entry playlist order) fits with room.
    static let maxJSONBody = 256 * 1024

    var maxUploadSize: Int { Self.maxJSONBody }

    var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    var responseEncoder: JSONEncoder { JSONCoding.encoder }

    /// The signed-in user, or 401 (routes behind the authentication middleware always have one).
    func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw APIError(.unauthorized, "unauthenticated", "sign in first") }
        return user
    }
}

enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
