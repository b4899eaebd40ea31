import Logging
import NIOCore

/// The byte stream an AGI session talks over: a TCP connection to a FastAGI server, or a local
/// script's stdin/stdout. Lines in both directions end in a single LF.
protocol AGITransport: Sendable {
    /// The script's lines, without their LF (or CR LF); finishes when the script closes its end.
    var lines: AsyncStream<String> { get }
    func send(_ text: String) async throws
    func close() async
}

/// An `AGITransport` over an NIO channel whose pipeline ends in an `AGILineDecoder`.
final class AGIChannelTransport: AGITransport {
    let channel: any Channel
    let lines: AsyncStream<String>

    init(channel: any Channel, lines: AsyncStream<String>) {
        self.channel = channel
        self.lines = lines
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    func close() async {
        try? await channel.close()
    }
}

/// Splits the script's bytes into lines for the session. Bounded both ways: a line longer than
/// `maximumLineLength` or more than `maximumPendingLines` lines the session has not read yet
/// mean a broken script, and the connection is closed rather than buffered without end.
final class AGILineDecoder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// res_agi reads into a 2 KB buffer; a generous margin above it.
    static let maximumLineLength = 8192
    static let maximumPendingLines = 1024

    private let continuation: AsyncStream<String>.Continuation
    private let logger: Logger
    private var partial: [UInt8] = []

    init(continuation: AsyncStream<String>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
    }

    /// The session's stream of lines and the continuation a decoder (made on the channel's
    /// loop) feeds.
    static func makeStream() -> (AsyncStream<String>, AsyncStream<String>.Continuation) {
        AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(maximumPendingLines))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for byte in buffer.readableBytesView {
            guard byte == UInt8(ascii: "\n") else {
                partial.append(byte)
                if partial.count > Self.maximumLineLength {
                    logger.warning("AGI script sent a line longer than \(Self.maximumLineLength) bytes; closing")
                    partial.removeAll()
                    context.close(promise: nil)
                    return
                }
                continue
            }
            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
            let line = String(decoding: partial, as: UTF8.self)
            partial.removeAll(keepingCapacity: true)
            if case .dropped = continuation.yield(line) {
                logger.warning("AGI script sent \(Self.maximumPendingLines) commands ahead of the replies; closing")
                context.close(promise: nil)
                return
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("AGI connection error: \(error)")
        context.close(promise: nil)
    }
}
