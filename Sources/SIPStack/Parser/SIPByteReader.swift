/// A cursor over borrowed UTF-8 bytes with the lexical rules of RFC 3261 §25.1 (token, LWS,
/// quoted-string, generic parameters). Every parser in this folder works on bytes through it, so
/// the hot path never walks `Character`s or appends to Strings one character at a time.
struct SIPByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    /// One past the last byte this reader may look at (a sub-range of `bytes`).
    var end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    @inline(__always) var isAtEnd: Bool { position >= end }
    @inline(__always) var peek: UInt8? { position < end ? bytes[position] : nil }
    @inline(__always) func peek(is byte: UInt8) -> Bool { position < end && bytes[position] == byte }

    /// Consumes `byte` if it is next.
    @inline(__always) mutating func consume(_ byte: UInt8) -> Bool {
        guard position < end, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// Skips linear white space, including folded line ends (the header parser only hands out
    /// ranges in which every CRLF is followed by SP/HT, RFC 3261 §7.3.1).
    @inline(__always) mutating func skipLWS() {
        while position < end, SIPChar.isLWS(bytes[position]) { position += 1 }
    }

    /// Consumes `byte` surrounded by optional LWS (the SEMI, COLON, EQUAL, SLASH, COMMA rules).
    @inline(__always) mutating func consumeSeparator(_ byte: UInt8) -> Bool {
        let saved = position
        skipLWS()
        if consume(byte) {
            skipLWS()
            return true
        }
        position = saved
        return false
    }

    /// Consumes a run of bytes matching `predicate`; returns its range (possibly empty).
    @inline(__always) mutating func scan(while predicate: (UInt8) -> Bool) -> Range<Int> {
        let start = position
        while position < end, predicate(bytes[position]) { position += 1 }
        return start..<position
    }

    /// A token (RFC 3261 §25.1); empty range when none is next.
    @inline(__always) mutating func token() -> Range<Int> { scan(while: SIPChar.isToken) }

    @inline(__always) func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    @inline(__always) func equalsIgnoringCase(_ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let other = lowercase.utf8Start
        for offset in 0..<range.count where SIPChar.lower(bytes[range.lowerBound + offset]) != other[offset] {
            return false
        }
        return true
    }

    /// Scans a quoted-string starting at the opening quote. Returns the range *inside* the quotes
    /// and whether it contained quoted-pairs (so callers only unescape when needed).
    mutating func quotedString() throws(SIPParseError) -> (inner: Range<Int>, hasEscapes: Bool) {
        guard consume(SIPChar.quote) else { throw SIPParseError(reason: "expected quoted string") }
        let start = position
        var hasEscapes = false
        while position < end {
            let byte = bytes[position]
            if byte == SIPChar.quote {
                position += 1
                return (start..<(position - 1), hasEscapes)
            }
            if byte == SIPChar.backslash {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                guard position + 1 < end, bytes[position + 1] <= 0x7F, bytes[position + 1] != 10,
                    bytes[position + 1] != 13
                else { throw SIPParseError(reason: "bad escape in quoted string") }
                hasEscapes = true
                position += 2
                continue
            }
            position += 1
        }
        throw SIPParseError(reason: "unterminated quoted string")
    }

    /// The text of a quoted string's inside with quoted-pairs resolved.
    func unescapedQuoted(_ range: Range<Int>, hasEscapes: Bool) -> String {
        guard hasEscapes else { return string(range) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            if bytes[index] == SIPChar.backslash, index + 1 < range.upperBound { index += 1 }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Header parameters: `*( SEMI generic-param )`, where generic-param = token [ EQUAL
    /// gen-value ] and gen-value = token / host / quoted-string (RFC 3261 §25.1). Quoted values
    /// keep their quotes so they serialise back unchanged. Stops before anything else (a comma).
    mutating func headerParameters() throws(SIPParseError) -> SIPParameters {
        var items: [SIPParameters.Parameter] = []
        while consumeSeparator(SIPChar.semicolon) {
            let name = token()
            guard !name.isEmpty else { throw SIPParseError(reason: "empty parameter") }
            var value: String?
            if consumeSeparator(SIPChar.equals) {
                if peek(is: SIPChar.quote) {
                    let start = position
                    _ = try quotedString()
                    value = string(start..<position)
                } else {
                    let range = scan(while: SIPChar.isGenValue)
                    guard !range.isEmpty else { throw SIPParseError(reason: "empty value for parameter \(string(name))") }
                    value = string(range)
                }
            }
            items.append(SIPParameters.Parameter(name: string(name), value: value))
        }
        return SIPParameters(items)
    }
}

/// Byte classes from RFC 3261 §25.1, as inlinable switches (no table lookups or lazy globals).
enum SIPChar {
    static let space: UInt8 = 0x20, tab: UInt8 = 0x09, cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B, comma: UInt8 = 0x2C, equals: UInt8 = 0x3D
    static let slash: UInt8 = 0x2F, at: UInt8 = 0x40, question: UInt8 = 0x3F
    static let lessThan: UInt8 = 0x3C, greaterThan: UInt8 = 0x3E
    static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D, percent: UInt8 = 0x25

    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isLWS(_ b: UInt8) -> Bool { b == space || b == tab || b == cr || b == lf }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlphaNum(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b &- 0x41 < 26) ? b | 0x20 : b }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }

    /// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    @inline(__always) static func isToken(_ b: UInt8) -> Bool {
        if isAlphaNum(b) { return true }
        switch b {
        case 0x2D, 0x2E, 0x21, 0x25, 0x2A, 0x5F, 0x2B, 0x60, 0x27, 0x7E: return true
        default: return false
        }
    }

    /// gen-value without the quoted-string case: token or host (IPv6 references included).
    @inline(__always) static func isGenValue(_ b: UInt8) -> Bool {
        isToken(b) || b == colon || b == openBracket || b == closeBracket
    }

    /// Bytes allowed anywhere in a URI (RFC 3261 §25.1 reserved / unreserved / escaped, plus
    /// the brackets of IPv6 references). Excludes SP, controls, `<>"{}|\^` and non-ASCII.
    @inline(__always) static func isURIChar(_ b: UInt8) -> Bool {
        guard b > 0x20, b < 0x7F else { return false }
        switch b {
        case quote, lessThan, greaterThan, 0x7B, 0x7D, 0x7C, backslash, 0x5E, 0x60: return false
        default: return true
        }
    }

    /// Host names and IPv4 literals: alphanum, "-", "." (RFC 3261 hostname / IPv4address).
    @inline(__always) static func isHostChar(_ b: UInt8) -> Bool { isAlphaNum(b) || b == 0x2D || b == 0x2E }
}
