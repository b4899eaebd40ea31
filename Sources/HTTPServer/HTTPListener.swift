import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// pbxd's HTTP port (pbxd.conf `[http]`): `/health` and signed recording links, on swift-nio's
/// HTTP/1 codec. Connections idle for 60 s are closed, so idle sockets cannot pile up.
public final class HTTPListener: Sendable {
    private let channel: any Channel
    private let threadPool: NIOThreadPool
    /// The bound port (the configured one, or the system's choice for port 0 in tests).
    public let port: Int

    private init(channel: any Channel, threadPool: NIOThreadPool) {
        self.channel = channel
        self.threadPool = threadPool
        port = channel.localAddress?.port ?? 0
    }

    /// Binds and serves. `signer` nil: every recording request is refused (no secret).
    public static func start(
        host: String, port: Int, recordingsDirectory: String, signer: RecordingLinkSigner?, group: any EventLoopGroup,
        logger: Logger = Logger(label: "pbxd.http")
    ) async throws -> HTTPListener {
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let files = RecordingFiles(directory: recordingsDirectory)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .seconds(60)))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPRequestHandler(signer: signer, files: files, threadPool: threadPool, logger: logger))
                    }
                }
                .bind(host: host, port: port)
                .get()
            let listener = HTTPListener(channel: channel, threadPool: threadPool)
            logger.info("HTTP port listening", metadata: ["address": "\(host):\(listener.port)", "recordings": "\(signer != nil)"])
            return listener
        } catch {
            try? await threadPool.shutdownGracefully()
            throw error
        }
    }

    /// Stops accepting connections and ends the file thread.
    public func stop() async {
        try? await channel.close()
        try? await threadPool.shutdownGracefully()
    }
}
