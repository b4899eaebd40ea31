import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import AMI

/// The socket side of a session, on an EmbeddedChannel: ordering, coalescing, and the bound
/// on what a client that stops reading can make pbxd hold.
@Suite struct ChannelOutputTests {
    func written(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: buffer)) }
        return out
    }

    @Test func messagesQueuedTogetherGoOutInOneWriteInOrder() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5038)).wait()
        let output = ChannelOutput(channel: channel, maxPendingBytes: 1024, logger: Logger(label: "test"))
        output.sendRaw("Response: Success\r\n\r\n")
        output.sendRaw("Event: A\r\n\r\n")
        output.sendRaw("Event: B\r\n\r\n")
        #expect(try written(channel).isEmpty)
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["Response: Success\r\n\r\nEvent: A\r\n\r\nEvent: B\r\n\r\n"])
        output.sendRaw("Event: C\r\n\r\n")
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["Event: C\r\n\r\n"])
        #expect(output.isOpen)
    }

    @Test func clientThatStopsReadingIsDisconnectedPastTheBound() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5038)).wait()
        let output = ChannelOutput(channel: channel, maxPendingBytes: 100, logger: Logger(label: "test"))
        channel.isWritable = false
        let event = "Event: X\r\nPad: " + String(repeating: "z", count: 30) + "\r\n\r\n"
        output.sendRaw(event)
        output.sendRaw(event)
        channel.embeddedEventLoop.run()
        #expect(output.isOpen)
        // Writable again: the count restarts.
        channel.isWritable = true
        output.sendRaw(event)
        channel.isWritable = false
        output.sendRaw(event)
        output.sendRaw(event)
        channel.embeddedEventLoop.run()
        #expect(output.isOpen)
        output.sendRaw(event)
        channel.embeddedEventLoop.run()
        #expect(!output.isOpen)
    }
}
