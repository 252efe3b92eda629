import Foundation
import Hummingbird
import NIOCore
import Social

/// The signed-in user a request acts for.
struct AuthenticatedUser: Sendable {
    var id: Int64
    var role: Role
}

/// How every context of the server reads and writes JSON, and how big a body it takes.
protocol MusikkRequestContext: RequestContext {}

extension MusikkRequestContext {
    var maxUploadSize: Int { ServerRequestContext.maxJSONBody }

    var requestDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    var responseEncoder: JSONEncoder { JSONCoding.encoder }
}

/// The request context of every route: the client's address (for rate limits) and, once
/// ``AuthenticationMiddleware`` checked a token, its user.
struct ServerRequestContext: MusikkRequestContext {
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
}

/// The context of the signed-in API (`/api` behind ``AuthenticationMiddleware``): its user is always there, so a
/// handler cannot forget to ask for one.
struct AuthenticatedRequestContext: ChildRequestContext, MusikkRequestContext {
    var coreContext: CoreRequestContextStorage
    let user: AuthenticatedUser
    let clientAddress: String

    init(context: ServerRequestContext) throws {
        guard let user = context.user else { throw APIError(.unauthorized, "unauthenticated", "sign in first") }
        self.coreContext = context.coreContext
        self.user = user
        self.clientAddress = context.clientAddress
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
