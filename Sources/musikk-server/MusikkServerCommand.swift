import ArgumentParser
import CommandLineSupport
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import MusikkServer
import ServiceLifecycle
import Social
import SocialPostgres
import SocialSQLite
import WorkArea

@main
struct MusikkServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "musikk-server",
        abstract: "The Musikk social music server: accounts, follows, comments, forums, playlists, live updates and playback.",
        discussion: """
            Reads the publication musikk-publish wrote (read-only; a new publish is picked up within seconds) and keeps
            its own data in DATA_DIR: social.sqlite, secrets.json (generated on first start, mode 0600) and avatars.
            With --database postgres://..., any number of instances share one PostgreSQL database instead (accounts,
            events, rate limits and keys), each with its own DATA_DIR for avatars (or one shared folder).
            Every option can also come from the environment (MUSIKK_PUBLICATION, MUSIKK_DATA, MUSIKK_DATABASE,
            MUSIKK_HOST, MUSIKK_PORT, MUSIKK_MEDIA_BASE_URL); options win. The API is described in docs/openapi.yaml.

            EXIT CODES
              0  stopped cleanly (SIGINT or SIGTERM)
              1  could not start (unreadable publication, data directory, port in use)
              2  usage error
            """,
        version: MusikkVersion.current,
        subcommands: [Serve.self, Admin.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        await runAsMusikkTool()
    }
}

