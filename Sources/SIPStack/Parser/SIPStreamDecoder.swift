import NIOCore

/// Cuts a TCP/TLS byte stream into whole SIP messages (RFC 3261 §18.3: the header section ends
/// at the first empty line, the body is exactly Content-Length bytes, which is mandatory here).
///
/// It emits each message as one `ByteBuffer` frame, unparsed: framing errors (no Content-Length,
/// a header section that never ends) lose the stream and are thrown, so the pipeline closes the
/// connection, while a malformed message that frames correctly reaches the transport, whose
/// `SIPParser.parse(_:framing: .stream)` can answer it with a 400 and keep the connection.
///
/// CRLFs between messages are skipped. An RFC 5626 §4.4.1 keep-alive ping (CRLFCRLF) is
/// answered with a CRLF pong when `answersKeepAlives` is set. Memory stays bounded: a header
/// section longer than `limits.maxMessageBytes` without its empty line, or a declared message
/// larger than that, is an error (513) before more data is buffered.
public struct SIPStreamDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let limits: SIPParserLimits
    public let answersKeepAlives: Bool
    /// Bytes of the current header section already searched for the empty line, so feeding one
    /// byte at a time stays linear; 0 between messages.
    private var scannedBytes = 0
    /// The whole length of the current message once its header section has been read, so the
    /// headers are not searched again while the body trickles in.
    private var pendingLength: Int?
    /// LFs skipped since the last message; two (CRLFCRLF) make a keep-alive ping.
    private var skippedLineFeeds = 0

    public init(limits: SIPParserLimits = .default, answersKeepAlives: Bool = true) {
        self.limits = limits
        self.answersKeepAlives = answersKeepAlives
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let total: Int
        if let pendingLength {
            total = pendingLength
        } else {
            skipKeepAlives(context: context, buffer: &buffer)
            guard buffer.readableBytes > 0 else { return .needMoreData }
            guard let headerLength = findHeaderEnd(buffer) else {
                guard buffer.readableBytes <= limits.maxMessageBytes else {
                    throw SIPParseError(statusCode: 513, reason: "Header section longer than \(limits.maxMessageBytes) bytes")
                }
                return .needMoreData
            }
            let contentLength = try Self.contentLength(buffer.readableBytesView.prefix(headerLength), limits: limits)
            total = headerLength + contentLength
            guard total <= limits.maxMessageBytes else {
                throw SIPParseError(statusCode: 513, reason: "Message larger than \(limits.maxMessageBytes) bytes")
            }
            pendingLength = total
        }
        guard let frame = buffer.readSlice(length: total) else { return .needMoreData }
        pendingLength = nil
        scannedBytes = 0
        skippedLineFeeds = 0
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A message cut off by EOF cannot be completed; whatever is left is dropped.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    private mutating func skipKeepAlives(context: ChannelHandlerContext, buffer: inout ByteBuffer) {
        guard scannedBytes == 0 else { return }  // inside a message
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == SIPChar.cr || byte == SIPChar.lf {
            buffer.moveReaderIndex(forwardBy: 1)
            guard byte == SIPChar.lf else { continue }
            skippedLineFeeds += 1
            if skippedLineFeeds == 2 {
                skippedLineFeeds = 0
                if answersKeepAlives {
                    var pong = context.channel.allocator.buffer(capacity: 2)
                    pong.writeStaticString("\r\n")
                    context.writeAndFlush(NIOAny(pong), promise: nil)
                }
            }
        }
    }

    /// Length of the header section including its empty line, if complete.
    private mutating func findHeaderEnd(_ buffer: ByteBuffer) -> Int? {
        let view = buffer.readableBytesView
        let result: Int? = view.withContiguousStorageIfAvailable { bytes -> Int? in
            var index = max(0, scannedBytes - 3)
            while index < bytes.count {
                if bytes[index] == SIPChar.lf {
                    if index + 1 < bytes.count, bytes[index + 1] == SIPChar.lf { return index + 2 }
                    if index + 2 < bytes.count, bytes[index + 1] == SIPChar.cr, bytes[index + 2] == SIPChar.lf {
                        return index + 3
                    }
                }
                index += 1
            }
            return nil
        } ?? nil
        if result == nil { scannedBytes = max(view.count, 1) }
        return result
    }

    /// The Content-Length (or `l`) value of a header section; missing, repeated or malformed is
    /// an error because the stream cannot be framed without it.
    static func contentLength(_ header: ByteBufferView, limits: SIPParserLimits) throws -> Int {
        let found: Result<Int, SIPParseError> = header.withContiguousStorageIfAvailable { bytes in
            Result { () throws(SIPParseError) -> Int in
                var value: Int?
                var lines = SIPResponseContextSalvager.LineIterator(bytes: bytes, position: 0, end: bytes.count)
                _ = lines.next()
                while let line = lines.next(), !line.isEmpty {
                    var r = SIPByteReader(bytes, from: line.lowerBound, to: line.upperBound)
                    let name = r.token()
                    guard SIPHeaderName.lookup(bytes, name)?.kind == .contentLength else { continue }
                    while let byte = r.peek, SIPChar.isWSP(byte) { r.position += 1 }
                    guard r.consume(SIPChar.colon), value == nil,
                        let number = try? SIPValueList.number(&r, max: limits.maxContentLength)
                    else {
                        throw SIPParseError(reason: "Bad Content-Length header")
                    }
                    value = number
                }
                guard let value else { throw SIPParseError(reason: "Missing Content-Length header") }
                return value
            }
        } ?? .failure(SIPParseError(reason: "Non-contiguous buffer"))
        do {
            return try found.get()
        } catch {
            var error = error
            header.withContiguousStorageIfAvailable { bytes in
                error.responseContext = SIPResponseContextSalvager.salvage(bytes, limits: limits)
            }
            throw error
        }
    }
}
