import NIOCore
import Testing
@testable import SIPStack

/// Round trips, limits and mutation fuzzing.
@Suite struct ParserRobustnessTests {
    /// Every corpus message that parses serialises to something that parses to the same value.
    @Test func roundTripCorpus() throws {
        var checked = 0
        for name in try Fixture.allRFC4475Names() {
            guard let first = try? SIPParser.parse(bytes: try Fixture.rfc4475(name)) else { continue }
            let wire = first.wireBytes
            let second = try SIPParser.parse(wire)
            #expect(MessageSnapshot(first) == MessageSnapshot(second), "\(name)")
            // Serialising is a fixed point after one pass.
            #expect(second.wireBytes == wire, "\(name)")
            checked += 1
        }
        #expect(checked >= 30)
    }

    @Test func roundTripBasicInvite() throws {
        let first = try parseText(basicInvite)
        let second = try SIPParser.parse(first.wireBytes)
        #expect(MessageSnapshot(first) == MessageSnapshot(second))
        #expect(String(buffer: first.wireBytes).contains("\r\nContent-Length: 3\r\n\r\nv=0"))
    }

    @Test func messageSizeLimit() {
        let limits = SIPParserLimits(maxMessageBytes: 200)
        let error = parseError(basicInvite, limits: limits)
        #expect(error?.statusCode == 513)
    }

    @Test func headerCountLimit() {
        let many = basicInvite.replacingOccurrences(
            of: "Max-Forwards: 70\n", with: "Max-Forwards: 70\n" + String(repeating: "X-Filler: 1\n", count: 130))
        #expect(parseError(many)?.statusCode == 513)
        #expect(parseError(many, limits: SIPParserLimits(maxHeaderCount: 200)) == nil)
    }

    @Test func lineLengthLimit() {
        let long = basicInvite.replacingOccurrences(
            of: "Max-Forwards: 70\n", with: "Max-Forwards: 70\nSubject: \(String(repeating: "a", count: 9000))\n")
        #expect(parseError(long)?.statusCode == 513)
        let folded = basicInvite.replacingOccurrences(
            of: "Max-Forwards: 70\n",
            with: "Max-Forwards: 70\nSubject: x\n" + String(repeating: " \(String(repeating: "a", count: 100))\n", count: 90))
        #expect(parseError(folded)?.statusCode == 513)  // folding does not escape the limit
    }

    @Test func contentLengthLimit() {
        let huge = basicInvite.replacingOccurrences(of: "Content-Length: 3", with: "Content-Length: 999999999999999999999")
        #expect(parseError(huge)?.statusCode == 413)
        let limited = parseError(basicInvite, limits: SIPParserLimits(maxContentLength: 2))
        #expect(limited?.statusCode == 413)
        // Even with no configured bound, a 20-digit value does not overflow.
        let unbounded = parseError(
            basicInvite.replacingOccurrences(of: "Content-Length: 3", with: "Content-Length: 99999999999999999999"),
            limits: SIPParserLimits(maxContentLength: .max))
        #expect(unbounded?.statusCode == 413)
    }

    @Test func uriLengthLimit() {
        let longUser = String(repeating: "u", count: 5000)
        let request = basicInvite.replacingOccurrences(of: "INVITE sip:bob@example.com", with: "INVITE sip:\(longUser)@example.com")
        #expect(parseError(request, limits: SIPParserLimits(maxLineLength: 10_000))?.statusCode == 414)
        let header = basicInvite.replacingOccurrences(of: "To: Bob <sip:bob@example.com>", with: "To: <sip:\(longUser)@example.com>")
        #expect(parseError(header, limits: SIPParserLimits(maxLineLength: 10_000))?.statusCode == 400)
    }

    @Test func errorResponseAddsToTagAndSkipsACK() throws {
        let bad = basicInvite.replacingOccurrences(of: "CSeq: 314159 INVITE", with: "CSeq: 314159 INVITE\nMax-Forwards: x")
        let error = try #require(parseError(bad))
        let response = String(buffer: try #require(error.errorResponse(toTag: "srv1")))
        #expect(response.hasPrefix("SIP/2.0 400 Multiple Max-Forwards headers\r\n"))
        #expect(response.contains("\r\nTo: Bob <sip:bob@example.com>;tag=srv1\r\n"))
        #expect(response.contains("\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"))
        #expect(response.contains("\r\nFrom: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"))
        #expect(response.contains("\r\nCSeq: 314159 INVITE\r\n"))
        let ack = bad.replacingOccurrences(of: "INVITE sip:", with: "ACK sip:")
        #expect(try #require(parseError(ack)).errorResponse() == nil)
    }

    /// Seeded random mutations of every corpus message: the parser may reject, never crash, and
    /// whatever it accepts serialises and parses again.
    @Test func mutatedCorpusNeverCrashes() throws {
        var rng = SplitMix64(seed: 0x5EED_4475)
        var accepted = 0, rejected = 0
        let corpus = try Fixture.allRFC4475Names().map { try Fixture.rfc4475($0) }
        let interesting: [UInt8] = Array(" \t\r\n:;,<>\"\\@%[]=/?*".utf8) + [0, 0xFF, 0x80]
        for round in 0..<3_000 {
            var bytes = corpus[round % corpus.count]
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                guard !bytes.isEmpty else { break }
                let index = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 5 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[index] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 2: bytes.remove(at: index)
                case 3: bytes.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: index)
                default: bytes.removeSubrange(index..<min(bytes.count, index + Int(rng.next() % 40)))
                }
            }
            do throws(SIPParseError) {
                let message = try SIPParser.parse(bytes: bytes)
                _ = try SIPParser.parse(message.wireBytes)
                accepted += 1
            } catch {
                #expect([400, 413, 414, 505, 513].contains(error.statusCode))
                _ = error.errorResponse(toTag: "t")
                rejected += 1
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }
}

/// A comparable view of a message (SIPHeaders holds tuples, so it is not Equatable itself).
struct MessageSnapshot: Equatable {
    var startLine: String
    var vias: [Via], from: NameAddress, to: NameAddress, callID: String, cseq: CSeq
    var maxForwards: Int?, contacts: [NameAddress], wildcard: Bool
    var routes: [NameAddress], recordRoutes: [NameAddress], contentType: String?
    var other: [String]
    var body: [UInt8]

    init(_ message: SIPMessage) {
        let headers = message.headers
        switch message {
        case .request(let r):
            startLine = "\(r.method) \(r.uri)"
            body = r.body
        case .response(let r):
            startLine = "\(r.statusCode) \(r.reasonPhrase)"
            body = r.body
        }
        vias = headers.vias
        from = headers.from
        to = headers.to
        callID = headers.callID
        cseq = headers.cseq
        maxForwards = headers.maxForwards
        contacts = headers.contacts
        wildcard = headers.contactWildcard
        routes = headers.routes
        recordRoutes = headers.recordRoutes
        contentType = headers.contentType
        other = headers.other.map { "\($0.name): \($0.value)" }
    }
}

/// A small deterministic generator so fuzz failures replay.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
