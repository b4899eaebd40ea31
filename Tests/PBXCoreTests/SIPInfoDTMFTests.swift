import NIOCore
import RTPMedia
import Testing

@testable import PBXCore

/// DTMF in SIP INFO bodies, as phones with `dtmfmode=info` send it.
@Suite struct SIPInfoDTMFTests {
    static func parse(_ type: String?, _ body: String) -> Result<SIPInfoDTMF, SIPInfoDTMF.ParseError> {
        SIPInfoDTMF.parse(contentType: type, body: Array(body.utf8))
    }

    static func digit(_ c: Character, _ ms: Int) -> Result<SIPInfoDTMF, SIPInfoDTMF.ParseError> {
        .success(.digit(DTMFDigit(c)!, duration: .milliseconds(ms)))
    }

    @Test func dtmfRelayWithSignalAndDuration() {
        #expect(Self.parse("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n") == Self.digit("5", 160))
        #expect(Self.parse("application/dtmf-relay", "Signal=5\r\nDuration=160") == Self.digit("5", 160))
        // Bare LF, spaces around '=', key case, parameters and case in the content type.
        #expect(Self.parse("Application/DTMF-Relay; charset=utf-8", "signal = 9\nduration= 250\n") == Self.digit("9", 250))
        // Order does not matter; unknown lines are ignored.
        #expect(Self.parse("application/dtmf-relay", "Duration=80\r\nFoo=bar\r\nSignal=0\r\n") == Self.digit("0", 80))
    }

    @Test(arguments: ["*", "#", "A", "B", "C", "D", "a", "d", "1"])
    func dtmfRelayKeys(key: String) {
        #expect(Self.parse("application/dtmf-relay", "Signal=\(key)\r\nDuration=100\r\n") == Self.digit(Character(key.uppercased()), 100))
    }

    /// RFC 4733 event numbers: 10 = *, 11 = #, 12...15 = A...D.
    @Test func dtmfRelayEventNumbers() {
        #expect(Self.parse("application/dtmf-relay", "Signal=10\r\n") == Self.digit("*", 100))
        #expect(Self.parse("application/dtmf-relay", "Signal=11\r\n") == Self.digit("#", 100))
        #expect(Self.parse("application/dtmf-relay", "Signal=15\r\n") == Self.digit("D", 100))
        #expect(Self.parse("application/dtmf-relay", "Signal=!\r\n") == .success(.flash))
        #expect(Self.parse("application/dtmf-relay", "Signal=16\r\n") == .success(.flash))
    }

    @Test func durations() {
        // Missing or zero: the default 100 ms. Too long: capped at one RFC 4733 event.
        #expect(Self.parse("application/dtmf-relay", "Signal=3\r\n") == Self.digit("3", 100))
        #expect(Self.parse("application/dtmf-relay", "Signal=3\r\nDuration=0\r\n") == Self.digit("3", 100))
        #expect(Self.parse("application/dtmf-relay", "Signal=3\r\nDuration=60000\r\n") == Self.digit("3", 8000))
        #expect(Self.parse("application/dtmf-relay", "Signal=3\r\nDuration=40\r\n") == Self.digit("3", 40))
    }

    @Test func applicationDTMF() {
        #expect(Self.parse("application/dtmf", "5") == Self.digit("5", 100))
        #expect(Self.parse("application/dtmf", "#\r\n") == Self.digit("#", 100))
        #expect(Self.parse("application/dtmf", " * ") == Self.digit("*", 100))
        #expect(Self.parse("application/dtmf", "11") == Self.digit("#", 100))
        #expect(Self.parse("application/dtmf", "b") == Self.digit("B", 100))
    }

    @Test func emptyInfoIsAccepted() {
        #expect(Self.parse(nil, "") == .success(.empty))
        #expect(Self.parse("application/dtmf-relay", "") == .success(.empty))
    }

    @Test(arguments: [
        ("application/dtmf-relay", "Duration=160\r\n"),
        ("application/dtmf-relay", "Signal=\r\nDuration=160\r\n"),
        ("application/dtmf-relay", "Signal=X\r\n"),
        ("application/dtmf-relay", "Signal=55\r\n"),
        ("application/dtmf-relay", "Signal=17\r\n"),
        ("application/dtmf-relay", "Signal=5\r\nDuration=abc\r\n"),
        ("application/dtmf-relay", "Signal=5\r\nDuration=-20\r\n"),
        ("application/dtmf-relay", "Signal=5\r\nDuration=99999999999999999999\r\n"),
        ("application/dtmf-relay", "garbage"),
        ("application/dtmf", ""),
        ("application/dtmf", "  \r\n"),
        ("application/dtmf", "12345"),
        ("application/dtmf", "E"),
    ])
    func garbageIsABadBody(type: String, body: String) {
        if body.isEmpty {
            #expect(Self.parse(type, body) == .success(.empty))
            return
        }
        guard case .failure(.badBody(let reason)) = Self.parse(type, body) else {
            Issue.record("accepted \(body.debugDescription)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func notUTF8IsABadBody() {
        #expect(SIPInfoDTMF.parse(contentType: "application/dtmf-relay", body: [0x53, 0xFF, 0xFE]) == .failure(.badBody("Body is not UTF-8")))
    }

    @Test func otherContentTypesAreUnsupported() {
        #expect(Self.parse("application/media_control+xml", "<media_control/>") == .failure(.unsupportedContentType("application/media_control+xml")))
        #expect(Self.parse(nil, "Signal=5") == .failure(.unsupportedContentType("(none)")))
        #expect(Self.parse("text/plain", "5") == .failure(.unsupportedContentType("text/plain")))
    }

    @Test func bodyPBXDSends() {
        #expect(SIPInfoDTMF.relayBody(DTMFDigit("5")!, duration: .milliseconds(160)) == "Signal=5\r\nDuration=160\r\n")
        #expect(SIPInfoDTMF.relayBody(DTMFDigit("#")!, duration: nil) == "Signal=#\r\n")
        // What pbxd sends, it reads back.
        let body = SIPInfoDTMF.relayBody(DTMFDigit("C")!, duration: .milliseconds(250))
        #expect(Self.parse("application/dtmf-relay", body) == Self.digit("C", 250))
    }

    /// Injected keys: one SSRC, timestamps from real time at 8 kHz, never overlapping.
    @Test func injectedStreamTimestamps() {
        var stream = InjectedDTMFStream()
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let first = stream.next(at: t0, duration: .milliseconds(100))
        let second = stream.next(at: t0 + .milliseconds(500), duration: .milliseconds(100))
        #expect(second.timestamp &- first.timestamp == 4000)
        // A key right after the previous one starts where that one ended (800 samples later).
        let third = stream.next(at: t0 + .milliseconds(510), duration: .milliseconds(100))
        #expect(third.timestamp &- second.timestamp == 800)
    }
}