/// Where the server's data is, shared by serving and the admin commands.
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The server's own data directory (default: $MUSIKK_DATA or ./musikk-data).", valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("database"), help: ArgumentHelp(
        "A PostgreSQL database shared by several instances, postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable] (default: $MUSIKK_DATABASE; without it, DATA/social.sqlite).",
        valueName: "url"))
    var databaseURL: String?

    var url: URL {
        URL(fileURLWithPath: directory ?? ProcessInfo.processInfo.environment["MUSIKK_DATA"] ?? "musikk-data", isDirectory: true)
    }

    var database: String? { databaseURL ?? ProcessInfo.processInfo.environment["MUSIKK_DATABASE"] }

    func validate() throws {
        if let database, !(database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")) {
            throw ValidationError("--database must be a postgres:// URL (SQLite needs no option: it is DATA/social.sqlite).")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the default).")

    @Option(help: ArgumentHelp("The OUT directory musikk-publish wrote (default: $MUSIKK_PUBLICATION).", valueName: "dir"))
    var publication: String?

    @OptionGroup var data: DataOption

    @Option(help: "Address to listen on (default: $MUSIKK_HOST or 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default: $MUSIKK_PORT or 8080).")
    var port: Int?

    @Option(help: ArgumentHelp(
        "Serve media from this base URL with signed paths a CDN edge checks (see README), instead of from this server (default: $MUSIKK_MEDIA_BASE_URL).",
        valueName: "url"))
    var mediaBaseURL: String?

    @Option(help: ArgumentHelp(
        "How media links are signed, for the edge that checks them: hmac-sha256 (this server, a CDN edge, nginx with njs) or nginx-secure-link (nginx's secure_link module) (default: $MUSIKK_MEDIA_SIGNATURE or hmac-sha256).",
        valueName: "scheme"))
    var mediaSignature: String?

    @Option(help: ArgumentHelp("Connections to the --database this instance opens at most (PostgreSQL's max_connections must cover every instance's).", valueName: "n"))
    var databaseConnections = 20

    @Option(name: .customLong("trusted-proxy"), help: ArgumentHelp(
        "A reverse proxy's network (CIDR, e.g. 127.0.0.1/32 or 10.0.0.0/8) whose X-Forwarded-For names the client, for rate limits and the log; repeat for several.",
        valueName: "cidr"))
    var trustedProxies: [String] = []

    @Flag(help: ArgumentHelp(
        "Let listeners' apps sign in to the Subsonic API (/rest) with API keys only, refusing app passwords (u with t and s, or p), which older apps need."))
    var subsonicAPIKeysOnly = false

    @Option(help: ArgumentHelp(
        "The key-encryption key the protected tier was ingested under (musikk-ingest's --key-file, or WORK/keys/kek); without it no keys are given (also MUSIKK_KEY_FILE).",
        valueName: "file"))
    var keyFile: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func validate() throws {
        guard let publication = publication ?? environment["MUSIKK_PUBLICATION"] else {
            throw ValidationError("Give the publication folder with --publication OUT (or MUSIKK_PUBLICATION).")
        }
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: publication).appendingPathComponent("api/index.json").path) else {
            throw ValidationError("'\(publication)' is not a publication: it has no api/index.json. Run musikk-publish WORK \(publication) first.")
        }
        if let port = port ?? environment["MUSIKK_PORT"].flatMap(Int.init), !(0...65535).contains(port) {
            throw ValidationError("--port must be from 0 to 65535.")
        }
        if environment["MUSIKK_PORT"] != nil, port == nil, environment["MUSIKK_PORT"].flatMap(Int.init) == nil {
            throw ValidationError("MUSIKK_PORT must be a number.")
        }
        guard (2...1000).contains(databaseConnections) else { throw ValidationError("--database-connections must be from 2 to 1000.") }
        if let scheme = mediaSignature ?? environment["MUSIKK_MEDIA_SIGNATURE"], MediaSignature(rawValue: scheme) == nil {
            throw ValidationError("--media-signature must be one of \(MediaSignature.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        for network in trustedProxies where IPNetwork(network) == nil {
            throw ValidationError("--trusted-proxy '\(network)' is not a network: write an address or address/prefix, like 10.0.0.0/8 or ::1/128.")
        }
        if let file = keyFile ?? environment["MUSIKK_KEY_FILE"], !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("--key-file '\(file)' cannot be read; give the key file musikk-ingest used (WORK/keys/kek by default).")
        }
        if let base = mediaBaseURL ?? environment["MUSIKK_MEDIA_BASE_URL"] {
            guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--media-base-url '\(base)' must be an absolute http or https URL.")
            }
        }
    }

    func run() async throws {
        var configuration = ServerConfiguration(
            publication: URL(fileURLWithPath: publication ?? environment["MUSIKK_PUBLICATION"] ?? ".", isDirectory: true),
            dataDirectory: data.url)
        configuration.database = data.database
        configuration.databaseConnections = databaseConnections
        configuration.host = host ?? environment["MUSIKK_HOST"] ?? "127.0.0.1"
        configuration.port = port ?? environment["MUSIKK_PORT"].flatMap(Int.init) ?? 8080
        configuration.mediaBaseURL = mediaBaseURL ?? environment["MUSIKK_MEDIA_BASE_URL"]
        configuration.trustedProxies = trustedProxies.compactMap(IPNetwork.init)
        configuration.subsonicLegacyAuthentication = !subsonicAPIKeysOnly
        configuration.keyFile = (keyFile ?? environment["MUSIKK_KEY_FILE"]).map { URL(fileURLWithPath: $0) }
        configuration.mediaSignature = (mediaSignature ?? environment["MUSIKK_MEDIA_SIGNATURE"]).flatMap(MediaSignature.init(rawValue:)) ?? .hmacSHA256
        let logger = Logger(label: "musikk-server")
        do {
            let application = try await buildApplication(configuration, logger: logger)
            // SIGTERM (systemd, docker stop) or SIGINT: stop accepting, end event streams, finish requests in flight;
            // whatever still runs after 10 s is cancelled, so the process always exits.
            var group = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = .seconds(10)
            group.maximumCancellationDuration = .seconds(2)
            try await ServiceGroup(configuration: group).run()
        } catch let error as ServerStartError {
            logger.critical("\(error.description)")
            throw ExitCode.failure
        }
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Grant roles and reset passwords (works while the server runs; roles take effect at the user's next token refresh).",
        subcommands: [GrantOwner.self, GrantAdmin.self, ResetPassword.self, NginxConfig.self, MigrateToPostgres.self])

    struct NginxConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nginx-config",
            abstract: "Print the nginx configuration that puts musikk-server instances behind nginx.",
            discussion: """
                Put the output in nginx's http context (e.g. /etc/nginx/conf.d/musikk.conf). Start each instance \
                with --trusted-proxy naming nginx's address, so the clients' addresses nginx forwards are believed.

                With --media-from OUT, nginx serves the signed media links itself (checked by njs from Debian's \
                libnginx-mod-http-js, whose verifier is written to --media-script), and no media request reaches \
                an instance. The output then holds the media key, read from --data or --database: keep the file \
                readable by root only.
                """)

        @Option(name: .customLong("media-from"), help: ArgumentHelp("The publication nginx serves signed media links from.", valueName: "dir"))
        var mediaFrom: String?

        @Option(name: .customLong("media-script"), help: ArgumentHelp("Where to write the njs verifier of signed links (with --media-from).", valueName: "file"))
        var mediaScript: String?

        @Option(help: ArgumentHelp("How long media links live, in seconds, as the instances' setting (with --media-from).", valueName: "seconds"))
        var mediaLifetime: Int = 3600

        @Option(help: ArgumentHelp(
            "How the instances sign media links (their --media-signature): hmac-sha256 (checked with njs) or nginx-secure-link (checked by nginx's secure_link module).",
            valueName: "scheme"))
        var mediaSignature = MediaSignature.hmacSHA256.rawValue

        @OptionGroup var data: DataOption

        @Option(name: .customLong("upstream"), help: ArgumentHelp("An instance's host:port; repeat for several.", valueName: "host:port"))
        var upstreams: [String] = []

        @Option(help: ArgumentHelp("Where nginx listens.", valueName: "[address:]port"))
        var listen = "80"

        @Option(help: "nginx's server_name.")
        var serverName = "_"

        func validate() throws {
            guard !upstreams.isEmpty else { throw ValidationError("Name at least one --upstream host:port.") }
            guard mediaLifetime > 0 else { throw ValidationError("--media-lifetime must be a number of seconds above 0.") }
            guard MediaSignature(rawValue: mediaSignature) != nil else {
                throw ValidationError("--media-signature must be one of \(MediaSignature.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            for value in upstreams + [listen, serverName] where value.contains(where: { $0.isWhitespace || ";{}#".contains($0) }) {
                throw ValidationError("'\(value)' cannot go in an nginx configuration (no spaces, ';', '{', '}' or '#').")
            }
            for upstream in upstreams {
                guard let port = upstream.split(separator: ":").last.flatMap({ Int($0) }), (1...65535).contains(port), upstream.contains(":") else {
                    throw ValidationError("--upstream '\(upstream)' must be host:port.")
                }
            }
        }

        func run() async throws {
            var media: NginxProxyConfiguration.MediaEdge?
            if let mediaFrom {
                let signature = MediaSignature(rawValue: mediaSignature) ?? .hmacSHA256
                if signature == .hmacSHA256, mediaScript == nil {
                    throw ValidationError("--media-from with hmac-sha256 links needs --media-script FILE, where the njs verifier is written.")
                }
                let publication = URL(fileURLWithPath: mediaFrom).standardizedFileURL.path
                guard FileManager.default.fileExists(atPath: publication + "/publish.json") else {
                    throw ValidationError("'\(mediaFrom)' is not a publication: it has no publish.json.")
                }
                let script = mediaScript.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
                for value in [publication] + (script.map { [$0] } ?? []) where value.contains(where: { $0.isWhitespace || ";{}#\"'$".contains($0) }) {
                    throw ValidationError("'\(value)' cannot go in an nginx configuration (no spaces, quotes, '$', ';', '{', '}' or '#').")
                }
                let key: String
                do {
                    key = try await NginxProxyConfiguration.mediaKey(dataDirectory: data.url, database: data.database)
                    if signature == .hmacSHA256, let script {
                        try NginxProxyConfiguration.verifierScript.write(toFile: script, atomically: true, encoding: .utf8)
                    }
                } catch {
                    FileHandle.standardError.write(Data("musikk-server: \(error)\n".utf8))
                    throw ExitCode.failure
                }
                media = NginxProxyConfiguration.MediaEdge(
                    publication: publication, key: key, lifetime: TimeInterval(mediaLifetime), signature: signature, script: script)
            }
            print(NginxProxyConfiguration.render(upstreams: upstreams, listen: listen, serverName: serverName, media: media), terminator: "")
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Give an account a new password and sign all its sessions out (also ends a log-in lock-out).",
            discussion: "Without --password-stdin a random password is generated and printed once; hand it to the user to change.")

        @OptionGroup var data: DataOption

        @Argument(help: "The account's email.")
        var email: String

        @Flag(help: "Read the new password from the first line of standard input.")
        var passwordStdin = false

        @Option(help: "bcrypt cost of the new hash.")
        var cost: UInt8 = 12

        func validate() throws {
            guard (4...31).contains(cost) else { throw ValidationError("--cost must be from 4 to 31.") }
        }

        func run() async throws {
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else { throw ValidationError("No password on standard input.") }
                password = line
            } else {
                password = randomPassword()
            }
            guard password.count >= 8, password.utf8.count <= 72, !password.contains("\0") else {
                throw ValidationError("The password must have 8 or more characters, at most 72 bytes, and no NUL.")
            }
            let hash = Bcrypt.hash(password, cost: cost)
            do {
                try await Admin.withStore(data) { store in try await store.resetPassword(email: email.lowercased(), passwordHash: hash, now: Date()) }
            } catch SocialError.notFound(let message) {
                FileHandle.standardError.write(Data("musikk-server: \(message)\n".utf8))
                throw ExitCode.failure
            }
            print(passwordStdin ? "The password of \(email) was reset; its sessions are signed out." : "New password for \(email): \(password)")
        }

        private func randomPassword() -> String {
            let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
            var generator = SystemRandomNumberGenerator()
            return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
        }
    }

    struct GrantOwner: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant-owner", abstract: "Make an account the content owner of artists of the catalog.")

        @OptionGroup var data: DataOption

        @Argument(help: "The account's email.")
        var email: String

        @Option(name: .customLong("artist"), help: "An artist id from the catalog (api/artists/ID.json); repeat for several.")
        var artistIds: [Int64] = []

        @Option(help: ArgumentHelp("The OUT directory musikk-publish wrote, whose artists these are (default: $MUSIKK_PUBLICATION).", valueName: "dir"))
        var publication: String?

        func validate() throws {
            guard !artistIds.isEmpty else { throw ValidationError("Name at least one --artist ID.") }
            guard publication ?? ProcessInfo.processInfo.environment["MUSIKK_PUBLICATION"] != nil else {
                throw ValidationError("Give the publication the artists are in with --publication OUT (or MUSIKK_PUBLICATION).")
            }
        }

        func run() async throws {
            let root = URL(fileURLWithPath: publication ?? ProcessInfo.processInfo.environment["MUSIKK_PUBLICATION"] ?? "")
            let known: Set<Int64>
            do {
                known = try publishedArtistIds(in: root)
            } catch {
                FileHandle.standardError.write(Data("musikk-server: \(error)\n".utf8))
                throw ExitCode.failure
            }
            let unknown = artistIds.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                let list = unknown.map(String.init).joined(separator: ", ")
                FileHandle.standardError.write(Data(
                    "musikk-server: no artist \(list) in the publication at \(root.path); its artists are listed from api/artists/page-1.json\n".utf8))
                throw ExitCode.failure
            }
            try await Admin.grant(.owner, email: email, artistIds: artistIds, data: data)
        }
    }

    struct MigrateToPostgres: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-to-postgres",
            abstract: "Copy a server's SQLite data into a new, empty PostgreSQL database, with every id, and check the counts.",
            discussion: """
                Stop the server first (its data must not change during the copy). Then start the instances with \
                --database URL. secrets.json is not copied: the instances share new keys from the database, so users \
                sign in once more and media links are signed anew; listeners' app passwords are sealed again under the \
                new key, and API keys are kept, so their apps go on. Avatars move with the rest.
                """)

        @Option(help: ArgumentHelp("The data directory of the server to move.", valueName: "dir"))
        var from: String

        @Option(help: ArgumentHelp("The PostgreSQL database to fill, postgres://USER:PASSWORD@HOST:PORT/DATABASE.", valueName: "url"))
        var to: String

        func run() async throws {
            let path = URL(fileURLWithPath: from).appendingPathComponent("social.sqlite").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path) does not exist; --from names the --data folder of the server to move.")
            }
            let source = try SQLiteStorage.open(atPath: path)
            let target: PostgresStorage
            do {
                // Avatars an earlier version kept as files are moved into the source first, so they are copied too.
                try await AvatarFiles.moveIntoStore(from: URL(fileURLWithPath: from), SocialStore(source))
                target = try await PostgresStorage.connect(url: to)
            } catch {
                FileHandle.standardError.write(Data("musikk-server: \(error)\n".utf8))
                throw ExitCode.failure
            }
            do {
                let report = try await target.importEverything(from: source)
                let passwords = try await ServerSecrets.moveAppPasswords(from: URL(fileURLWithPath: from), to: target)
                await target.close()
                for (table, count) in report.rows { print("\(table.replacingOccurrences(of: "\"", with: "")): \(count) rows") }
                print("App passwords sealed again under the database's key: \(passwords.kept)"
                    + (passwords.deleted > 0 ? "; \(passwords.deleted) could not be opened and were deleted (their apps need new ones)" : ""))
                print("Copied \(path) into \(PostgresStorage.redacted(to)); every table's count matches.")
            } catch {
                await target.close()
                FileHandle.standardError.write(Data("musikk-server: \(error); the PostgreSQL database was left empty\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    struct GrantAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant-admin", abstract: "Make an account an admin (moderator).")

        @OptionGroup var data: DataOption

        @Argument(help: "The account's email.")
        var email: String

        func run() async throws {
            try await Admin.grant(.admin, email: email, artistIds: [], data: data)
        }
    }

    /// Runs `body` with the store in DATA (which must exist already) or the PostgreSQL database, then closes it.
    static func withStore<Value>(_ data: DataOption, _ body: (SocialStore) async throws -> Value) async throws -> Value {
        let storage: any SocialStorage
        if let url = data.database {
            do {
                storage = try await PostgresStorage.connect(url: url)
            } catch {
                FileHandle.standardError.write(Data("musikk-server: \(error)\n".utf8))
                throw ExitCode.failure
            }
        } else {
            let path = data.url.appendingPathComponent("social.sqlite").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path) does not exist; start musikk-server with --data \(data.url.path) once, and sign the user up, first.")
            }
            storage = try SQLiteStorage.open(atPath: path)
        }
        do {
            let value = try await body(SocialStore(storage))
            await storage.close()
            return value
        } catch {
            await storage.close()
            throw error
        }
    }

    static func grant(_ role: Role, email: String, artistIds: [Int64], data: DataOption) async throws {
        do {
            try await withStore(data) { store in try await store.grant(role: role, email: email.lowercased(), artistIds: artistIds) }
        } catch SocialError.notFound(let message) {
            FileHandle.standardError.write(Data("musikk-server: \(message); the user must sign up first\n".utf8))
            throw ExitCode.failure
        }
        print("\(email) is now \(role == .owner ? "the content owner of artist \(artistIds.map(String.init).joined(separator: ", "))" : "an admin")")
    }
}
