import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The manager port (ami.md §1): accepts TCP connections on manager.conf's `bindaddr:port`
/// and runs one `AMISession` per connection. At most `authlimit` connections may be waiting
/// to log in; more are closed at once, without a banner, as Asterisk does.
public final class AMIServer: Sendable {
    /// Events a session may fall behind before the bus cuts it off.
    public static let eventCapacity = 2_000
    /// Bytes written to a client but not yet taken by its socket before it is disconnected.
    public static let maxPendingBytes = 4 << 20

    private let context: ManagerContext
    private let group: any EventLoopGroup
    private let limits: AMIWireLimits
    private let unauthenticated = NIOLockedValueBox(0)
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)
    /// Open client connections, so shutdown can close them while the event loops still run.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    public init(context: ManagerContext, group: any EventLoopGroup, limits: AMIWireLimits = AMIWireLimits()) {
        self.context = context
        self.group = group
        self.limits = limits
    }

    /// Binds and serves until `stop()`.
    public func run(host: String, port: Int) async throws {
        let limits = self.limits
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(AMIRequestDecoder(limits: limits)))
                    return channel.eventLoop.makeSucceededFuture(
                        try NIOAsyncChannel<AMIInbound, Never>(wrappingChannelSynchronously: channel))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        listener.withLockedValue { $0 = server.channel }
        context.logger.info("manager interface listening", metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"])
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { tasks in
                for try await connection in connections {
                    tasks.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// Stops accepting connections (sessions already open end when their clients leave, or at
    /// `closeSessions`).
    public func stop() {
        listener.withLockedValue { $0 }?.close(promise: nil)
    }

    /// Closes every client connection: the last step of a shutdown, after the Shutdown event.
    /// The sessions get a moment to write what they hold first (Shutdown included).
    public func closeSessions(grace: Duration = .milliseconds(200)) async {
        try? await Task.sleep(for: grace)
        let open = connections.withLockedValue { Array($0.values) }
        for channel in open { try? await channel.close() }
    }

    private func serve(_ connection: NIOAsyncChannel<AMIInbound, Never>) async {
        let channel = connection.channel
        let remoteHost = channel.remoteAddress?.ipAddress ?? "unknown"
        var logger = context.logger
        logger[metadataKey: "remote"] = "\(remoteHost):\(channel.remoteAddress?.port ?? 0)"
        let admitted = unauthenticated.withLockedValue { count -> Bool in
            guard count < context.config.authLimit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            logger.warning("too many manager connections waiting to log in; refusing one")
            try? await channel.close()
            return
        }
        let key = ObjectIdentifier(channel)
        connections.withLockedValue { $0[key] = channel }
        defer { _ = connections.withLockedValue { $0.removeValue(forKey: key) } }
        let endpoints = SessionEndpoints(
            localHost: channel.localAddress?.ipAddress ?? "0.0.0.0", localPort: channel.localAddress?.port ?? 0,
            remoteHost: remoteHost, remotePort: channel.remoteAddress?.port ?? 0)
        let output = ChannelOutput(channel: channel, maxPendingBytes: Self.maxPendingBytes, logger: logger)
        let session = AMISession(context: context, endpoints: endpoints, output: output, logger: logger)
        let counted = NIOLockedValueBox(true)
        // The slot frees on login, or when the connection ends without one.
        let releaseSlot: @Sendable () -> Void = { [unauthenticated] in
            if counted.withLockedValue({ wasCounted in defer { wasCounted = false }; return wasCounted }) {
                unauthenticated.withLockedValue { $0 -= 1 }
            }
        }
        do {
            try await connection.executeThenClose { inbound, _ in
                await session.serve(inbound, eventCapacity: Self.eventCapacity, onLogin: releaseSlot)
            }
        } catch {
            logger.debug("manager connection ended with an error", metadata: ["error": "\(error)"])
        }
        releaseSlot()
    }
}
