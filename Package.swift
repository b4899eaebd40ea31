// swift-tools-version:6.1
import PackageDescription

/// Targets and their import direction follow DESIGN.md §1:
/// pbxd → {ACD, AGI, Webhooks, CDRBackends, HTTPServer} → IVR → Dialplan → PBXCore → {SIPStack, RTPMedia}.
let package = Package(
    name: "pbxd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pbxd", targets: ["pbxd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        // Storage: the embedded SQLite database (DESIGN.md §6).
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // CDRBackends: the PostgreSQL CDR backend (cdr_pgsql-compatible table).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "SIPStack",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // DESIGN.md §1: a system-library shim, imported only by RTPMedia's InbandDTMF.swift.
        .systemLibrary(
            name: "CSpanDSP",
            pkgConfig: "spandsp",
            providers: [.apt(["libspandsp-dev"])]
        ),
        // MixMonitor's Ogg/Opus recordings: imported only by RTPMedia's OggOpusWriter.swift.
        .systemLibrary(
            name: "COpus",
            pkgConfig: "opus",
            providers: [.apt(["libopus-dev"])]
        ),
        .target(
            name: "RTPMedia",
            dependencies: [
                "CSpanDSP", "COpus",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PBXCore",
            dependencies: [
                "SIPStack", "RTPMedia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Dialplan",
            dependencies: [
                "PBXCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "IVR",
            dependencies: [
                "Dialplan", "PBXCore", "RTPMedia",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ACD",
            dependencies: [
                "Dialplan", "PBXCore", "RTPMedia", "Storage",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // DESIGN.md §6: owns pbxd.sqlite (WAL, synchronous=FULL) and its migrations; other
        // subsystems (CDRBackends, ACD's queue_log, Webhooks' outbox) add their tables through
        // it, and it keeps the astdb table. Imports nothing of the switch.
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // CDR backends (SQLite, CSV, PostgreSQL, AMI Cdr event), cdr*.conf, and the service
        // that runs PBXCore's CDR engine on the event bus. pbxd → CDRBackends → {PBXCore, Storage}.
        .target(
            name: "CDRBackends",
            dependencies: [
                "PBXCore", "Storage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // AGI and FastAGI (issue 6): above IVR (it says digits and numbers with IVR's
        // NumberSpeech), below pbxd.
        .target(
            name: "AGI",
            dependencies: [
                "IVR", "Dialplan", "PBXCore", "RTPMedia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // CRM webhooks (issue 6): bus events → durable outbox (Storage) → signed HTTP POSTs.
        .target(
            name: "Webhooks",
            dependencies: [
                "PBXCore", "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // pbxd's HTTP port (issue 6): /health and signed, expiring recording links for CRMs.
        .target(
            name: "HTTPServer",
            dependencies: [
                "PBXCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The manager port (DESIGN.md §1): AMI wire, login, permissions, its own actions.
        .target(
            name: "AMI",
            dependencies: [
                "Dialplan", "PBXCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "pbxd",
            dependencies: [
                "HTTPServer",
                "AMI", "ACD", "AGI", "IVR", "Webhooks", "Dialplan", "PBXCore", "SIPStack", "RTPMedia", "CDRBackends", "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pbxd-bench",
            dependencies: [
                "ACD", "AGI", "IVR", "Webhooks", "Dialplan", "PBXCore", "SIPStack", "RTPMedia", "CDRBackends", "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Sources/pbxd-bench"
        ),
        // CDR rows/s under a call burst (BENCHMARKS.md); separate from pbxd-bench so that one
        // does not link PostgreSQL.
        .executableTarget(
            name: "pbxd-cdr-bench",
            dependencies: ["CDRBackends", "PBXCore", "Storage", .product(name: "Logging", package: "swift-log")],
            path: "bench/Sources/pbxd-cdr-bench"
        ),
        .testTarget(
            name: "SIPStackTests",
            dependencies: [
                "SIPStack",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "RTPMediaTests",
            dependencies: [
                "RTPMedia", "COpus", .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "PBXCoreTests",
            dependencies: ["PBXCore", .product(name: "NIOEmbedded", package: "swift-nio")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DialplanTests",
            dependencies: ["Dialplan", "RTPMedia"]
        ),
        .testTarget(
            name: "ACDTests",
            dependencies: ["ACD", "Dialplan", "PBXCore", "Storage", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "CDRTests",
            dependencies: ["PBXCore", "Storage", "CDRBackends"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AMITests",
            dependencies: ["AMI", "Dialplan", "PBXCore", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(
            name: "IVRTests",
            dependencies: ["IVR", "Dialplan", "PBXCore", "RTPMedia", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "AGITests",
            dependencies: [
                "AGI", "IVR", "Dialplan", "PBXCore", "RTPMedia",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "PBXCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "PBXCore", "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
