import NIOCore
import Testing
@testable import SIPStack

/// One test per RFC 3261 header form the parser must understand (§7.3, §20, §25).
@Suite struct HeaderFormTests {
    @Test func basicInviteFields() throws {
        let request = try parseRequest(basicInvite)
        #expect(request.method == .invite)
        #expect(request.uri == SIPURI(user: "bob", host: "example.com"))
        #expect(request.headers.vias == [
            Via(transport: "UDP", host: "192.0.2.1", port: 5060,
                parameters: SIPParameters([.init(name: "branch", value: "z9hG4bK776asdhds"), .init(name: "rport", value: nil)]))
        ])
        #expect(request.headers.to.displayName == "Bob")
        #expect(request.headers.from.displayName == "Alice")
        #expect(request.headers.from.tag == "1928301774")
        #expect(request.headers.callID == "a84b4c76e66710@pc33.example.com")
        #expect(request.headers.cseq == CSeq(number: 314159, method: .invite))
        #expect(request.headers.contacts.first?.uri.port == 5060)
        #expect(request.headers.maxForwards == 70)
        #expect(request.body == Array("v=0".utf8))
        #expect(request.headers.other.isEmpty)
    }

    @Test func compactNamesExpand() throws {
        let request = try parseRequest("""
            OPTIONS sip:bob@example.com SIP/2.0
            v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1
            f: <sip:a@example.com>;tag=1
            t: <sip:b@example.com>
            i: abc@h
            CSeq: 1 OPTIONS
            m: <sip:a@h.example.com>
            c: text/plain
            e: gzip
            k: timer, replaces
            s: Hello
            o: presence
            u: dialog
            r: <sip:c@example.com>
            b: <sip:a@example.com>
            x: 1800
            l: 0


            """)
        #expect(request.headers.vias.count == 1)
        #expect(request.headers.callID == "abc@h")
        #expect(request.headers.contacts.count == 1)
        #expect(request.headers.contentType == "text/plain")
        #expect(request.headers.other.map(\.name) == [
            "Content-Encoding", "Supported", "Subject", "Event", "Allow-Events", "Refer-To", "Referred-By", "Session-Expires",
        ])
        #expect(request.headers.values("Supported") == ["timer", "replaces"])
        #expect(request.headers["k"] == nil)  // stored under the long name only
    }

    @Test func headerNamesAreCaseInsensitiveAndCanonicalised() throws {
        let request = try parseRequest("""
            OPTIONS sip:bob@example.com SIP/2.0
            VIA: SIP/2.0/UDP h.example.com;branch=z9hG4bK1
            from: <sip:a@example.com>;tag=1
            tO: <sip:b@example.com>
            CALL-id: abc@h
            cseq: 1 OPTIONS
            user-agent: pbxd
            x-custom-Header: kept as sent
            content-length: 0


            """)
        #expect(request.headers.other[0].name == "User-Agent")
        #expect(request.headers.other[1].name == "x-custom-Header")
        #expect(request.headers["USER-AGENT"] == "pbxd")
        #expect(SIPParser.canonicalHeaderName("i") == "Call-ID")
        #expect(SIPParser.canonicalHeaderName("www-authenticate") == "WWW-Authenticate")
    }

    @Test func lineFolding() throws {
        let request = try parseRequest("""
            OPTIONS sip:bob@example.com SIP/2.0
            Via: SIP/2.0/UDP h.example.com
             ;branch=z9hG4bK1
            From: <sip:a@example.com>
            \t;tag=1
            To: <sip:b@example.com>
            Call-ID: abc@h
            CSeq: 1
              OPTIONS
            Subject: first part
               second part
            Content-Length: 0


            """)
        #expect(request.headers.vias.first?.branch == "z9hG4bK1")
        #expect(request.headers.from.tag == "1")
        #expect(request.headers.cseq.method == .options)
        #expect(request.headers["Subject"] == "first part second part")
    }

    @Test func multiValueHeadersSplitIntoArrays() throws {
        let request = try parseRequest("""
            INVITE sip:bob@example.com SIP/2.0
            Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2
            Via: SIP/2.0/TLS c.example.com;branch=z9hG4bK3
            From: <sip:a@example.com>;tag=1
            To: <sip:b@example.com>
            Call-ID: abc@h
            CSeq: 1 INVITE
            Contact: "A, B" <sip:a@h1>;q=0.5, <sip:a@h2>;q=1
            Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
            Record-Route: <sip:p3.example.com;lr>
            Record-Route: <sip:p4.example.com;lr>,<sip:p5.example.com;lr>
            Content-Length: 0


            """)
        #expect(request.headers.vias.map(\.host) == ["a.example.com", "b.example.com", "c.example.com"])
        #expect(request.headers.vias[1].port == 5070)
        #expect(request.headers.contacts.map(\.uri.host) == ["h1", "h2"])
        #expect(request.headers.contacts.first?.displayName == "A, B")
        #expect(request.headers.routes.map(\.uri.host) == ["p1.example.com", "p2.example.com"])
        #expect(request.headers.routes.allSatisfy { $0.uri.parameters.contains("lr") })
        #expect(request.headers.recordRoutes.count == 3)
    }

    @Test func quotedStringsWithEscapes() throws {
        let address = try NameAddress(parsing: #""Joe \"The Hammer\" \\ Smith" <sip:joe@example.com>;tag=9"#)
        #expect(address.displayName == #"Joe "The Hammer" \ Smith"#)
        #expect(address.tag == "9")
        // Serialising escapes again, and parsing that gives the same value.
        #expect(try NameAddress(parsing: address.description) == address)
        #expect(throws: SIPParseError.self) { try NameAddress(parsing: #""unterminated <sip:a@b>"#) }
    }

    @Test func addrSpecParametersBelongToTheHeader() throws {
        let addrSpec = try NameAddress(parsing: "sip:alice@example.com;tag=abc;transport=tcp")
        #expect(addrSpec.uri.parameters.isEmpty)
        #expect(addrSpec.tag == "abc")
        #expect(addrSpec.parameters["transport"] == "tcp")
        let nameAddr = try NameAddress(parsing: "<sip:alice@example.com;transport=tcp>;tag=abc")
        #expect(nameAddr.uri.parameters["transport"] == "tcp")
        #expect(nameAddr.tag == "abc")
        #expect(!nameAddr.parameters.contains("transport"))
    }

    @Test func ipv6References() throws {
        let uri = try SIPURI(parsing: "sip:alice@[2001:db8::1]:5060;transport=udp")
        #expect(uri.host == "2001:db8::1")
        #expect(uri.port == 5060)
        #expect(uri.description == "sip:alice@[2001:db8::1]:5060;transport=udp")
        let via = try Via(parsing: "SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKx;received=[2001:db8::1]")
        #expect(via.host == "2001:db8::9")
        #expect(via.port == 5070)
        #expect(via.parameters["received"] == "[2001:db8::1]")
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: "sip:alice@[2001:db8::1:5060") }
    }

    @Test func parametersWithoutValues() throws {
        let via = try Via(parsing: "SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKa")
        #expect(via.parameters.contains("rport"))
        #expect(via.parameters["rport"] == "")
        #expect(via.branch == "z9hG4bKa")
        let uri = try SIPURI(parsing: "sip:proxy.example.com;lr")
        #expect(uri.parameters.contains("lr"))
        #expect(uri.user == nil)
        #expect(throws: SIPParseError.self) { try Via(parsing: "SIP/2.0/UDP 192.0.2.1;;branch=z9hG4bKa") }
        #expect(throws: SIPParseError.self) { try Via(parsing: "SIP/2.0/UDP 192.0.2.1;branch=") }
    }

    @Test func contactWildcard() throws {
        let request = try parseRequest("""
            REGISTER sip:example.com SIP/2.0
            Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1
            From: <sip:a@example.com>;tag=1
            To: <sip:a@example.com>
            Call-ID: abc@h
            CSeq: 2 REGISTER
            Contact: *
            Expires: 0
            Content-Length: 0


            """)
        #expect(request.headers.contactWildcard)
        #expect(request.headers.contacts.isEmpty)
        #expect(parseError(basicInvite.replacingOccurrences(of: "Contact: <sip:alice@192.0.2.1:5060>", with: "Contact: *, <sip:a@b>")) != nil)
    }

    @Test func escapedURICharacters() throws {
        let uri = try SIPURI(parsing: "sip:I%20have%20spaces@example.net;n%61me=v%61lue")
        #expect(uri.user == "I%20have%20spaces")
        #expect(SIPURI.unescaped(uri.user!) == "I have spaces")
        #expect(uri.parameters["n%61me"] == "v%61lue")
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: "sip:bad%2escape%G1@example.net") }
    }

    @Test func passwordsSchemesAndURIHeaders() throws {
        let uri = try SIPURI(parsing: "SIPS:alice:secret@example.com:5061?Subject=hi&Priority=urgent")
        #expect(uri.scheme == "sips")
        #expect(uri.user == "alice")
        #expect(uri.password == "secret")
        #expect(uri.port == 5061)
        #expect(uri.headers == "Subject=hi&Priority=urgent")
        let tel = try SIPURI(parsing: "tel:+1-201-555-0123")
        #expect(tel.scheme == "tel")
        #expect(tel.opaque == "+1-201-555-0123")
        #expect(!tel.isSIP)
        #expect(tel.description == "tel:+1-201-555-0123")
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: "sip:alice@example.com:99999") }
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: "sip:") }
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: "alice@example.com") }
    }

    @Test func cseqAndMaxForwards() throws {
        #expect(try CSeq(parsing: " 2147483647  BYE ") == CSeq(number: 2_147_483_647, method: .bye))
        #expect(throws: SIPParseError.self) { try CSeq(parsing: "2147483648 BYE") }
        #expect(throws: SIPParseError.self) { try CSeq(parsing: "12BYE") }
        #expect(throws: SIPParseError.self) { try CSeq(parsing: "-1 BYE") }
        let bad = parseError(basicInvite.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 256"))
        #expect(bad?.reason.contains("Max-Forwards") == true)
    }

    @Test func missingMandatoryHeadersAreNamed() throws {
        for (header, line) in [
            ("Via", "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport"),
            ("From", "From: \"Alice\" <sip:alice@example.com>;tag=1928301774"), ("To", "To: Bob <sip:bob@example.com>"),
            ("Call-ID", "Call-ID: a84b4c76e66710@pc33.example.com"), ("CSeq", "CSeq: 314159 INVITE"),
        ] {
            let error = parseError(basicInvite.replacingOccurrences(of: line + "\n", with: ""))
            #expect(error?.statusCode == 400)
            #expect(error?.reason == "Missing \(header) header")
        }
    }

    @Test func responsesParse() throws {
        let message = try parseText("""
            SIP/2.0 180 Ringing
            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;received=192.0.2.9
            To: Bob <sip:bob@example.com>;tag=a6c85cf
            From: "Alice" <sip:alice@example.com>;tag=1928301774
            Call-ID: a84b4c76e66710@pc33.example.com
            CSeq: 314159 INVITE
            Content-Length: 0


            """)
        guard case .response(let response) = message else {
            Issue.record("not a response")
            return
        }
        #expect(response.statusCode == 180)
        #expect(response.reasonPhrase == "Ringing")
        #expect(response.headers.to.tag == "a6c85cf")
        #expect(response.headers.vias.first?.parameters["received"] == "192.0.2.9")
    }

    @Test func bodyFramingByContentLength() throws {
        // UDP: a longer datagram is cut to Content-Length; a shorter one is an error.
        let long = try parseRequest(basicInvite + "\r\nextra")
        #expect(long.body == Array("v=0".utf8))
        let short = parseError(basicInvite.replacingOccurrences(of: "Content-Length: 3", with: "Content-Length: 40"))
        #expect(short?.reason.hasPrefix("Content-Length exceeds body") == true)
        // UDP without Content-Length: the body is the rest of the datagram.
        let noLength = try parseRequest(basicInvite.replacingOccurrences(of: "Content-Length: 3\n", with: ""))
        #expect(noLength.body == Array("v=0".utf8))
        // Stream framing requires Content-Length.
        let stream = parseError(basicInvite.replacingOccurrences(of: "Content-Length: 3\n", with: ""), framing: .stream)
        #expect(stream?.reason == "Missing Content-Length header")
    }

    @Test func malformedValuesNameTheHeader() {
        let cases: [(from: String, to: String, reason: String)] = [
            ("To: Bob <sip:bob@example.com>", "To: <sip:bob@example.com>, <sip:carol@example.com>", "Bad To header: more than one address"),
            ("Via: SIP/2.0/UDP", "Via: HTTP/1.1/UDP", "Bad Via header: protocol is not SIP"),
            ("Via: SIP/2.0/UDP 192.0.2.1:5060", "Via: SIP/2.0/UDP 192.0.2.1:70000", "Bad Via header: port out of range"),
            ("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport", "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1,",
             "Bad Via header: empty list element"),
            ("Contact: <sip:alice@192.0.2.1:5060>", "Contact: <sip:alice@192.0.2.1:5060", "Bad Contact header: missing > after URI"),
            ("CSeq: 314159 INVITE", "CSeq: INVITE", "Bad CSeq header: missing sequence number"),
            ("Call-ID: a84b4c76e66710@pc33.example.com", "Call-ID: a84b4c76e66710 @pc33", "Bad Call-ID header"),
            ("Max-Forwards: 70", "Max-Forwards: seventy", "Bad Max-Forwards header: not a number"),
            ("Max-Forwards: 70", "Max-Forwards 70", "Malformed header line"),
            ("INVITE sip:bob@example.com SIP/2.0", "INVITE sip:bob@example.com SIP/2.0 extra", "Malformed Request-Line"),
            ("INVITE sip:bob@example.com SIP/2.0", "INVITE sip:bob@exa mple.com SIP/2.0", "Malformed Request-Line"),
            ("INVITE sip:bob@example.com SIP/2.0", "INVITE sip:bob@example.com SIP/2", "Malformed SIP-Version"),
        ]
        for (original, replacement, reason) in cases {
            let text = basicInvite.replacingOccurrences(of: original, with: replacement)
            #expect(text != basicInvite, "\(original) not found")
            let error = parseError(text)
            #expect(error?.statusCode == 400, "\(replacement)")
            #expect(error?.reason.hasPrefix(reason) == true, "\(replacement): \(String(describing: error))")
        }
        #expect(parseError(basicInvite.replacingOccurrences(of: "SIP/2.0\n", with: "SIP/3.0\n"))?.statusCode == 505)
        #expect(parseError(basicInvite.replacingOccurrences(of: "SIP/2.0\n", with: "sip/2.0\n")) == nil)  // case-insensitive
    }

    @Test func leadingCRLFsAreIgnored() throws {
        let request = try parseRequest("\n\n" + basicInvite)
        #expect(request.method == .invite)
    }

    @Test func byteBufferEntryPoint() throws {
        let buffer = ByteBuffer(string: basicInvite.replacingOccurrences(of: "\n", with: "\r\n"))
        guard case .request(let request) = try SIPParser.parse(buffer) else {
            Issue.record("not a request")
            return
        }
        #expect(request.headers.callID == "a84b4c76e66710@pc33.example.com")
    }
}
