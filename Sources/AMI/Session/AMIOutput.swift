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

/// The socket side of a session. Messages are appended to a pending buffer that one task on
/// the connection's event loop hands to NIO: messages sent while that task is queued go out
/// in the same write (50 sessions × thousands of events a second would otherwise cost a loop
/// hop and a syscall each). One message is appended whole, so messages never interleave, and
/// call order is wire order.
///
/// While the connection is not writable (the client stopped reading and NIO's high watermark
/// of pending bytes was passed) the bytes queued on top are counted; past `maxPendingBytes`
/// the client is disconnected with a log line, so its backlog stays bounded. The count resets
/// whenever the connection is writable again.
final class ChannelOutput: AMIOutput {
    private struct Pending {
        var buffer: ByteBuffer
        var flushScheduled = false
        var queuedWhileBlocked = 0
    }

    private let channel: any Channel
    private let maxPendingBytes: Int
    private let pending: NIOLockedValueBox<Pending>
    private let logger: Logger

    init(channel: any Channel, maxPendingBytes: Int, logger: Logger) {
        self.channel = channel
        self.maxPendingBytes = maxPendingBytes
        self.logger = logger
        self.pending = NIOLockedValueBox(Pending(buffer: channel.allocator.buffer(capacity: 0)))
    }

    func sendRaw(_ text: String) {
        let writable = channel.isWritable
        let (overflow, schedule) = pending.withLockedValue { pending -> (Bool, Bool) in
            if writable {
                pending.queuedWhileBlocked = 0
            } else {
                pending.queuedWhileBlocked += text.utf8.count
                if pending.queuedWhileBlocked > maxPendingBytes { return (true, false) }
            }
            pending.buffer.writeString(text)
            defer { pending.flushScheduled = true }
            return (false, !pending.flushScheduled)
        }
        if overflow {
            logger.warning("manager client is not reading its messages; disconnecting",
                           metadata: ["pending_bytes": "\(maxPendingBytes)"])
            close()
        } else if schedule {
            channel.eventLoop.execute { [self] in
                let buffer = pending.withLockedValue { pending -> ByteBuffer in
                    pending.flushScheduled = false
                    defer { pending.buffer = channel.allocator.buffer(capacity: 0) }
                    return pending.buffer
                }
                channel.writeAndFlush(buffer, promise: nil)
            }
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    var isOpen: Bool { channel.isActive }
}
