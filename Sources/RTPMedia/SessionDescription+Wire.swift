/// SDP text ⇄ `SessionDescription` (RFC 4566 §5).
///
/// Parsing is strict where a wrong value would misroute media (v, o, c, m, t, rtpmap) and lenient
/// elsewhere: unknown line letters and attributes are kept. Lines may end in CRLF or bare LF
/// (RFC 4566 §5 asks parsers to accept LF); serialization always writes CRLF.
extension SessionDescription {
    public init(parsing text: String) throws {
        var version: Int?
        var origin: Origin?
        var sessionName: String?
        var connection: Connection?
        var timing: [Timing] = []
        var attributes: [Attribute] = []
        var otherLines: [Line] = []
        var media: [MediaDescription] = []

        var lineNumber = 0
        // "\r\n" is one Character in Swift, so both separators are listed.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty { continue }  // trailing CRLF, tolerated blank lines
            func fail(_ reason: String) -> ParseError {
                ParseError(line: lineNumber, text: String(line), reason: reason)
            }
            let chars = Array(line.utf8.prefix(2))
            guard chars.count == 2, chars[1] == UInt8(ascii: "="),
                  (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(chars[0])
            else { throw fail("expected <letter>=<value>") }
            let type = Character(UnicodeScalar(chars[0]))
            let value = String(line.dropFirst(2))
            let fields = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)

            if lineNumber == 1 || version == nil {
                guard type == "v" else { throw fail("the first line must be v=") }
                guard value == "0" else { throw fail("unsupported SDP version") }
                version = 0
                continue
            }
            switch type {
            case "v":
                throw fail("duplicate v= line")
            case "o":
                guard origin == nil, media.isEmpty else { throw fail("o= out of place") }
                guard fields.count == 6, let id = UInt64(fields[1]), let ver = UInt64(fields[2]) else {
                    throw fail("o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address>")
                }
                origin = Origin(
                    username: fields[0], sessionID: id, sessionVersion: ver,
                    networkType: fields[3], addressType: fields[4], address: fields[5])
            case "s":
                guard sessionName == nil, media.isEmpty else { throw fail("s= out of place") }
                sessionName = value
            case "c":
                guard fields.count == 3 else { throw fail("c= needs <nettype> <addrtype> <address>") }
                let c = Connection(networkType: fields[0], addressType: fields[1], address: fields[2])
                if media.isEmpty {
                    connection = c
                } else {
                    media[media.count - 1].connection = c
                }
            case "t":
                guard media.isEmpty else { throw fail("t= inside a media section") }
                guard fields.count == 2, let start = UInt64(fields[0]), let stop = UInt64(fields[1]) else {
                    throw fail("t= needs <start-time> <stop-time>")
                }
                timing.append(Timing(start: start, stop: stop))
            case "m":
                guard fields.count >= 4 else { throw fail("m= needs <media> <port> <proto> <fmt> ...") }
                let portField = fields[1].split(separator: "/", maxSplits: 1)
                guard let port = Int(portField[0]), (0...65535).contains(port) else {
                    throw fail("m= port is not a number in 0...65535")
                }
                var count: Int?
                if portField.count == 2 {
                    guard let n = Int(portField[1]), n > 0 else { throw fail("m= port count is not a number") }
                    count = n
                }
                if fields[2].hasPrefix("RTP/") {
                    for f in fields[3...] where UInt8(f).map({ $0 >= 128 }) ?? true {
                        throw fail("m= RTP payload type \"\(f)\" is not in 0...127")
                    }
                }
                media.append(MediaDescription(
                    media: fields[0], port: port, portCount: count, proto: fields[2],
                    formats: Array(fields[3...])))
            case "a":
                guard !value.isEmpty else { throw fail("empty attribute") }
                let attribute: Attribute
                if let colon = value.firstIndex(of: ":") {
                    attribute = Attribute(String(value[..<colon]), String(value[value.index(after: colon)...]))
                } else {
                    attribute = Attribute(value)
                }
                if attribute.name == "rtpmap", attribute.value.flatMap(RTPMap.init) == nil {
                    throw fail("malformed rtpmap, expected <pt> <encoding>/<clock rate>[/<channels>]")
                }
                if attribute.name == "ptime", attribute.value.flatMap({ Int($0) }) == nil {
                    throw fail("ptime is not a number")
                }
                if media.isEmpty {
                    attributes.append(attribute)
                } else {
                    media[media.count - 1].attributes.append(attribute)
                }
            default:
                // i, u, e, p, b, r, z, k and letters from future extensions: kept verbatim.
                if media.isEmpty {
                    otherLines.append(Line(type: type, value: value))
                } else {
                    media[media.count - 1].otherLines.append(Line(type: type, value: value))
                }
            }
        }
        func missing(_ what: String) -> ParseError {
            ParseError(line: lineNumber, text: "", reason: "missing \(what) line")
        }
        guard version != nil else { throw missing("v=") }
        guard let origin else { throw missing("o=") }
        guard let sessionName else { throw missing("s=") }
        self.init(
            origin: origin, sessionName: sessionName, connection: connection,
            timing: timing.isEmpty ? [Timing()] : timing, attributes: attributes,
            otherLines: otherLines, media: media)
    }

    /// The SDP text, CRLF line endings, fields in RFC 4566 §5 order.
    public var serialized: String {
        var out = "v=\(self.version)\r\n"
        let o = self.origin
        out += "o=\(o.username) \(o.sessionID) \(o.sessionVersion) \(o.networkType) \(o.addressType) \(o.address)\r\n"
        out += "s=\(self.sessionName.isEmpty ? "-" : self.sessionName)\r\n"
        // Before c=: i, u, e, p. After c=: b. After t=: r, z, k and unknown letters.
        for l in self.otherLines where "iuep".contains(l.type) { out += "\(l.type)=\(l.value)\r\n" }
        if let c = self.connection { out += "c=\(c.networkType) \(c.addressType) \(c.address)\r\n" }
        for l in self.otherLines where l.type == "b" { out += "b=\(l.value)\r\n" }
        for t in self.timing.isEmpty ? [Timing()] : self.timing { out += "t=\(t.start) \(t.stop)\r\n" }
        for l in self.otherLines where !"iuepb".contains(l.type) { out += "\(l.type)=\(l.value)\r\n" }
        for a in self.attributes { out += Self.line(a) }
        for m in self.media {
            let port = m.portCount.map { "\(m.port)/\($0)" } ?? "\(m.port)"
            out += "m=\(m.media) \(port) \(m.proto) \(m.formats.joined(separator: " "))\r\n"
            for l in m.otherLines where l.type == "i" { out += "i=\(l.value)\r\n" }
            if let c = m.connection { out += "c=\(c.networkType) \(c.addressType) \(c.address)\r\n" }
            for l in m.otherLines where l.type != "i" { out += "\(l.type)=\(l.value)\r\n" }
            for a in m.attributes { out += Self.line(a) }
        }
        return out
    }

    private static func line(_ a: Attribute) -> String {
        a.value.map { "a=\(a.name):\($0)\r\n" } ?? "a=\(a.name)\r\n"
    }
}
