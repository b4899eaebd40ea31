import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Where a session writes its messages: the TCP connection, or a recorder in tests. `send`
/// never waits for the client, so neither a reply nor an event can block on a slow reader.
protocol AMIOutput: Sendable {
    /// Queues text as it is (the banner, or a rendered message).
    func sendRaw(_ text: String)
    func close()
}

extension AMIOutput {
    func send(_ message: AMIMessage) { sendRaw(message.text) }
}

/// The socket side of a session. Writes are queued on the connection's event loop in call
/// order (one message = one buffer, so messages never interleave). Bytes written but not yet
/// taken by the kernel are counted; a client that lets more than `maxPendingBytes` pile up
/// is disconnected with a log line, so its backlog stays bounded.
final class ChannelOutput: AMIOutput {
    private let channel: any Channel
    private let maxPendingBytes: Int
    private let pendingBytes = NIOLockedValueBox(0)
    private let logger: Logger

    init(channel: any Channel, maxPendingBytes: Int, logger: Logger) {
        self.channel = channel
        self.maxPendingBytes = maxPendingBytes
        self.logger = logger
    }

    func sendRaw(_ text: String) {
        let buffer = channel.allocator.buffer(string: text)
        let size = buffer.readableBytes
        let overflow = pendingBytes.withLockedValue { pending -> Bool in
            guard pending + size <= maxPendingBytes else { return true }
            pending += size
            return false
        }
        guard !overflow else {
            logger.warning("manager client is not reading its messages; disconnecting",
                           metadata: ["pending_bytes": "\(maxPendingBytes)"])
            close()
            return
        }
        channel.writeAndFlush(buffer).whenComplete { [pendingBytes] _ in
            pendingBytes.withLockedValue { $0 -= size }
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}
