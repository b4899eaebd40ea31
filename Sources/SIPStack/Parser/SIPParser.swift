import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns one SIP message in wire form into a `SIPMessage`, or a `SIPParseError` that says which
/// response to send (DESIGN.md §2). It works on the UTF-8 bytes in place: header names are
/// matched without allocating, folded lines are handled by treating CRLF+WSP as white space, and
/// only the values that end up in the message become Strings.
public enum SIPParser {
    /// How the message arrived, which decides what Content-Length means (RFC 3261 §18.3).
    public enum Framing: Sendable {
        /// One UDP datagram: without Content-Length the body is the rest of the datagram; bytes
        /// after Content-Length are discarded; fewer bytes than Content-Length is a 400.
        case datagram
        /// One frame cut from a TCP/TLS stream by `SIPStreamDecoder`: Content-Length is mandatory.
        case stream
    }

    /// Parses the readable bytes of `buffer` (one datagram, or one frame from
    /// `SIPStreamDecoder` with `framing: .stream`) without moving its reader index.
    public static func parse(
        _ buffer: ByteBuffer, limits: SIPParserLimits = .default, framing: Framing = .datagram
    ) throws(SIPParseError) -> SIPMessage {
        // The closure's result is the caller's SIPMessage itself (no Result or Optional wrapper):
        // SIPMessage is large, and each wrapper would cost a copy of it on the hot path.
        try buffer.withUnsafeReadableBytes { (raw) throws(SIPParseError) -> SIPMessage in
            try parse(raw, limits: limits, framing: framing)
        }
    }

    /// Convenience for tests and tools that hold the message as an array.
    public static func parse(
        bytes: [UInt8], limits: SIPParserLimits = .default, framing: Framing = .datagram
    ) throws(SIPParseError) -> SIPMessage {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SIPParseError) -> SIPMessage in try parse(raw, limits: limits, framing: framing) }
        }
        return try result.get()
    }

    /// The core entry point: everything else funnels here. On failure the error carries the
    /// salvaged response context when the input was a request (see `SIPParseError`).
    public static func parse(
        _ raw: UnsafeRawBufferPointer, limits: SIPParserLimits = .default, framing: Framing = .datagram
    ) throws(SIPParseError) -> SIPMessage {
        let bytes = raw.bindMemory(to: UInt8.self)
        do throws(SIPParseError) {
            guard bytes.count <= limits.maxMessageBytes else {
                throw SIPParseError(statusCode: 513, reason: "Message larger than \(limits.maxMessageBytes) bytes")
            }
            var parser = MessageParser(bytes: bytes, limits: limits, framing: framing)
            return try parser.parse()
        } catch {
            var error = error
            error.responseContext = SIPResponseContextSalvager.salvage(bytes, limits: limits)
            throw error
        }
    }

    /// The canonical spelling of a header name (`"i"` → `"Call-ID"`, `"cseq"` → `"CSeq"`);
    /// unknown names are returned unchanged.
    public static func canonicalHeaderName(_ name: String) -> String { SIPHeaderName.canonical(name) }
}

