import Testing
@testable import SIPStack

/// RFC 4475 torture messages, all enabled (STYLE.md §6). Each file's verdict comes from the RFC
/// section it is in: §3.1.1 must parse, §3.1.2 must be rejected with the given code, §3.2/§3.3
/// parse but some are refused by the request validator (application-level checks).
enum Verdict: Sendable, CustomStringConvertible {
    /// Parses; a request passes the validator.
    case valid
    /// The parser rejects it with this status code and a reason containing the text.
    case parseError(Int, String)
    /// Parses, and the request validator answers with this status code.
    case rejected(Int)

    var description: String {
        switch self {
        case .valid: "valid"
        case .parseError(let code, let text): "parse error \(code) (\(text))"
        case .rejected(let code): "validator \(code)"
        }
    }
}

let rfc4475Verdicts: [String: Verdict] = [
    // §3.1.1 Valid messages
    "wsinv": .valid,  // 3.1.1.1 short tortuous INVITE
    "intmeth": .rejected(501),  // 3.1.1.2 valid, but the method is unknown
    "esc01": .valid,  // 3.1.1.3
    "escnull": .valid,  // 3.1.1.4
    "esc02": .rejected(501),  // 3.1.1.5 RE%47IST%45R is not REGISTER
    "lwsdisp": .valid,  // 3.1.1.6
    "longreq": .valid,  // 3.1.1.7
    "dblreq": .valid,  // 3.1.1.8 extra octets after Content-Length are ignored (UDP)
    "semiuri": .valid,  // 3.1.1.9
    "transports": .valid,  // 3.1.1.10
    "mpart01": .valid,  // 3.1.1.11
    "unreason": .valid,  // 3.1.1.12
    "noreason": .valid,  // 3.1.1.13
    // §3.1.2 Invalid messages
    "badinv01": .parseError(400, "Via"),  // 3.1.2.1 extraneous separators
    "clerr": .parseError(400, "Content-Length exceeds body"),  // 3.1.2.2
    "ncl": .parseError(400, "Content-Length"),  // 3.1.2.3 negative
    "scalar02": .parseError(400, "CSeq"),  // 3.1.2.4 overlarge scalars
    "scalarlg": .parseError(400, "CSeq"),  // 3.1.2.5 (a response: nothing is sent back)
    "quotbal": .parseError(400, "unterminated quoted string"),  // 3.1.2.6
    "ltgtruri": .parseError(400, "Request-URI"),  // 3.1.2.7
    "lwsruri": .parseError(400, "Request-Line"),  // 3.1.2.8
    "lwsstart": .parseError(400, "Request-Line"),  // 3.1.2.9
    "trws": .parseError(400, "Request-Line"),  // 3.1.2.10
    "escruri": .parseError(400, "Request-URI"),  // 3.1.2.11
    "baddate": .rejected(400),  // 3.1.2.12 EST is not GMT
    "regbadct": .parseError(400, "Contact"),  // 3.1.2.13 URI with ? outside <>
    "badaspec": .parseError(400, "To"),  // 3.1.2.14 spaces inside <>
    "baddn": .parseError(400, "From"),  // 3.1.2.15 comma in unquoted display name
    "badvers": .parseError(505, "SIP/7.0"),  // 3.1.2.16
    "mismatch01": .rejected(400),  // 3.1.2.17 CSeq method differs
    "mismatch02": .rejected(400),  // 3.1.2.18 unknown method and CSeq mismatch: 400 first
    "bigcode": .parseError(400, "status code"),  // 3.1.2.19
    // §3.2 Transaction layer
    "badbranch": .valid,  // 3.2.1 branch without the magic cookie is still a request
    // §3.3 Application layer
    "insuf": .parseError(400, "Missing From"),  // 3.3.1 (Call-ID, From, To missing)
    "unkscm": .rejected(416),  // 3.3.2
    "novelsc": .rejected(416),  // 3.3.3
    "unksm2": .rejected(400),  // 3.3.4 parses; a REGISTER's To must be SIP (RFC 3261 §10.2)
    "bext01": .rejected(420),  // 3.3.5
    "invut": .rejected(415),  // 3.3.6
    "regaut01": .valid,  // 3.3.7 401 comes from the authenticator, not the parser
    "multi01": .parseError(400, "Multiple"),  // 3.3.8
    "mcl01": .parseError(400, "Multiple Content-Length"),  // 3.3.9
    "bcast": .valid,  // 3.3.10 (response)
    "zeromf": .rejected(483),  // 3.3.11
    "cparam01": .valid,  // 3.3.12
    "cparam02": .valid,  // 3.3.13
    "regescrt": .valid,  // 3.3.14
    "sdp01": .valid,  // 3.3.15 406 comes from the SDP layer (Accept), not the parser
    // §3.4 Backward compatibility
    "inv2543": .valid,  // 3.4.1 RFC 2543 syntax
    // Shipped in the RFC's archive without a section: no SIP-Version, a header without colon.
    "test": .parseError(400, "Request-Line"),
]

