import NIOCore
import PBXCore

/// What the decoder hands the session: a complete request, or why the input was refused.
public enum AMIInbound: Sendable, Equatable {
    /// The header lines of one request, in wire order, as `Key: Value` pairs.
    case request([ManagerEvent.Field])
    /// A line longer than `AMIWireLimits.maxLineLength` (or no line end within it).
    case lineTooLong
    /// More than `AMIWireLimits.maxHeaderLines` lines before the blank line.
    case tooManyLines
}

/// The client-input limits Asterisk's manager applies (ami.md §3), in one place.
public struct AMIWireLimits: Sendable {
    /// Bytes per line, without its terminator.
    public var maxLineLength = 1024
    public var maxHeaderLines = 128

    public init(maxLineLength: Int = 1024, maxHeaderLines: Int = 128) {
        self.maxLineLength = maxLineLength
        self.maxHeaderLines = maxHeaderLines
    }
}

/// Frames the client's byte stream into requests (ami.md §3): lines end in CRLF or a bare LF,
/// a blank line ends the request, blank lines between requests are ignored. A header's key is
/// everything before the first `:`; blanks after it are skipped, trailing blanks kept. A line
/// without `:` is kept with an empty value (no action reads it). Invalid UTF-8 is replaced, not
/// rejected. After a limit is exceeded the decoder reports it once and reads nothing more: the
/// session closes the connection.
public struct AMIRequestDecoder: ByteToMessageDecoder {
    public typealias InboundOut = AMIInbound

    private let limits: AMIWireLimits
    private var headers: [ManagerEvent.Field] = []
    private var failed = false

    public init(limits: AMIWireLimits = AMIWireLimits()) {
        self.limits = limits
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard !failed else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > limits.maxLineLength + 1 { fail(.lineTooLong, context: context, buffer: &buffer) }
            return .needMoreData
        }
        var lineBytes = view[view.startIndex..<newline]
        if lineBytes.last == UInt8(ascii: "\r") { lineBytes = lineBytes.dropLast() }
        guard lineBytes.count <= limits.maxLineLength else {
            fail(.lineTooLong, context: context, buffer: &buffer)
            return .needMoreData
        }
        let line = String(decoding: lineBytes, as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        if line.isEmpty {
            if !headers.isEmpty {
                context.fireChannelRead(wrapInboundOut(.request(headers)))
                headers.removeAll(keepingCapacity: true)
            }
            return .continue
        }
        guard headers.count < limits.maxHeaderLines else {
            fail(.tooManyLines, context: context, buffer: &buffer)
            return .needMoreData
        }
        headers.append(Self.header(line))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A request cut off by the connection closing is dropped, as Asterisk drops it.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    private mutating func fail(_ reason: AMIInbound, context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        failed = true
        headers.removeAll()
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(reason))
    }

    static func header(_ line: String) -> ManagerEvent.Field {
        guard let colon = line.firstIndex(of: ":") else { return ManagerEvent.Field(line, "") }
        let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        return ManagerEvent.Field(String(line[..<colon]), String(value))
    }
}
