// swift-tools-version:6.1
import PackageDescription

/// Targets and their import direction follow DESIGN.md §1:
/// pbxd → IVR → Dialplan → PBXCore → {SIPStack, RTPMedia}.
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
        .target(
            name: "RTPMedia",
            dependencies: [
                "CSpanDSP",
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
                "AMI", "IVR", "Dialplan", "PBXCore", "SIPStack", "RTPMedia",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pbxd-bench",
            dependencies: [
                "SIPStack", "RTPMedia",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/Sources/pbxd-bench"
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
            dependencies: ["RTPMedia", .product(name: "NIOEmbedded", package: "swift-nio")]
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
            name: "AMITests",
            dependencies: ["AMI", "Dialplan", "PBXCore", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        .testTarget(
            name: "IVRTests",
            dependencies: ["IVR", "Dialplan", "PBXCore", "RTPMedia", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
