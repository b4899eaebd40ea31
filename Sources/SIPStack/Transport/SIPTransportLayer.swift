import Logging
import NIOCore
import NIOPosix

/// Receives and sends SIP over UDP and TCP on one port (RFC 3261 §18), on one event loop.
///
/// Inbound bytes are parsed here; a request that cannot be parsed gets the parser's 400/505 when
/// it can be addressed, otherwise it is dropped and counted. Requests are stamped with
/// `received`/`rport` (RFC 3581) so responses and later requests reach a NATed phone's real
/// address. Everything the layer owns is confined to `eventLoop`.
public final class SIPTransportLayer: @unchecked Sendable {
    // @unchecked Sendable: every mutable property is read and written only on `eventLoop`
    // (each entry point asserts or hops there), so no two threads ever touch them at once.

    public let eventLoop: any EventLoop
    public private(set) var stats = SIPTransportStats()
    private let logger: Logger
    private let limits: SIPParserLimits
    private var udpChannel: (any Channel)?
    private var tcpServer: (any Channel)?
    /// Open TCP connections by remote address, both accepted and opened by us.
    private var tcpConnections: [SocketAddress: any Channel] = [:]
    private var sink: ((SIPMessage, SIPTransportAddress) -> Void)?
    private var failureSink: ((SIPTransportAddress) -> Void)?
    /// The address requests carry in Via and Contact (the bound UDP address).
    public private(set) var localAddress: SocketAddress?

    public init(eventLoop: any EventLoop, limits: SIPParserLimits = .default, logger: Logger) {
        self.eventLoop = eventLoop
        self.limits = limits
        self.logger = logger
    }

    /// Sets where parsed messages go (the transaction layer). Call before `start`.
    public func setSink(_ sink: @escaping (SIPMessage, SIPTransportAddress) -> Void) {
        self.sink = sink
    }

    /// Sets who hears that a destination cannot be reached (a TCP connect that failed), so the
    /// transactions waiting on it fail at once instead of at Timer B (§17.1.4).
    public func setFailureSink(_ sink: @escaping (SIPTransportAddress) -> Void) {
        self.failureSink = sink
    }

