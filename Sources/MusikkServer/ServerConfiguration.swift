import Foundation

/// How musikk-server runs. Every field has a default a small deployment can keep.
public struct ServerConfiguration: Sendable {
    /// The OUT directory musikk-publish wrote.
    public var publication: URL
    /// Where the server keeps its own data (`social.sqlite`, `secrets.json`, avatars).
    public var dataDirectory: URL
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// When set, media and manifest URLs point there (a CDN whose edge checks the signature); otherwise the
    /// server streams the publication itself under `/stream`.
    public var mediaBaseURL: String?
    /// bcrypt cost for new passwords (12 in production; tests lower it to keep the suite fast).
    public var bcryptCost: UInt8 = 12
    public var accessTokenLifetime: TimeInterval = 15 * 60
    public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
    /// How long a signed media URL stays valid.
    public var mediaURLLifetime: TimeInterval = 3600
    /// Login attempts allowed per client address in `loginWindow`.
    public var loginAttemptsPerAddress: Int = 20
    /// Failed logins allowed per account in `loginWindow`.
    public var loginFailuresPerAccount: Int = 5
    public var loginWindow: TimeInterval = 15 * 60
    /// How often the publication is checked for a new `publish.json`.
    public var catalogCheckInterval: Duration = .seconds(10)
    /// The clock; tests move it forward.
    public var clock: @Sendable () -> Date = { Date() }

    public init(publication: URL, dataDirectory: URL) {
        self.publication = publication
        self.dataDirectory = dataDirectory
    }
}
