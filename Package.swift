// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Musikk",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "musikk-ingest", targets: ["musikk-ingest"]),
        .executable(name: "musikk-publish", targets: ["musikk-publish"]),
        .executable(name: "musikk-server", targets: ["musikk-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C bindings: one system-library target per C library, each with a shim for macros Swift cannot import.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswresample-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .systemLibrary(
            name: "CLibOpus",
            pkgConfig: "opus",
            providers: [.apt(["libopus-dev"])]
        ),
        .systemLibrary(
            name: "CChromaprint",
            pkgConfig: "libchromaprint",
            providers: [.apt(["libchromaprint-dev"])]
        ),
        .systemLibrary(
            name: "CEBUR128",
            pkgConfig: "libebur128",
            providers: [.apt(["libebur128-dev"])]
        ),
        // libvorbisfile, Ogg Vorbis's reference decoder: MediaIO's fallback for files FFmpeg's Ogg demuxer refuses.
        .systemLibrary(
            name: "CVorbisFile",
            pkgConfig: "vorbisfile",
            providers: [.apt(["libvorbis-dev"])]
        ),
        // Linux calls glibc hides from Swift (renameat2 to swap two folders in one step, syncfs).
        .systemLibrary(name: "CLinux"),

        // Probing, decoding, resampling and encoding audio with FFmpeg's libraries.
        .target(name: "MediaIO", dependencies: ["CFFmpeg", "CLibOpus", "CVorbisFile"]),
        // CMAF (fragmented MP4) writer for encoded audio.
        .target(
            name: "Segmenter",
            dependencies: [
                "WorkArea", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Content keys of the protected tier, derived from one key-encryption key: ingest encrypts, the server licenses.
        .target(name: "Protection", dependencies: ["WorkArea", .product(name: "Crypto", package: "swift-crypto")]),
        // HLS playlists and DASH MPDs.
        .target(name: "Manifest", dependencies: ["Segmenter", "CLibXML2"]),
        // Chromaprint fingerprints (as fpcalc computes them) and matching them.
        .target(name: "Fingerprint", dependencies: ["CChromaprint"]),
        // EBU R128 loudness and ReplayGain 2.0 with libebur128.
        .target(name: "Loudness", dependencies: ["CEBUR128"]),
        // Waveform peaks in audiowaveform's formats.
        .target(name: "Waveform"),
        // Clipping, DC offset and silence at the ends.
        .target(name: "SignalCheck"),
        // WORK_DIR's layout, the locks that keep two runs apart, and file digests.
        .target(name: "WorkArea", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The SQLite catalog.
        .target(name: "Catalog", dependencies: ["WorkArea", .product(name: "GRDB", package: "GRDB.swift")]),
        // The ingest pipeline that ties the modules together.
        .target(
            name: "Ingest",
            dependencies: [
                "MediaIO", "Segmenter", "Manifest", "Catalog", "Fingerprint", "Loudness", "Waveform", "SignalCheck", "WorkArea", "Lyrics",
                "Protection",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            // TOMLKit declares a `??` overload; keep it to the file that imports TOMLKit.
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        // What the command-line tools share: how they start, log and exit.
        .target(
            name: "CommandLineSupport",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log")]
        ),
        // The publication's JSON documents: written by Publish, read by MusikkServer.
        .target(name: "PublicationFormat"),
        // Lyrics from masters' tags, ID3 SYLT frames and .lrc sidecars, in the publication's form.
        .target(name: "Lyrics", dependencies: ["PublicationFormat"]),
        // The static publication for a CDN: content-addressed media, manifests, JSON catalog, headers, atomic switch.
        .target(
            name: "Publish",
            dependencies: [
                "Catalog", "Fingerprint", "Manifest", "MediaIO", "PublicationFormat", "Segmenter", "WorkArea", "CLinux",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // musikk-server's own data (accounts, social graph, comments, playlists, queues, listens): the rules, the
        // permission checks, the events each change raises, and its queries, over a storage protocol.
        .target(name: "Social"),
        // The social data in SQLite with GRDB: the embedded default.
        .target(name: "SocialSQLite", dependencies: ["Social", .product(name: "GRDB", package: "GRDB.swift")]),
        // The social data in PostgreSQL with postgres-nio: several server instances on one database.
        .target(
            name: "SocialPostgres",
            dependencies: [
                "Social",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The browser app musikk-server serves: Mustache-rendered shell, plain JavaScript modules and CSS.
        .target(
            name: "WebApp",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                "WorkArea",
            ],
            resources: [.copy("Resources/Templates"), .copy("Resources/Static")]
        ),
        // musikk-server: the HTTP API over the published catalog and the social store.
        .target(
            name: "MusikkServer",
            dependencies: [
                "PublicationFormat", "Social", "SocialSQLite", "SocialPostgres", "CLinux", "WebApp", "WorkArea", "Protection",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "musikk-ingest",
            dependencies: [
                "CommandLineSupport",
                "Fingerprint", "Ingest", "MediaIO", "WorkArea",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "musikk-publish",
            dependencies: [
                "CommandLineSupport",
                "Fingerprint", "MediaIO", "Publish", "WorkArea",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "musikk-server",
            dependencies: [
                "CommandLineSupport",
                "MusikkServer", "Social", "SocialSQLite", "SocialPostgres", "WorkArea",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The fuzz harnesses: libFuzzer targets built by scripts/fuzz-decode and scripts/fuzz-server, replayers otherwise.
        .target(name: "FuzzingDriver"),
        .executableTarget(name: "musikk-fuzz-decode", dependencies: ["MediaIO", "Lyrics", "FuzzingDriver"]),
        .executableTarget(name: "musikk-fuzz-server", dependencies: ["MusikkServer", "FuzzingDriver"]),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // The SQLite and PostgreSQL stores the Social and server tests run against.
        .target(name: "TestStores", dependencies: ["Social", "SocialSQLite", "SocialPostgres", "TestSupport"], path: "Tests/TestStores"),
        .testTarget(name: "SegmenterTests", dependencies: ["Segmenter", "TestSupport"]),
        .testTarget(name: "ManifestTests", dependencies: ["Manifest", "TestSupport"]),
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO", "TestSupport", "musikk-fuzz-decode"]),
        .testTarget(name: "FingerprintTests", dependencies: ["Fingerprint", "MediaIO", "TestSupport"]),
        .testTarget(name: "LoudnessTests", dependencies: ["Loudness", "TestSupport"]),
        .testTarget(name: "WaveformTests", dependencies: ["Waveform", "SignalCheck", "TestSupport"]),
        .testTarget(
            name: "CatalogTests",
            dependencies: ["Catalog", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest", "Catalog", "WorkArea", "TestSupport", "musikk-ingest",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "PublishTests",
            dependencies: ["Publish", "PublicationFormat", "Lyrics", "WorkArea", "Catalog", "TestSupport", "musikk-publish", "musikk-ingest"]
        ),
        .testTarget(name: "SocialTests", dependencies: ["Social", "TestStores", "TestSupport"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "MusikkServer", "Social", "SocialSQLite", "SocialPostgres", "TestStores", "TestSupport", "musikk-server", "musikk-ingest", "musikk-publish",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