    /// Binds UDP at `udp` and, when given, TCP at `tcp` (usually the same host and port).
    public func start(udp: SocketAddress, tcp: SocketAddress?) async throws {
        let udpChannel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SIPDatagramHandler(layer: self))
                }
            }
            .bind(to: udp).get()
        var tcpChannel: (any Channel)?
        if let tcp {
            tcpChannel = try await ServerBootstrap(group: eventLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.configureStream(channel)
                    }
                }
                .bind(to: tcp).get()
        }
        try await eventLoop.submit {
            self.udpChannel = udpChannel
            self.tcpServer = tcpChannel
            self.localAddress = udpChannel.localAddress
        }.get()
    }

    /// The UDP port actually bound (useful when configured as 0 in tests).
    public var boundPort: Int? { localAddress?.port }

    /// Closes the sockets; in-flight writes are flushed first.
    public func shutdown() async {
        let channels: [any Channel] = (try? await eventLoop.submit {
            var all: [any Channel] = Array(self.tcpConnections.values)
            if let udp = self.udpChannel { all.append(udp) }
            if let tcp = self.tcpServer { all.append(tcp) }
            self.tcpConnections.removeAll()
            return all
        }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    // MARK: Sending

    /// Sends a message. UDP goes straight out; TCP reuses the connection to that address, or
    /// opens one (phones registered over TCP keep theirs open).
    public func send(_ message: SIPMessage, to destination: SIPTransportAddress) {
        eventLoop.preconditionInEventLoop()
        var buffer = (udpChannel?.allocator ?? ByteBufferAllocator()).buffer(capacity: 1500)
        message.serialize(into: &buffer)
        switch destination.transport {
        case .udp:
            guard let udpChannel else { return }
            stats.sent += 1
            udpChannel.writeAndFlush(AddressedEnvelope(remoteAddress: destination.address, data: buffer), promise: nil)
        case .tcp:
            if let connection = tcpConnections[destination.address] {
                stats.sent += 1
                connection.writeAndFlush(buffer, promise: nil)
            } else {
                connectAndSend(buffer, to: destination.address)
            }
        }
    }

    /// Sends bytes already in wire form (error responses built from a message that did not parse).
    func sendRaw(_ buffer: ByteBuffer, to destination: SIPTransportAddress) {
        switch destination.transport {
        case .udp:
            udpChannel?.writeAndFlush(AddressedEnvelope(remoteAddress: destination.address, data: buffer), promise: nil)
        case .tcp:
            tcpConnections[destination.address]?.writeAndFlush(buffer, promise: nil)
        }
    }

    private func connectAndSend(_ buffer: ByteBuffer, to address: SocketAddress) {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try self.configureStream(channel) }
            }
            .connect(to: address)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.tcpConnections[address] = channel
                    self.stats.sent += 1
                    channel.writeAndFlush(buffer, promise: nil)
                case .failure(let error):
                    self.stats.sendFailures += 1
                    self.logger.warning("SIP TCP connect failed", metadata: ["to": "\(address)", "error": "\(error)"])
                    self.failureSink?(SIPTransportAddress(transport: .tcp, address: address))
                }
            }
    }

    private func configureStream(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIPStreamDecoder(limits: limits)))
        try channel.pipeline.syncOperations.addHandler(SIPStreamHandler(layer: self))
    }

    // MARK: Receiving (called by the channel handlers, on the loop)

    func streamOpened(_ channel: any Channel) {
        if let remote = channel.remoteAddress { tcpConnections[remote] = channel }
    }

    func streamClosed(_ channel: any Channel) {
        if let remote = channel.remoteAddress, tcpConnections[remote] === channel {
            tcpConnections[remote] = nil
        }
    }

    /// Parses one datagram or stream frame and hands the message on, or answers/drops it.
    func received(_ bytes: ByteBuffer, from source: SIPTransportAddress) {
        stats.received += 1
        do {
            var message = try SIPParser.parse(bytes, limits: limits, framing: source.transport.isReliable ? .stream : .datagram)
            if case .request(var request) = message {
                Self.stampReceived(&request, source: source.address)
                message = .request(request)
            }
            sink?(message, source)
        } catch {
            stats.parseErrors += 1
            logger.debug("unparseable SIP message", metadata: ["from": "\(source)", "reason": "\(error.reason)"])
            if let response = error.errorResponse(toTag: SIPTokens.branch()) {
                stats.errorResponses += 1
                sendRaw(response, to: source)
            }
        }
    }

    /// RFC 3261 §18.2.1 and RFC 3581 §4: records where a request really came from in its top Via.
    static func stampReceived(_ request: inout SIPRequest, source: SocketAddress) {
        guard var top = request.headers.vias.first, let ip = source.ipAddress else { return }
        if top.host != ip { top.parameters["received"] = ip }
        if top.parameters.contains("rport"), let port = source.port {
            top.parameters["received"] = ip
            top.parameters["rport"] = String(port)
        }
        request.headers.vias[0] = top
    }
}

/// Counters for `sip show stats` and metrics: what arrived, and what was dropped and why.
public struct SIPTransportStats: Sendable {
    public var received = 0
    public var sent = 0
    public var parseErrors = 0
    public var errorResponses = 0
    public var sendFailures = 0
}

/// Hands each datagram to the layer with its source address.
private final class SIPDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let layer: SIPTransportLayer
    init(layer: SIPTransportLayer) { self.layer = layer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        layer.received(envelope.data, from: SIPTransportAddress(transport: .udp, address: envelope.remoteAddress))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and similar per-datagram errors must not close the socket.
    }
}

/// Hands each framed TCP message to the layer; tracks the connection for replies.
private final class SIPStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let layer: SIPTransportLayer
    init(layer: SIPTransportLayer) { self.layer = layer }

    func channelActive(context: ChannelHandlerContext) {
        layer.streamOpened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        layer.streamClosed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let remote = context.channel.remoteAddress else { return }
        layer.received(unwrapInboundIn(data), from: SIPTransportAddress(transport: .tcp, address: remote))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A framing error (oversized or garbage stream) cannot be resynchronised: close.
        context.close(promise: nil)
    }
}
