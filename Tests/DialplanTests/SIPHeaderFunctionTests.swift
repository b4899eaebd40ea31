import PBXCore
import Testing
@testable import Dialplan

/// `SIP_HEADER(name[,n])`: a CRM integration reads a header the caller's phone or trunk sent
/// (an X-header with a customer id, the Diversion of a forwarded call) and routes on it.
struct SIPHeaderFunctionTests {
    @Test func readsTheNthValueAndEmptyWhenAbsent() async throws {
        let channel = FakeChannel()
        await channel.setRequestHeader("X-Customer-ID", ["8812"])
        await channel.setRequestHeader("Diversion", ["<sip:100@a>;reason=busy", "<sip:200@b>;reason=no-answer"])
        let dialer = FakeDialer(results: Array(repeating: DialResult(status: .noAnswer, cause: .noAnswer), count: 3))
        let events = try await runCall("""
            [default]
            exten => s,1,Dial(SIP/c${SIP_HEADER(X-Customer-ID)})
             same => n,Dial(SIP/${CUT(SIP_HEADER(Diversion,2),@,1)})
             same => n,Dial(SIP/none${SIP_HEADER(X-Missing)})
            """, exten: "s", channel: channel, dialer: dialer)
        let dialed = events.compactMap { if case .dial(let targets, _, _) = $0 { targets.first } else { nil } }
        #expect(dialed == ["SIP/c8812", "SIP/<sip:200", "SIP/none"])
    }

    @Test func anOccurrenceThatIsNoNumberIsAnError() async throws {
        let channel = FakeChannel()
        await channel.setRequestHeader("X-A", ["1"])
        let dialer = FakeDialer(results: [DialResult(status: .noAnswer, cause: .noAnswer)])
        let events = try await runCall("""
            [default]
            exten => s,1,Dial(SIP/x${SIP_HEADER(X-A,zero)})
            """, exten: "s", channel: channel, dialer: dialer)
        // A failing function substitutes nothing (Asterisk logs it and goes on).
        let dialed = events.compactMap { if case .dial(let targets, _, _) = $0 { targets.first } else { nil } }
        #expect(dialed == ["SIP/x"])
    }
}
