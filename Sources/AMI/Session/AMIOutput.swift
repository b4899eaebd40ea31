import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Where a session writes its messages: the TCP connection, or a recorder in tests. `send`
/// never waits for the client, so neither a reply nor an event can block on a slow reader.
protocol AMIOutput: Sendable {
    /// Queues text as it is (the banner, or a rendered message).
    func sendRaw(_ text: String)
    func close()
    /// False once the connection is closed (by either side).
    var isOpen: Bool { get }
}

extension AMIOutput {
    func send(_ message: AMIMessage) { sendRaw(message.text) }
}

/// The socket side of a session. Writes are queued on the connection's event loop in call
/// order (one message = one buffer, so messages never interleave). While the connection is
/// not writable (the client stopped reading and NIO's high watermark of pending bytes was
/// passed) the bytes queued on top are counted; past `maxPendingBytes` the client is
/// disconnected with a log line, so its backlog stays bounded. No per-write callback: the
/// count is reset whenever the connection is writable again.
final class ChannelOutput: AMIOutput {
    private let channel: any Channel
    private let maxPendingBytes: Int
    private let queuedWhileBlocked = NIOLockedValueBox(0)
    private let logger: Logger

    init(channel: any Channel, maxPendingBytes: Int, logger: Logger) {
        self.channel = channel
        self.maxPendingBytes = maxPendingBytes
        self.logger = logger
    }

    func sendRaw(_ text: String) {
        let buffer = channel.allocator.buffer(string: text)
        let writable = channel.isWritable
        let overflow = queuedWhileBlocked.withLockedValue { queued -> Bool in
            guard !writable else {
                queued = 0
                return false
            }
            queued += buffer.readableBytes
            return queued > maxPendingBytes
        }
        guard !overflow else {
            logger.warning("manager client is not reading its messages; disconnecting",
                           metadata: ["pending_bytes": "\(maxPendingBytes)"])
            close()
            return
        }
        channel.writeAndFlush(buffer, promise: nil)
    }

    func close() {
        channel.close(promise: nil)
    }

    var isOpen: Bool { channel.isActive }
}
