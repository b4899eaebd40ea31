import Foundation
import Logging
import NIOCore
import NIOPosix
import PBXCore

/// The local control socket `pbxd -rx` talks to (DESIGN.md §5): a Unix stream socket at
/// `<datadir>/pbxd.ctl`, usable by pbxd's own user only (mode 0600), since whoever can connect
/// can reload or inspect the switch.
///
/// One command per connection (`ControlProtocol`): the client sends the command line ending in
/// `\n`; pbxd answers with a status line, then the command's output, and closes.
final class ControlSocket: Sendable {
    static let fileName = "pbxd.ctl"

    let path: String
    private let server: any Channel

    private init(path: String, server: any Channel) {
        self.path = path
        self.server = server
    }

    /// Binds the socket and starts answering. A socket file left by a pbxd that died is
    /// replaced; one that another pbxd still answers on stops start-up (two switches on one
    /// data directory would overwrite each other's registrations).
    static func start(dataDirectory: String, registry: CLICommandRegistry, group: any EventLoopGroup, logger: Logger) async throws
        -> ControlSocket
    {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        guard let address = ControlSocketAddress(path: path) else {
            throw StartupError(
                description:
                    "control socket path '\(path)' is longer than \(ControlProtocol.maxPathLength - 1) bytes; use a shorter datadir"
            )
        }
        if FileManager.default.fileExists(atPath: path) {
            if await RemoteConsole.isAnswering(path: path) {
                throw StartupError(
                    description: "another pbxd is running with data directory '\(dataDirectory)' (it answers on \(path))")
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        defer { address.close() }
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ControlConnectionHandler(registry: registry, logger: logger))
                    }
                }
                .bind(unixDomainSocketPath: address.bindable).get()
        } catch {
            throw StartupError(description: "cannot listen on control socket '\(path)': \(error)")
        }
        guard chmod(path, 0o600) == 0 else {
            try? await server.close()
            throw StartupError(
                description: "cannot restrict control socket '\(path)' to pbxd's user: \(String(cString: strerror(errno)))")
        }
        logger.debug("control socket listening", metadata: ["path": "\(path)"])
        return ControlSocket(path: path, server: server)
    }

    /// Stops answering and removes the socket file.
    func stop() async {
        try? await server.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// One control connection: reads the command line, runs it through the registry, writes the
/// reply and closes. Confined to the connection's event loop.
private final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let registry: CLICommandRegistry
    private let logger: Logger
    private var received: [UInt8] = []
    private var answered = false
    /// Closes a connection that never sends its command (see `ControlProtocol.commandTimeout`).
    private var idleTimer: Scheduled<Void>?

    init(registry: CLICommandRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytesView
        if let end = received.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: received[..<end], as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            run(line, on: context.channel)
        } else if received.count > ControlProtocol.maxCommandLength {
            reply(.failure("Command longer than \(ControlProtocol.maxCommandLength) bytes"), on: context.channel)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        idleTimer = context.eventLoop.scheduleTask(in: ControlProtocol.commandTimeout) {
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        answered = true
        context.fireChannelInactive()
    }

    private func run(_ line: String, on channel: any Channel) {
        answered = true
        idleTimer?.cancel()
        logger.info("console command", metadata: ["command": "\(line)"])
        let registry = self.registry
        let promise = channel.eventLoop.makePromise(of: CLIResult.self)
        promise.completeWithTask { await registry.run(line) }
        promise.futureResult.whenSuccess { result in
            Self.send(result, on: channel)
        }
    }

    private func reply(_ result: CLIResult, on channel: any Channel) {
        answered = true
        Self.send(result, on: channel)
    }

    private static func send(_ result: CLIResult, on channel: any Channel) {
        let buffer = channel.allocator.buffer(string: ControlProtocol.encode(result))
        channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
    }
}
