import Testing

@testable import SIPStack

/// Header lookup by any spelling of the name, as `SIP_HEADER()` needs it.
@Suite struct WireValuesTests {
    static let invite = """
        INVITE sip:600@pbx.example SIP/2.0\r
        v: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1\r
        f: "Alice" <sip:1001@pbx.example>;tag=a1\r
        t: <sip:600@pbx.example>\r
        i: wv-1@10.0.0.5\r
        CSeq: 1 INVITE\r
        Diversion: <sip:100@a>;reason=busy\r
        Diversion: <sip:200@b>;reason=no-answer\r
        X-Customer-ID: 8812\r
        Content-Length: 0\r
        \r

        """

    @Test func typedAndUntypedHeadersByAnyName() throws {
        let headers = try parseRequest(Self.invite).headers
        #expect(headers.wireValues(named: "From") == [#""Alice" <sip:1001@pbx.example>;tag=a1"#])
        #expect(headers.wireValues(named: "f") == headers.wireValues(named: "FROM"))
        #expect(headers.wireValues(named: "Call-ID") == ["wv-1@10.0.0.5"])
        #expect(headers.wireValues(named: "diversion") == ["<sip:100@a>;reason=busy", "<sip:200@b>;reason=no-answer"])
        #expect(headers.wireValues(named: "x-customer-id") == ["8812"])
        #expect(headers.wireValues(named: "X-Missing").isEmpty)
        #expect(headers.wireValues(named: "Contact").isEmpty)
    }
}
