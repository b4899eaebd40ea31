import NIOCore
import NIOPosix
@testable import RTPMedia

/// A test "phone": a plain NIO datagram socket on loopback that records what it receives.
/// The record lives in the handler, on the phone's event loop; tests read it through the loop.
final class TestPhone: Sendable {
    let channel: Channel

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        var received: [AddressedEnvelope<ByteBuffer>] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.received.append(Self.unwrapInboundIn(data))
        }
    }

    private init(channel: Channel) {
        self.channel = channel
    }

    static func make(port: Int = 0, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> TestPhone {
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(Collector()) }
            }
            .bind(host: "127.0.0.1", port: port).get()
        return TestPhone(channel: channel)
    }

    var address: SocketAddress { self.channel.localAddress! }

    var received: [AddressedEnvelope<ByteBuffer>] {
        get async throws {
            let channel = self.channel
            return try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: Collector.self).received
            }.get()
        }
    }

    func send(_ bytes: [UInt8], toPort port: Int) async throws {
        let to = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        try await self.channel.writeAndFlush(AddressedEnvelope(remoteAddress: to, data: ByteBuffer(bytes: bytes)))
    }

    /// Waits (bounded: 2 s) until at least `count` datagrams arrived.
    @discardableResult
    func waitFor(_ count: Int) async throws -> [AddressedEnvelope<ByteBuffer>] {
        for _ in 0..<400 {
            let r = try await self.received
            if r.count >= count { return r }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try await self.received
    }

    func close() async { try? await self.channel.close() }
}

/// An RTP packet: V=2, PT, seq, fixed timestamp/SSRC, `payload` bytes of `fill`.
func rtpPacket(pt: UInt8, seq: UInt16, marker: Bool = false, ssrc: UInt32 = 0x1234_5678, payload: Int = 160, fill: UInt8 = 0xFF) -> [UInt8] {
    var b = ByteBuffer()
    RTPHeader(marker: marker, payloadType: pt, sequenceNumber: seq, timestamp: UInt32(seq) * 160, ssrc: ssrc).write(into: &b)
    b.writeRepeatingByte(fill, count: payload)
    return Array(b.readableBytesView)
}

/// Polls `condition` every 5 ms for up to 2 s.
func eventually(_ condition: () async -> Bool) async throws -> Bool {
    for _ in 0..<400 {
        if await condition() { return true }
        try await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
