import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import SIPStack

/// Garbage never reaches the transaction layer: it is counted and, when it can be addressed,
/// answered (DESIGN.md §2 step 1).
@Suite struct TransportStatsTests {
    @Test func garbageIsCountedAndNotDelivered() throws {
        let loop = EmbeddedEventLoop()
        let layer = SIPTransportLayer(eventLoop: loop, logger: Logger(label: "test"))
        var delivered: [SIPMessage] = []
        layer.setSink { message, _ in delivered.append(message) }
        let source = SIPTransportAddress(transport: .udp, address: try SocketAddress(ipAddress: "127.0.0.1", port: 5999))

        layer.received(ByteBuffer(string: "\u{1}\u{2}garbage\r\n\r\n"), from: source)
        let badVersion = "OPTIONS sip:x@127.0.0.1 SIP/7.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
            + "From: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        layer.received(ByteBuffer(string: badVersion), from: source)
        let good = badVersion.replacingOccurrences(of: "SIP/7.0", with: "SIP/2.0")
        layer.received(ByteBuffer(string: good), from: source)

        #expect(layer.stats.received == 3)
        #expect(layer.stats.parseErrors == 2)
        #expect(layer.stats.errorResponses == 1)  // the 505 could be addressed; the garbage could not
        #expect(delivered.count == 1)
    }
}
