/// Parsers for the typed header values (RFC 3261 §20, grammar in §25.1). Each has a byte-level
/// form used by `SIPParser` on the hot path and a public `String` form for code that holds a
/// header value already (a Contact from the registrar, a Route from configuration).
extension NameAddress {
    /// Parses one `name-addr` or `addr-spec` value with its header parameters, e.g.
    /// `"Alice" <sip:a@example.com;transport=tcp>;tag=1` or `sip:a@example.com;tag=1` — in the
    /// second form `;tag=1` belongs to the header, not the URI (RFC 3261 §20.10).
    public init(parsing text: String, limits: SIPParserLimits = .default) throws(SIPParseError) {
        let list = try Self.parseList(text, limits: limits)
        guard list.count == 1 else { throw SIPParseError(reason: "expected one address, found \(list.count)") }
        self = list[0]
    }

    /// Parses a comma-separated list of addresses (Contact, Route, Record-Route values).
    public static func parseList(_ text: String, limits: SIPParserLimits = .default) throws(SIPParseError) -> [NameAddress] {
        var copy = text
        let result: Result<[NameAddress], SIPParseError> = copy.withUTF8 { bytes in
            Result { () throws(SIPParseError) -> [NameAddress] in
                var r = SIPByteReader(bytes)
                var out: [NameAddress] = []
                try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in
                    out.append(try NameAddress.parse(&r, limits: limits))
                }
                return out
            }
        }
        return try result.get()
    }

    static func parse(_ r: inout SIPByteReader, limits: SIPParserLimits) throws(SIPParseError) -> NameAddress {
        r.skipLWS()
        var displayName: String?
        var angle = false
        if r.peek(is: SIPChar.quote) {
            let (inner, escapes) = try r.quotedString()
            displayName = r.unescapedQuoted(inner, hasEscapes: escapes)
            r.skipLWS()
            guard r.consume(SIPChar.lessThan) else { throw SIPParseError(reason: "expected <URI> after display name") }
            angle = true
        } else {
            // display-name = *(token LWS); decide name-addr vs addr-spec by whether "<" follows.
            let start = r.position
            var nameRange: Range<Int>?
            while true {
                r.skipLWS()
                if r.consume(SIPChar.lessThan) {
                    angle = true
                    break
                }
                let token = r.token()
                if token.isEmpty { break }
                nameRange = (nameRange?.lowerBound ?? token.lowerBound)..<token.upperBound
            }
            if angle {
                if let nameRange { displayName = r.string(nameRange) }
            } else if nameRange != nil, let stop = r.peek, stop != SIPChar.colon {
                throw SIPParseError(reason: "display name must be tokens or a quoted string")
            } else {
                r.position = start
                r.skipLWS()
            }
        }
        let uri: SIPURI
        if angle {
            let uriStart = r.position
            while let byte = r.peek, byte != SIPChar.greaterThan { r.position += 1 }
            guard r.peek(is: SIPChar.greaterThan) else { throw SIPParseError(reason: "missing > after URI") }
            uri = try SIPURI.parseInHeader(r.bytes, uriStart..<r.position, limits: limits)
            r.position += 1
        } else {
            // addr-spec: the URI ends at ";" (header params), "," (next value) or white space,
            // and may not contain "?" (RFC 3261 §20: such URIs must be in angle brackets).
            let range = r.scan { SIPChar.isURIChar($0) && $0 != SIPChar.semicolon && $0 != SIPChar.comma }
            guard !range.isEmpty else { throw SIPParseError(reason: "missing address") }
            for index in range where r.bytes[index] == SIPChar.question {
                throw SIPParseError(reason: "URI with headers must be enclosed in <>")
            }
            uri = try SIPURI.parseInHeader(r.bytes, range, limits: limits)
        }
        let parameters = try r.headerParameters()
        return NameAddress(displayName: displayName, uri: uri, parameters: parameters)
    }
}

extension SIPURI {
    /// A URI inside a header: over-long is 400 (414 is only for the Request-URI).
    static func parseInHeader(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, limits: SIPParserLimits
    ) throws(SIPParseError) -> SIPURI {
        do throws(SIPParseError) {
            return try parse(bytes, range, limits: limits)
        } catch {
            throw SIPParseError(statusCode: 400, reason: error.reason)
        }
    }
}

extension Via {
    /// Parses one Via value: `SIP/2.0/UDP host[:port] *(;param)`. LWS may surround "/", ":",
    /// ";" and "=" (RFC 3261 §25.1 SLASH, COLON, SEMI, EQUAL).
    public init(parsing text: String) throws(SIPParseError) {
        let list = try Self.parseList(text)
        guard list.count == 1 else { throw SIPParseError(reason: "expected one Via, found \(list.count)") }
        self = list[0]
    }

    /// Parses a comma-separated Via header value into its entries, topmost first.
    public static func parseList(_ text: String) throws(SIPParseError) -> [Via] {
        var copy = text
        let result: Result<[Via], SIPParseError> = copy.withUTF8 { bytes in
            Result { () throws(SIPParseError) -> [Via] in
                var r = SIPByteReader(bytes)
                var out: [Via] = []
                try SIPValueList.parse(&r) { (r: inout SIPByteReader) throws(SIPParseError) in out.append(try Via.parse(&r)) }
                return out
            }
        }
        return try result.get()
    }