/// The validator as pbxd configures it, with the body types it understands.
let corpusValidator = SIPRequestValidator(
    acceptedContentTypes: ["application/sdp", "multipart/mixed", "text/plain"])

@Test func tableCoversEveryFixture() throws {
    let names = try Fixture.allRFC4475Names()
    #expect(names.count == 50)
    #expect(Set(names) == Set(rfc4475Verdicts.keys))
}

@Test(arguments: rfc4475Verdicts.keys.sorted())
func rfc4475(_ name: String) throws {
    let bytes = try Fixture.rfc4475(name)
    let verdict = try #require(rfc4475Verdicts[name])
    let message: SIPMessage
    do {
        message = try SIPParser.parse(bytes: bytes)
    } catch {
        guard case .parseError(let code, let text) = verdict else {
            Issue.record("\(name): expected \(verdict), parser said \(error)")
            return
        }
        #expect(error.statusCode == code, "\(name): \(error)")
        #expect(error.reason.contains(text), "\(name): \(error)")
        return
    }
    switch (verdict, message) {
    case (.parseError, _):
        Issue.record("\(name): expected \(verdict), but it parsed")
    case (.valid, .response):
        break
    case (.rejected, .response):
        Issue.record("\(name): the validator only applies to requests")
    case (.valid, .request(let request)):
        let rejection = corpusValidator.validate(request)
        #expect(rejection == nil, "\(name): \(String(describing: rejection))")
    case (.rejected(let code), .request(let request)):
        #expect(corpusValidator.validate(request)?.statusCode == code, "\(name)")
    }
}

@Test func wsinvFields() throws {
    guard case .request(let request) = try SIPParser.parse(bytes: try Fixture.rfc4475("wsinv")) else {
        Issue.record("not a request")
        return
    }
    let headers = request.headers
    #expect(request.method == .invite)
    #expect(request.uri.parameters.contains("unknownparam"))
    #expect(headers.to.uri.user == "vivekg")
    #expect(headers.to.tag == "1918181833n")
    #expect(headers.from.displayName == "J Rosenberg \\\"")
    #expect(headers.from.tag == "98asjd8")
    #expect(headers.maxForwards == 68)
    #expect(headers.cseq == CSeq(number: 9, method: .invite))
    #expect(headers.vias.map(\.transport) == ["UDP", "TCP", "UDP"])
    #expect(headers.vias.map(\.host) == ["192.0.2.2", "spindle.example.com", "192.168.255.111"])
    #expect(headers.vias.map(\.branch) == ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"])
    #expect(headers.contacts.count == 1)
    #expect(headers.contacts.first?.displayName == "Quoted string \"\"")
    #expect(headers.contacts.first?.parameters["newparam"] == "newvalue")
    #expect(headers.contacts.first?.parameters["q"] == "0.33")
    #expect(headers.routes.first?.uri.parameters.contains("unknown-no-value") == true)
    #expect(headers["NewFangledHeader"] == "newfangled value continued newfangled value")
    #expect(headers["UnknownHeaderWithUnusualValue"] == ";;,,;;,;")
    #expect(headers["Subject"] == "")
    #expect(headers.contentType == "application/sdp")
    #expect(request.body.count == 150)
}