/// The state of one parse; a struct on the stack so nothing escapes to the heap but the result.
struct MessageParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: SIPParserLimits
    let framing: SIPParser.Framing

    enum StartLine {
        case request(SIPMethod, SIPURI)
        case response(Int, String)
    }

    init(bytes: UnsafeBufferPointer<UInt8>, limits: SIPParserLimits, framing: SIPParser.Framing) {
        self.bytes = bytes
        self.limits = limits
        self.framing = framing
    }

    /// Index of the next LF at or after `from`, or nil. libc's memchr is vectorised, which
    /// matters here: every header byte is searched once.
    @inline(__always) func lineFeed(from: Int) -> Int? {
        guard from < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(SIPChar.lf), bytes.count - from) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// End of a line's content: the LF index, minus a preceding CR.
    @inline(__always) func contentEnd(lineStart: Int, lf: Int) -> Int {
        (lf > lineStart && bytes[lf - 1] == SIPChar.cr) ? lf - 1 : lf
    }

    @inline(__always)
    mutating func parse() throws(SIPParseError) -> SIPMessage {
        var position = 0
        // RFC 3261 §7.5: ignore CRLFs before the start line.
        while position < bytes.count, bytes[position] == SIPChar.cr || bytes[position] == SIPChar.lf { position += 1 }
        guard position < bytes.count else { throw SIPParseError(reason: "Empty message") }
        guard let startLF = lineFeed(from: position) else { throw SIPParseError(reason: "Unterminated start line") }
        let startEnd = contentEnd(lineStart: position, lf: startLF)
        guard startEnd - position <= limits.maxLineLength else {
            throw SIPParseError(statusCode: 513, reason: "Start line longer than \(limits.maxLineLength) bytes")
        }
        let startLine = try parseStartLine(position..<startEnd)
        position = startLF + 1

        var vias: [Via] = []
        var from: NameAddress?, to: NameAddress?, callID: String?, cseq: CSeq?
        var maxForwards: Int?, contentLength: Int?, contentType: String?
        var contacts: [NameAddress] = [], contactWildcard = false
        var routes: [NameAddress] = [], recordRoutes: [NameAddress] = []
        var other: [(name: String, value: String)] = []
        other.reserveCapacity(12)
        var headerCount = 0

        while true {
            guard position < bytes.count, let lf = lineFeed(from: position) else {
                throw SIPParseError(reason: "Header section not terminated by an empty line")
            }
            var end = contentEnd(lineStart: position, lf: lf)
            if end == position {  // the empty line
                position = lf + 1
                break
            }
            guard !SIPChar.isWSP(bytes[position]) else { throw SIPParseError(reason: "Continuation line without a header") }
            // Gather continuation lines (RFC 3261 §7.3.1 folding).
            var lastLF = lf
            var folded = false
            while lastLF + 1 < bytes.count, SIPChar.isWSP(bytes[lastLF + 1]) {
                guard let next = lineFeed(from: lastLF + 1) else {
                    throw SIPParseError(reason: "Header section not terminated by an empty line")
                }
                folded = true
                end = contentEnd(lineStart: lastLF + 1, lf: next)
                lastLF = next
            }
            headerCount += 1
            guard headerCount <= limits.maxHeaderCount else {
                throw SIPParseError(statusCode: 513, reason: "More than \(limits.maxHeaderCount) headers")
            }
            guard end - position <= limits.maxLineLength else {
                throw SIPParseError(statusCode: 513, reason: "Header line longer than \(limits.maxLineLength) bytes")
            }
            var r = SIPByteReader(bytes, from: position, to: end)
            position = lastLF + 1

            let nameRange = r.token()
            guard !nameRange.isEmpty else { throw SIPParseError(reason: "Malformed header line") }
            while let byte = r.peek, SIPChar.isWSP(byte) { r.position += 1 }
            guard r.consume(SIPChar.colon) else {
                throw SIPParseError(reason: "Malformed header line (no colon after \(r.string(nameRange)))")
            }
            r.skipLWS()
            while r.end > r.position, SIPChar.isLWS(bytes[r.end - 1]) { r.end -= 1 }
            let valueRange = r.position..<r.end
            let entry = SIPHeaderName.lookup(bytes, nameRange)
            let kind = entry?.kind ?? .other

            do throws(SIPParseError) {
                switch kind {
                case .via:
                    try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in vias.append(try Via.parse(&r)) }
                case .from:
                    guard from == nil else { throw SIPParseError(reason: "Multiple From headers") }
                    from = try NameAddress.parse(&r, limits: limits)
                    try expectSingleAddressEnd(&r)
                case .to:
                    guard to == nil else { throw SIPParseError(reason: "Multiple To headers") }
                    to = try NameAddress.parse(&r, limits: limits)
                    try expectSingleAddressEnd(&r)
                case .callID:
                    guard callID == nil else { throw SIPParseError(reason: "Multiple Call-ID headers") }
                    guard !valueRange.isEmpty, !valueRange.contains(where: { SIPChar.isLWS(bytes[$0]) }) else {
                        throw SIPParseError(reason: "empty or contains white space")
                    }
                    callID = r.string(valueRange)
                case .cseq:
                    guard cseq == nil else { throw SIPParseError(reason: "Multiple CSeq headers") }
                    cseq = try CSeq.parse(&r)
                case .maxForwards:
                    guard maxForwards == nil else { throw SIPParseError(reason: "Multiple Max-Forwards headers") }
                    guard let value = try SIPValueList.number(&r, max: 255) else {
                        throw SIPParseError(reason: "value above 255")
                    }
                    maxForwards = value
                case .contentLength:
                    guard contentLength == nil else { throw SIPParseError(reason: "Multiple Content-Length headers") }
                    guard let value = try SIPValueList.number(&r, max: limits.maxContentLength) else {
                        throw SIPParseError(statusCode: 413, reason: "Content-Length above \(limits.maxContentLength)")
                    }
                    contentLength = value
                case .contentType:
                    guard contentType == nil else { throw SIPParseError(reason: "Multiple Content-Type headers") }
                    guard !valueRange.isEmpty else { throw SIPParseError(reason: "empty value") }
                    contentType = folded ? unfold(valueRange) : r.string(valueRange)
                case .contact:
                    if valueRange.count == 1, bytes[valueRange.lowerBound] == 0x2A {
                        contactWildcard = true
                    } else {
                        try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in
                            contacts.append(try NameAddress.parse(&r, limits: limits))
                        }
                    }
                    guard !contactWildcard || contacts.isEmpty else {
                        throw SIPParseError(reason: "* mixed with addresses")
                    }
                case .route:
                    try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in
                        routes.append(try NameAddress.parse(&r, limits: limits))
                    }
                case .recordRoute:
                    try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in
                        recordRoutes.append(try NameAddress.parse(&r, limits: limits))
                    }
                case .other:
                    let name = entry.map(SIPHeaderName.canonical) ?? r.string(nameRange)
                    other.append((name, folded ? unfold(valueRange) : r.string(valueRange)))
                }
            } catch {
                if error.statusCode != 400 || error.reason.hasPrefix("Multiple ") {
                    throw error
                }
                throw SIPParseError(reason: "Bad \(entry.map(SIPHeaderName.canonical) ?? r.string(nameRange)) header: \(error.reason)")
            }
        }

        let body = try takeBody(from: position, contentLength: contentLength)

        // `take()` moves the values out instead of copying them (fewer retains on the hot path).
        guard !vias.isEmpty else { throw SIPParseError(reason: "Missing Via header") }
        guard let from = from.take() else { throw SIPParseError(reason: "Missing From header") }
        guard let to = to.take() else { throw SIPParseError(reason: "Missing To header") }
        guard let callID = callID.take() else { throw SIPParseError(reason: "Missing Call-ID header") }
        guard let cseq else { throw SIPParseError(reason: "Missing CSeq header") }
        let headers = SIPHeaders(
            vias: vias, from: from, to: to, callID: callID, cseq: cseq, maxForwards: maxForwards,
            contacts: contacts, contactWildcard: contactWildcard, routes: routes, recordRoutes: recordRoutes,
            contentType: contentType, other: other)
        switch consume startLine {
        case .request(let method, let uri):
            return .request(SIPRequest(method: method, uri: uri, headers: consume headers, body: body))
        case .response(let code, let reason):
            return .response(SIPResponse(statusCode: code, reasonPhrase: reason, headers: consume headers, body: body))
        }
    }

    /// From/To hold exactly one address: nothing may follow it.
    func expectSingleAddressEnd(_ r: inout SIPByteReader) throws(SIPParseError) {
        r.skipLWS()
        guard r.isAtEnd else {
            throw SIPParseError(reason: r.peek(is: SIPChar.comma) ? "more than one address" : "unexpected characters after address")
        }
    }

    /// The body per Content-Length and framing (see `SIPParser.Framing`).
    func takeBody(from start: Int, contentLength: Int?) throws(SIPParseError) -> [UInt8] {
        let available = bytes.count - start
        let length: Int
        switch (contentLength, framing) {
        case (nil, .datagram): length = available
        case (nil, .stream): throw SIPParseError(reason: "Missing Content-Length header")
        case (let declared?, _):
            guard declared <= available else {
                throw SIPParseError(reason: "Content-Length exceeds body (\(declared) > \(available))")
            }
            length = declared
        }
        guard length > 0 else { return [] }
        return Array(UnsafeBufferPointer(rebasing: bytes[start..<(start + length)]))
    }

    /// A folded value as one line: each CRLF and the white space around it become one SP.
    func unfold(_ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == SIPChar.cr || byte == SIPChar.lf {
                while let last = out.last, SIPChar.isWSP(last) { out.removeLast() }
                while index < range.upperBound, SIPChar.isLWS(bytes[index]) { index += 1 }
                out.append(SIPChar.space)
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP
    /// Status-Code SP Reason-Phrase (RFC 3261 §7.1, §7.2). Exactly one SP between elements.
    func parseStartLine(_ range: Range<Int>) throws(SIPParseError) -> StartLine {
        var r = SIPByteReader(bytes, from: range.lowerBound, to: range.upperBound)
        if range.count >= 4, r.equalsIgnoringCase(range.lowerBound..<(range.lowerBound + 4), "sip/") {
            let version = r.scan { $0 != SIPChar.space }
            try checkVersion(version)
            guard r.consume(SIPChar.space) else { throw SIPParseError(reason: "Malformed Status-Line") }
            let code = r.scan(while: SIPChar.isDigit)
            guard code.count == 3, let value = SIPValueList.decimal(bytes, code, max: 699), value >= 100 else {
                throw SIPParseError(reason: "Bad status code")
            }
            guard r.consume(SIPChar.space) || r.isAtEnd else { throw SIPParseError(reason: "Malformed Status-Line") }
            return .response(value, r.string(r.position..<r.end))
        }
        let method = r.token()
        guard !method.isEmpty, r.consume(SIPChar.space) else { throw SIPParseError(reason: "Malformed Request-Line") }
        let uriRange = r.scan { $0 != SIPChar.space }
        guard !uriRange.isEmpty, r.consume(SIPChar.space) else { throw SIPParseError(reason: "Malformed Request-Line") }
        let version = r.scan { $0 != SIPChar.space }
        guard r.isAtEnd, !version.isEmpty else { throw SIPParseError(reason: "Malformed Request-Line") }
        try checkVersion(version)
        let uri: SIPURI
        do throws(SIPParseError) {
            uri = try SIPURI.parse(bytes, uriRange, limits: limits)
        } catch {
            throw SIPParseError(statusCode: error.statusCode, reason: "Bad Request-URI: \(error.reason)")
        }
        if uri.isSIP, uri.headers != nil {
            throw SIPParseError(reason: "Bad Request-URI: headers are not allowed")  // RFC 3261 §19.1.1
        }
        return .request(SIPMethod(bytes: bytes, method), uri)
    }

    /// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; anything but 2.0 is 505.
    func checkVersion(_ range: Range<Int>) throws(SIPParseError) {
        let r = SIPByteReader(bytes, from: range.lowerBound, to: range.upperBound)
        if r.equalsIgnoringCase(range, "sip/2.0") { return }
        var v = r
        guard range.count > 4, r.equalsIgnoringCase(range.lowerBound..<(range.lowerBound + 4), "sip/") else {
            throw SIPParseError(reason: "Malformed SIP-Version")
        }
        v.position += 4
        let major = v.scan(while: SIPChar.isDigit)
        let dot = v.consume(0x2E)
        let minor = v.scan(while: SIPChar.isDigit)
        guard !major.isEmpty, dot, !minor.isEmpty, v.isAtEnd else { throw SIPParseError(reason: "Malformed SIP-Version") }
        throw SIPParseError(statusCode: 505, reason: "SIP version \(r.string(range)) not supported")
    }
}
