import Foundation

/// How musikk-server runs. Every field has a default a small deployment can keep.
public struct ServerConfiguration: Sendable {
    /// The OUT directory musikk-publish wrote.
    public var publication: URL
    /// Where the server keeps its own data (`social.sqlite` with avatars, `secrets.json`).
    public var dataDirectory: URL
    /// The PostgreSQL database shared by several instances (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`); when nil,
    /// the server keeps its data in `DATA_DIR/social.sqlite` and its keys in `DATA_DIR/secrets.json`.
    public var database: String?
    /// Connections to that database this instance opens at most (one of them listens for events).
    public var databaseConnections: Int = 20
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// When set, media and manifest URLs point there (a CDN whose edge checks the signature); otherwise the
    /// server streams the publication itself under `/stream`.
    public var mediaBaseURL: String?
    /// bcrypt cost for new passwords (12 in production; tests lower it to keep the suite fast).
    public var bcryptCost: UInt8 = 12
    public var accessTokenLifetime: TimeInterval = 15 * 60
    public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
    /// How long a refresh token just replaced still gets a successor (two tabs refreshing at once); after that,
    /// presenting it again signs its whole family out.
    public var refreshTokenReuseGrace: TimeInterval = 10
    /// How media links are signed: the scheme the edge that checks them understands (`--media-signature`).
    public var mediaSignature: MediaSignature = .hmacSHA256
    /// How long a signed media URL stays valid.
    public var mediaURLLifetime: TimeInterval = 3600
    /// Login attempts allowed per client address in `loginWindow`.
    public var loginAttemptsPerAddress: Int = 20
    /// Failed logins allowed per account in `loginWindow`.
    public var loginFailuresPerAccount: Int = 5
    public var loginWindow: TimeInterval = 15 * 60
    /// Sign-ups allowed per client address in `signUpWindow`.
    public var signUpsPerAddress: Int = 10
    public var signUpWindow: TimeInterval = 3600
    /// Changes (any request but GET and HEAD) one user may make per minute.
    public var writesPerMinute: Int = 120
    /// Comments, forum posts, threads and forums one user may create per minute.
    public var postsPerMinute: Int = 10
    /// Networks of reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    public var trustedProxies: [IPNetwork] = []
    /// A connection that sends no complete request for this long is closed (slow or silent clients).
    public var idleTimeout: Duration = .seconds(30)
    /// Event streams one user may hold open at once.
    public var eventStreamsPerUser: Int = 16
    /// Whether the Subsonic API also takes `u` with an app password (`t`+`s` or `p`), which older apps need; when
    /// false it takes API keys only, and answers those schemes with errors 41 and 42 (`--subsonic-api-keys-only`).
    public var subsonicLegacyAuthentication: Bool = true
    /// The key-encryption key the protected tier was packaged under (`--key-file`, the file musikk-ingest used);
    /// without it the server gives no keys.
    public var keyFile: URL?
    /// Key requests (ClearKey licences, HLS key URIs) one listener may make per minute.
    public var licensesPerMinute: Int = 60
    /// Whether every request is logged (structured, at info level; no tokens, passwords or query strings).
    public var accessLog: Bool = true
    /// How often every event stream gets a keep-alive. A stream learns that its client went away (a closed tab, a
    /// reload) only when a write fails, so this bounds how long a gone client holds one of its user's streams.
    public var eventKeepAliveInterval: Duration = .seconds(3)
    /// How often the publication is checked for a new `publish.json`.
    public var catalogCheckInterval: Duration = .seconds(10)
    /// The clock; tests move it forward.
    public var clock: @Sendable () -> Date = { Date() }

    /// The longest window a rate limit counts hits in (writes and posts count per minute): older hits can go.
    var longestRateLimitWindow: TimeInterval { max(loginWindow, signUpWindow, 60) }

    public init(publication: URL, dataDirectory: URL) {
        self.publication = publication
        self.dataDirectory = dataDirectory
    }
}
