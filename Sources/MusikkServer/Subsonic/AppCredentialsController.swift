import Foundation
import Hummingbird
import Social

/// `/api/me/subsonic/…`: the credentials a listener gives their own apps for the Subsonic API. An API key or app
/// password is shown once, in the answer that makes it; lists show names and dates only; deleting revokes.
struct AppCredentialsController: Sendable {
    let store: SocialStore
    let sealer: AppPasswordSealer
    let clock: @Sendable () -> Date

    struct NewCredential: Decodable {
        /// What the listener calls the app it is for ("Symfonium on my phone").
        var name: String?
    }

    struct MadeAPIKey: Encodable, Sendable {
        var id: Int64
        var name: String
        var createdAt: Date
        var apiKey: String
    }

    struct MadeAppPassword: Encodable, Sendable {
        var id: Int64
        var name: String
        var createdAt: Date
        /// The Subsonic user name to type beside it: the account's email.
        var username: String
        var password: String
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.post("me/subsonic/api-keys", use: makeAPIKey)
        group.get("me/subsonic/api-keys") { _, context in try await list(.apiKey, context) }
        group.delete("me/subsonic/api-keys/:credentialId") { request, context in try await revoke(.apiKey, request, context) }
        group.post("me/subsonic/app-passwords", use: makeAppPassword)
        group.get("me/subsonic/app-passwords") { _, context in try await list(.appPassword, context) }
        group.delete("me/subsonic/app-passwords/:credentialId") { request, context in try await revoke(.appPassword, request, context) }
    }

    @Sendable func makeAPIKey(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<MadeAPIKey> {
        let name = try await Self.name(request, context, fallback: "API key")
        let key = SubsonicAuthenticator.newAPIKey()
        let made = try await store.addAppCredential(
            of: context.user.id, kind: .apiKey, name: name, lookup: SubsonicAuthenticator.apiKeyLookup(key), sealed: nil, now: clock())
        return JSON(MadeAPIKey(id: made.id, name: made.name, createdAt: made.createdAt, apiKey: key), status: .created)
    }

    @Sendable func makeAppPassword(_ request: Request, context: AuthenticatedRequestContext) async throws -> JSON<MadeAppPassword> {
        let name = try await Self.name(request, context, fallback: "App password")
        let password = SubsonicAuthenticator.newAppPassword()
        let made = try await store.addAppCredential(of: context.user.id, kind: .appPassword, name: name, lookup: nil, sealed: try sealer.seal(password), now: clock())
        let email = try await store.ownAccount(context.user.id).email
        return JSON(MadeAppPassword(id: made.id, name: made.name, createdAt: made.createdAt, username: email, password: password), status: .created)
    }

    func list(_ kind: AppCredentialKind, _ context: AuthenticatedRequestContext) async throws -> JSON<[AppCredential]> {
        JSON(try await store.appCredentials(of: context.user.id, kind: kind))
    }

    func revoke(_ kind: AppCredentialKind, _ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        try await store.deleteAppCredential(try request.id("credentialId", context: context, what: kind.rawValue), of: context.user.id, kind: kind)
        return Response(status: .noContent)
    }

    /// The name in the JSON body, if there is one.
    private static func name(_ request: Request, _ context: AuthenticatedRequestContext, fallback: String) async throws -> String {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else { return fallback }
        let input = try await request.decode(as: NewCredential.self, context: context)
        return input.name ?? fallback
    }
}
