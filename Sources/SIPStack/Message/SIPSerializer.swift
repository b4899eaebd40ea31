import NIOCore

/// Writes messages in wire form. Typed headers come first in a fixed order, then the others in
/// their original order; Content-Length is always computed from the body so it cannot lie.
extension SIPHeaders {
    func write(into buffer: inout ByteBuffer, bodyLength: Int) {
        for via in vias { buffer.writeHeader("Via", via.description) }
        if let maxForwards { buffer.writeHeader("Max-Forwards", String(maxForwards)) }
        for route in routes { buffer.writeHeader("Route", route.description) }
        for route in recordRoutes { buffer.writeHeader("Record-Route", route.description) }
        buffer.writeHeader("From", from.description)
        buffer.writeHeader("To", to.description)
        buffer.writeHeader("Call-ID", callID)
        buffer.writeHeader("CSeq", cseq.description)
        if contactWildcard {
            buffer.writeHeader("Contact", "*")
        } else {
            for contact in contacts { buffer.writeHeader("Contact", contact.description) }
        }
        for (name, value) in other { buffer.writeHeader(name, value) }
        if let contentType { buffer.writeHeader("Content-Type", contentType) }
        buffer.writeHeader("Content-Length", String(bodyLength))
        buffer.writeStaticString("\r\n")
    }
}

extension ByteBuffer {
    fileprivate mutating func writeHeader(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}

extension SIPRequest {
    public func serialize(into buffer: inout ByteBuffer) {
        buffer.writeString("\(method) \(uri) SIP/2.0\r\n")
        headers.write(into: &buffer, bodyLength: body.count)
        buffer.writeBytes(body)
    }
}

extension SIPResponse {
    public func serialize(into buffer: inout ByteBuffer) {
        buffer.writeString("SIP/2.0 \(statusCode) \(reasonPhrase)\r\n")
        headers.write(into: &buffer, bodyLength: body.count)
        buffer.writeBytes(body)
    }
}

extension SIPMessage {
    public func serialize(into buffer: inout ByteBuffer) {
        switch self {
        case .request(let request): request.serialize(into: &buffer)
        case .response(let response): response.serialize(into: &buffer)
        }
    }

    /// The wire form as a fresh buffer (for tests and logging; transports reuse buffers).
    public var wireBytes: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 1024)
        serialize(into: &buffer)
        return buffer
    }
}