    static func parse(_ r: inout SIPByteReader) throws(SIPParseError) -> Via {
        r.skipLWS()
        let name = r.token()
        guard r.equalsIgnoringCase(name, "sip") else { throw SIPParseError(reason: "protocol is not SIP") }
        guard r.consumeSeparator(SIPChar.slash) else { throw SIPParseError(reason: "bad sent-protocol") }
        let version = r.token()
        guard r.equalsIgnoringCase(version, "2.0") else { throw SIPParseError(reason: "version is not 2.0") }
        guard r.consumeSeparator(SIPChar.slash) else { throw SIPParseError(reason: "bad sent-protocol") }
        let transport = r.token()
        guard !transport.isEmpty else { throw SIPParseError(reason: "missing transport") }
        let beforeHost = r.position
        r.skipLWS()
        guard r.position > beforeHost else { throw SIPParseError(reason: "missing space before sent-by") }
        let host = try SIPURI.parseHost(&r)
        var port: Int?
        if r.consumeSeparator(SIPChar.colon) { port = try SIPURI.parsePort(&r) }
        let parameters = try r.headerParameters()
        return Via(transport: r.string(transport), host: host, port: port, parameters: parameters)
    }
}

extension CSeq {
    /// Parses `CSeq: 4711 INVITE`; the number must be below 2^31 (RFC 3261 §8.1.1.5).
    public init(parsing text: String) throws(SIPParseError) {
        var copy = text
        let result: Result<CSeq, SIPParseError> = copy.withUTF8 { bytes in
            Result { () throws(SIPParseError) -> CSeq in
                var r = SIPByteReader(bytes)
                return try CSeq.parse(&r)
            }
        }
        self = try result.get()
    }

    static func parse(_ r: inout SIPByteReader) throws(SIPParseError) -> CSeq {
        r.skipLWS()
        let digits = r.scan(while: SIPChar.isDigit)
        guard !digits.isEmpty else { throw SIPParseError(reason: "missing sequence number") }
        guard let number = SIPValueList.decimal(r.bytes, digits, max: 0x7FFF_FFFF) else {
            throw SIPParseError(reason: "sequence number too large")
        }
        let beforeSpace = r.position
        r.skipLWS()
        guard r.position > beforeSpace else { throw SIPParseError(reason: "missing space before method") }
        let method = r.token()
        guard !method.isEmpty else { throw SIPParseError(reason: "missing method") }
        r.skipLWS()
        guard r.isAtEnd else { throw SIPParseError(reason: "trailing characters") }
        return CSeq(number: UInt32(number), method: SIPMethod(bytes: r.bytes, method))
    }
}

extension SIPMethod {
    /// Method from its token bytes; the known methods are matched without building a String.
    init(bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        let r = SIPByteReader(bytes)
        // Methods are case-sensitive (RFC 3261 §7.1), so compare exactly.
        @inline(__always) func equals(_ literal: StaticString) -> Bool {
            guard range.count == literal.utf8CodeUnitCount else { return false }
            return memcmpEqual(bytes.baseAddress! + range.lowerBound, literal.utf8Start, range.count)
        }
        switch range.count {
        case 3 where equals("ACK"): self = .ack
        case 3 where equals("BYE"): self = .bye
        case 4 where equals("INFO"): self = .info
        case 5 where equals("PRACK"): self = .prack
        case 5 where equals("REFER"): self = .refer
        case 6 where equals("INVITE"): self = .invite
        case 6 where equals("CANCEL"): self = .cancel
        case 6 where equals("UPDATE"): self = .update
        case 6 where equals("NOTIFY"): self = .notify
        case 7 where equals("OPTIONS"): self = .options
        case 7 where equals("MESSAGE"): self = .message
        case 7 where equals("PUBLISH"): self = .publish
        case 8 where equals("REGISTER"): self = .register
        case 9 where equals("SUBSCRIBE"): self = .subscribe
        default: self = .other(r.string(range))
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for i in 0..<count where a[i] != b[i] { return false }
    return true
}

/// Helpers shared by the list-valued and numeric headers.
enum SIPValueList {
    /// Calls `element` for each comma-separated value. Empty elements (`a,,b`, trailing comma)
    /// are errors, as is anything after a value that is not a comma.
    static func parse(
        _ r: inout SIPByteReader, _ element: (inout SIPByteReader) throws(SIPParseError) -> Void
    ) throws(SIPParseError) {
        r.skipLWS()
        guard !r.isAtEnd else { throw SIPParseError(reason: "empty value") }
        while true {
            try element(&r)
            r.skipLWS()
            if r.isAtEnd { return }
            guard r.consume(SIPChar.comma) else { throw SIPParseError(reason: "unexpected character after value") }
            r.skipLWS()
            guard !r.isAtEnd, !r.peek(is: SIPChar.comma) else { throw SIPParseError(reason: "empty list element") }
        }
    }

    /// A decimal number no larger than `max`, or nil on overflow.
    @inline(__always)
    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, max: Int) -> Int? {
        var value = 0
        for index in range {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(bytes[index] &- 0x30))
            guard !overflow1, !overflow2, sum <= max else { return nil }
            value = sum
        }
        return value
    }

    /// A header that is only `1*DIGIT` (Max-Forwards, Content-Length), surrounded by LWS.
    static func number(_ r: inout SIPByteReader, max: Int) throws(SIPParseError) -> Int? {
        r.skipLWS()
        let digits = r.scan(while: SIPChar.isDigit)
        r.skipLWS()
        guard !digits.isEmpty, r.isAtEnd else { throw SIPParseError(reason: "not a number") }
        return decimal(r.bytes, digits, max: max)
    }
}
