import Foundation
import NIOCore
@testable import SIPStack

/// Loads RFC 4475 messages from the bundled fixtures, byte for byte.
enum Fixture {
    static func rfc4475(_ name: String) throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "dat", subdirectory: "Fixtures/rfc4475") else {
            throw FixtureError.missing(name)
        }
        return Array(try Data(contentsOf: url))
    }

    /// Every `.dat` file in the corpus, by name without extension.
    static func allRFC4475Names() throws -> [String] {
        guard let dir = Bundle.module.url(forResource: "rfc4475", withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing("rfc4475")
        }
        return try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".dat") }.map { String($0.dropLast(4)) }.sorted()
    }

    enum FixtureError: Error { case missing(String) }
}

/// Parses text with CRLF line ends (test messages are written with "\n" for readability).
func parseText(_ text: String, limits: SIPParserLimits = .default, framing: SIPParser.Framing = .datagram) throws(SIPParseError) -> SIPMessage {
    let wire = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    return try SIPParser.parse(bytes: Array(wire.utf8), limits: limits, framing: framing)
}

func parseRequest(_ text: String) throws -> SIPRequest {
    guard case .request(let request) = try parseText(text) else { throw TestError.notARequest }
    return request
}

func parseError(_ text: String, limits: SIPParserLimits = .default, framing: SIPParser.Framing = .datagram) -> SIPParseError? {
    do {
        _ = try parseText(text, limits: limits, framing: framing)
        return nil
    } catch {
        return error
    }
}

enum TestError: Error { case notARequest }

/// A typical request used by several tests.
let basicInvite = """
    INVITE sip:bob@example.com SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport
    Max-Forwards: 70
    To: Bob <sip:bob@example.com>
    From: "Alice" <sip:alice@example.com>;tag=1928301774
    Call-ID: a84b4c76e66710@pc33.example.com
    CSeq: 314159 INVITE
    Contact: <sip:alice@192.0.2.1:5060>
    Content-Type: application/sdp
    Content-Length: 3

    v=0
    """
