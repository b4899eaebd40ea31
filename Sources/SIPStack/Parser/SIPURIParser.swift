/// Request-URI and header URI parsing (RFC 3261 §19.1.1, §25.1). Works on a byte range that the
/// caller has already delimited (the Request-URI between its spaces, the inside of `<...>`, or an
/// addr-spec up to its first `;`), so the URI grammar never has to guess where it ends.
extension SIPURI {
    /// Parses a URI such as `sip:alice@[2001:db8::1]:5060;transport=tcp?Subject=hi`. Non-SIP
    /// schemes are accepted with their opaque part so servers can answer 416, not 400.
    public init(parsing text: String, limits: SIPParserLimits = .default) throws(SIPParseError) {
        var copy = text
        let result: Result<SIPURI, SIPParseError> = copy.withUTF8 { bytes in
            Result { () throws(SIPParseError) -> SIPURI in try SIPURI.parse(bytes, 0..<bytes.count, limits: limits) }
        }
        self = try result.get()
    }

    /// Parses exactly `range` of `bytes`. Escapes (`%41`) are validated and kept in wire form so
    /// the URI serialises back byte for byte; compare with `unescaped(_:)` when needed.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, limits: SIPParserLimits
    ) throws(SIPParseError) -> SIPURI {
        guard range.count <= limits.maxURILength else {
            throw SIPParseError(statusCode: 414, reason: "URI longer than \(limits.maxURILength) bytes")
        }
        var r = SIPByteReader(bytes, from: range.lowerBound, to: range.upperBound)
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        guard let first = r.peek, SIPChar.isAlpha(first) else {
            if let first = r.peek, SIPChar.isLWS(first) { throw SIPParseError(reason: "white space in URI") }
            if r.peek == SIPChar.lessThan { throw SIPParseError(reason: "URI enclosed in <>") }
            throw SIPParseError(reason: "missing URI scheme")
        }
        let schemeRange = r.scan { SIPChar.isAlphaNum($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
        guard r.consume(SIPChar.colon) else { throw SIPParseError(reason: "missing URI scheme") }
        // One pass: every byte is a URI byte, every "%" starts an escape, and where the first "@"
        // is (userinfo ends there: "@" cannot appear unescaped in the user, params or headers).
        var atIndex = -1
        var index = r.position
        while index < r.end {
            let byte = bytes[index]
            guard SIPChar.isURIChar(byte) else { throw SIPParseError(reason: "invalid character in URI") }
            if byte == SIPChar.percent {
                guard index + 2 < r.end, SIPChar.isHex(bytes[index + 1]), SIPChar.isHex(bytes[index + 2]) else {
                    throw SIPParseError(reason: "bad %-escape in URI")
                }
            } else if byte == SIPChar.at, atIndex < 0 {
                atIndex = index
            }
            index += 1
        }
        let scheme: String
        if r.equalsIgnoringCase(schemeRange, "sip") {
            scheme = "sip"
        } else if r.equalsIgnoringCase(schemeRange, "sips") {
            scheme = "sips"
        } else {
            guard !r.isAtEnd else { throw SIPParseError(reason: "empty URI after scheme") }
            var uri = SIPURI(scheme: r.string(schemeRange), host: "")
            uri.opaque = r.string(r.position..<r.end)
            return uri
        }

        // userinfo: everything before the first "@" (the user may contain ";", "?", ":" etc.).
        var user: String?, password: String?
        if atIndex >= 0 {
            var colonIndex = atIndex
            for index in r.position..<atIndex where bytes[index] == SIPChar.colon {
                colonIndex = index
                break
            }
            guard colonIndex > r.position else { throw SIPParseError(reason: "empty user in URI") }
            user = r.string(r.position..<colonIndex)
            if colonIndex < atIndex { password = r.string((colonIndex + 1)..<atIndex) }
            r.position = atIndex + 1
        }

        let host = try parseHost(&r)
        var port: Int?
        if r.consume(SIPChar.colon) { port = try parsePort(&r) }

        var items: [SIPParameters.Parameter] = []
        while r.consume(SIPChar.semicolon) {
            let name = r.scan { $0 != SIPChar.semicolon && $0 != SIPChar.question && $0 != SIPChar.equals }
            guard !name.isEmpty else { throw SIPParseError(reason: "empty URI parameter") }
            var value: String?
            if r.consume(SIPChar.equals) {
                let valueRange = r.scan { $0 != SIPChar.semicolon && $0 != SIPChar.question && $0 != SIPChar.equals }
                guard !valueRange.isEmpty else { throw SIPParseError(reason: "empty URI parameter value") }
                value = r.string(valueRange)
            }
            items.append(SIPParameters.Parameter(name: r.string(name), value: value))
        }
        var headers: String?
        if r.consume(SIPChar.question) {
            headers = r.string(r.position..<r.end)
            r.position = r.end
        }
        guard r.isAtEnd else { throw SIPParseError(reason: "invalid character after URI host") }
        return SIPURI(
            scheme: scheme, user: user, password: password, host: host, port: port,
            parameters: SIPParameters(items), headers: headers)
    }

    /// host = hostname / IPv4address / IPv6reference; returned without brackets.
    static func parseHost(_ r: inout SIPByteReader) throws(SIPParseError) -> String {
        if r.consume(SIPChar.openBracket) {
            let inner = r.scan { SIPChar.isHex($0) || $0 == SIPChar.colon || $0 == 0x2E }
            guard r.consume(SIPChar.closeBracket), inner.count >= 2 else {
                throw SIPParseError(reason: "bad IPv6 reference")
            }
            return r.string(inner)
        }
        let range = r.scan(while: SIPChar.isHostChar)
        guard !range.isEmpty else { throw SIPParseError(reason: "missing host") }
        return r.string(range)
    }

    /// port = 1*DIGIT, at most 65535.
    static func parsePort(_ r: inout SIPByteReader) throws(SIPParseError) -> Int {
        let digits = r.scan(while: SIPChar.isDigit)
        guard !digits.isEmpty, digits.count <= 5 else { throw SIPParseError(reason: "bad port") }
        var value = 0
        for index in digits { value = value * 10 + Int(r.bytes[index] &- 0x30) }
        guard value <= 65_535 else { throw SIPParseError(reason: "port out of range") }
        return value
    }

    /// Resolves `%HH` escapes (for comparing users or parameters; RFC 3261 §19.1.4).
    public static func unescaped(_ text: String) -> String {
        guard text.utf8.contains(SIPChar.percent) else { return text }
        let utf8 = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            if utf8[index] == SIPChar.percent, index + 2 < utf8.count,
                let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(utf8[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        if SIPChar.isDigit(b) { return b - 0x30 }
        let l = b | 0x20
        return (l >= 0x61 && l <= 0x66) ? l - 0x61 + 10 : nil
    }
}