@Test func corpusDetails() throws {
    func request(_ name: String) throws -> SIPRequest {
        guard case .request(let r) = try SIPParser.parse(bytes: try Fixture.rfc4475(name)) else { throw TestError.notARequest }
        return r
    }
    let dblreq = try request("dblreq")
    #expect(dblreq.body.isEmpty)  // the second request in the datagram is ignored
    let semiuri = try request("semiuri")
    #expect(semiuri.uri.user == "user;par=u%40example.net")
    #expect(semiuri.uri.host == "example.com")
    #expect(semiuri.uri.parameters.isEmpty)
    #expect(semiuri.headers.values("Accept").count == 6)
    let esc01 = try request("esc01")
    #expect(SIPURI.unescaped(esc01.headers.from.uri.user ?? "") == "I have spaces")
    #expect(esc01.headers.contacts.first?.uri.parameters.contains("%6C%72") == true)
    let escnull = try request("escnull")
    #expect(escnull.headers.contacts.map { $0.uri.user } == ["%00", "%00%00"])
    let esc02 = try request("esc02")
    #expect(esc02.method == .other("RE%47IST%45R"))
    #expect(esc02.headers.contacts.count == 2)
    #expect(esc02.headers["C%6Fntact"] == "<sip:alias2@host2.example.com>")
    let intmeth = try request("intmeth")
    #expect(intmeth.headers.to.displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
    #expect(intmeth.headers.from.displayName == "token1~` token2'+_ token3*%!.-")
    #expect(intmeth.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    #expect(intmeth.headers.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    let transports = try request("transports")
    #expect(transports.headers.vias.map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
    let cparam01 = try request("cparam01")
    #expect(cparam01.headers.contacts.first?.parameters.contains("unknownparam") == true)
    #expect(cparam01.headers.contacts.first?.uri.parameters.isEmpty == true)
    let cparam02 = try request("cparam02")
    #expect(cparam02.headers.contacts.first?.uri.parameters.contains("unknownparam") == true)
    #expect(cparam02.headers.contacts.first?.parameters.isEmpty == true)
    let regescrt = try request("regescrt")
    #expect(regescrt.headers.contacts.first?.uri.headers == "Route=%3Csip:sip.example.com%3E")
    let unksm2 = try request("unksm2")
    #expect(unksm2.headers.to.uri.scheme == "isbn")
    #expect(unksm2.headers.to.uri.opaque == "2983792873")
    #expect(unksm2.headers.contacts.first?.uri.scheme == "name")
    let inv2543 = try request("inv2543")
    #expect(inv2543.headers.vias.first?.branch == nil)
    #expect(inv2543.headers.to.parameters["user"] == "phone")  // addr-spec: a header param in RFC 3261
    #expect(inv2543.body.count > 0)
    let bext01 = try request("bext01")
    let rejection = corpusValidator.validate(bext01)
    #expect(rejection?.extraHeaders.first?.name == "Unsupported")
    #expect(rejection?.extraHeaders.first?.value == "nothingSupportsThis, nothingSupportsThisEither")

    guard case .response(let unreason) = try SIPParser.parse(bytes: try Fixture.rfc4475("unreason")) else {
        Issue.record("not a response")
        return
    }
    #expect(unreason.statusCode == 200)
    #expect(unreason.reasonPhrase.hasPrefix("= 2**3 * 5**2 "))
    guard case .response(let noreason) = try SIPParser.parse(bytes: try Fixture.rfc4475("noreason")) else {
        Issue.record("not a response")
        return
    }
    #expect(noreason.statusCode == 100)
    #expect(noreason.reasonPhrase == "")
}

/// Invalid requests must still be answerable: the raw headers are salvaged for the response.
@Test func invalidRequestsCarryResponseContext() throws {
    for name in ["badinv01", "clerr", "ncl", "quotbal", "ltgtruri", "lwsruri", "badvers", "badaspec", "baddn"] {
        let bytes = try Fixture.rfc4475(name)
        do throws(SIPParseError) {
            _ = try SIPParser.parse(bytes: bytes)
            Issue.record("\(name) parsed")
        } catch {
            let context = try #require(error.responseContext, "\(name)")
            #expect(!context.vias.isEmpty && context.cseq != nil && context.callID != nil, "\(name)")
            let response = try #require(error.errorResponse(toTag: "x1"), "\(name)")
            let text = String(buffer: response)
            #expect(text.hasPrefix("SIP/2.0 \(error.statusCode) "), "\(name)")
            #expect(text.contains("\r\nCall-ID: \(context.callID!)\r\n"))
            #expect(text.hasSuffix("Content-Length: 0\r\n\r\n"))
        }
    }
    // Responses are never answered.
    let bigcode = try Fixture.rfc4475("bigcode")
    do throws(SIPParseError) {
        _ = try SIPParser.parse(bytes: bigcode)
        Issue.record("bigcode parsed")
    } catch {
        #expect(error.responseContext == nil)
        #expect(error.errorResponse() == nil)
    }
}
