import NIOCore

/// Why a message could not be parsed, as the status code and reason phrase a server would answer
/// with. When the input looked like a request and the headers needed to address a response could
/// be recovered, `responseContext` holds them verbatim so the transport can still send the
/// 400/505/413/513 (RFC 3261 §8.2.6) instead of silently dropping the request.
public struct SIPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 400 (malformed), 505 (SIP version), 413 (Content-Length over limit), 414 (Request-URI over
    /// limit), 513 (message, header count or line over limit).
    public var statusCode: Int
    /// Names the problem, e.g. "Missing Call-ID header", "Bad CSeq header: number too large".
    public var reason: String
    /// Raw headers for addressing an error response; nil for responses or unrecoverable input.
    public var responseContext: ResponseContext?

    /// The header values RFC 3261 §8.2.6.2 copies into a response, as they arrived (unfolded),
    /// because a value we failed to parse can still be echoed byte for byte.
    public struct ResponseContext: Sendable, Hashable {
        /// The request method token (so ACKs, which are never answered, can be recognised).
        public var method: String
        public var vias: [String]
        public var from: String?
        public var to: String?
        public var callID: String?
        public var cseq: String?

        public init(
            method: String, vias: [String], from: String? = nil, to: String? = nil,
            callID: String? = nil, cseq: String? = nil
        ) {
            self.method = method
            self.vias = vias
            self.from = from
            self.to = to
            self.callID = callID
            self.cseq = cseq
        }
    }

    public init(statusCode: Int = 400, reason: String, responseContext: ResponseContext? = nil) {
        self.statusCode = statusCode
        self.reason = reason
        self.responseContext = responseContext
    }

    public var description: String { "\(statusCode) \(reason)" }

    /// The error response in wire form, or nil when none may or can be sent: no context (the
    /// input was a response or unreadable), an ACK (RFC 3261 §17.2.1: never answered), or no Via
    /// or CSeq (nowhere to send it / nothing the client could match it against).
    /// - Parameter toTag: added to the To header when it has no tag (RFC 3261 §8.2.6.2).
    public func errorResponse(toTag: String? = nil) -> ByteBuffer? {
        guard let context = responseContext, !context.vias.isEmpty, let cseq = context.cseq,
            !context.method.caseInsensitiveEquals("ACK")
        else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        buffer.writeString("SIP/2.0 \(statusCode) \(Self.sanitized(reason))\r\n")
        for via in context.vias { buffer.writeString("Via: \(Self.sanitized(via))\r\n") }
        if let from = context.from { buffer.writeString("From: \(Self.sanitized(from))\r\n") }
        if var to = context.to {
            to = Self.sanitized(to)
            if let toTag, !Self.hasTag(to) { to += ";tag=\(toTag)" }
            buffer.writeString("To: \(to)\r\n")
        }
        if let callID = context.callID { buffer.writeString("Call-ID: \(Self.sanitized(callID))\r\n") }
        buffer.writeString("CSeq: \(Self.sanitized(cseq))\r\n")
        buffer.writeStaticString("Content-Length: 0\r\n\r\n")
        return buffer
    }

    /// Header text echoed into a response must not be able to inject lines.
    private static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else { return text }
        return String(decoding: text.utf8.map { $0 == 13 || $0 == 10 || $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }

    /// Whether a raw To value carries a `tag` header parameter (outside `<>` and quotes).
    private static func hasTag(_ value: String) -> Bool {
        if let parsed = try? NameAddress(parsing: value) { return parsed.tag != nil }
        return value.lowercased().contains(";tag=")
    }
}
