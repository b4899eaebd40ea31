import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// A small call-center dialplan written the way Asterisk operators write them, run end to end
/// through the executor with fake channels.
struct OperatorConfigTests {
    static let config = """
        ;-- pbxd: a small call center,
            as an operator would bring it from Asterisk --;
        [general]
        static=yes
        writeprotect=no
        autofallthrough=yes

        [globals]
        OPERATOR=SIP/1001
        TRUNK=SIP/provider
        RINGTIME=20

        [from-internal]
        include => internal-phones
        include => outbound
        exten => h,1,NoOp(Call ${UNIQUEID} ended: ${DIALSTATUS}/${HANGUPCAUSE})

        [internal-phones]
        exten => 1001,hint,SIP/1001
        exten => 1001,1,Dial(SIP/1001,${RINGTIME})
        exten => 1002,hint,SIP/1002
        exten => 1002,1,Dial(SIP/1002,${RINGTIME})
        exten => _10XX,n,GotoIf($["${DIALSTATUS}" = "BUSY"]?busy)   ; shared tail, as in Asterisk
         same => n,Congestion(3)
         same => n(busy),Busy(3)

        [outbound]
        exten => _0NXXXXXXXX,1,Set(CALLERID(num)=0312345678)
         same => n,Dial(${TRUNK}/${EXTEN:1},60)
         same => n,Hangup()
        exten => _00.,1,Hangup(CALL_REJECTED) ; no international calls

        [from-trunk]
        exten => _X.,1,NoOp(DID ${EXTEN} from ${CALLERID(all)})
         same => n,GotoIfTime(08:00-17:59,mon-fri,*,*?open)
         same => n,Goto(closed,s,1)
         same => n(open),Dial(${OPERATOR},${RINGTIME})
         same => n,Goto(closed,s,1)

        [closed]
        exten => s,1,Answer()
         same => n,ExecIf($["${DIALSTATUS}" = ""]?Wait(1):Wait(2))
         same => n,Hangup()
        """

    @Test func loadsWithOnlyTheExpectedWarning() throws {
        let (dialplan, warnings) = try Dialplan.parse(Self.config)
        // The shared tail is legal but surprising; both facts are reported at its line.
        #expect(warnings.map(\.location.line) == [23, 23], "\(warnings)")
        #expect(warnings.contains { $0.message.contains("'n' on a new extension '_10XX'") })
        #expect(warnings.contains { $0.message.contains("'_10XX' in 'internal-phones' has no priority 1") })
        #expect(dialplan.globals["RINGTIME"] == "20")
        #expect(dialplan.hint(context: "from-internal", exten: "1002") == "SIP/1002")
        #expect(dialplan.hasExtension(context: "from-internal", exten: "1002"))
        #expect(dialplan.hasExtension(context: "from-internal", exten: "0612345678"))
        #expect(!dialplan.hasExtension(context: "from-internal", exten: "555"))
        #expect(!dialplan.hasExtension(context: "from-internal", exten: "1003"))
        #expect(dialplan.matchMore(context: "from-internal", exten: "061"))
    }

    @Test func busyInternalExtensionSharesTheTail() async throws {
        let events = try await runCall(Self.config, context: "from-internal", exten: "1002",
                                       dialer: FakeDialer(results: [DialResult(status: .busy, cause: .userBusy)]))
        #expect(events == [.dial(["SIP/1002"], timeout: .seconds(20), options: ""), .indicate(.busy), .wait(.seconds(3)), .hangup(.userBusy)])
    }

    @Test func unansweredInternalExtensionGetsCongestion() async throws {
        let log = LogCapture()
        let events = try await runCall(Self.config, context: "from-internal", exten: "1001",
                                       dialer: FakeDialer(results: [DialResult(status: .noAnswer)]), log: log)
        #expect(events == [.dial(["SIP/1001"], timeout: .seconds(20), options: ""), .indicate(.congestion), .wait(.seconds(3)),
                           .hangup(.normalCircuitCongestion)])
        // The h extension ran in from-internal with the final status.
        #expect(log.all.contains { $0.message.contains("Executing [h@from-internal:1] NoOp") && $0.message.contains("ended: NOANSWER/34") })
    }

    @Test func outboundCallSetsCallerIDAndStripsThePrefix() async throws {
        let dialer = FakeDialer(results: [DialResult(status: .answer, answeredChannelName: "SIP/provider-00000002")])
        let events = try await runCall(Self.config, context: "from-internal", exten: "0612345678", dialer: dialer)
        #expect(events == [.setCallerID(number: "0312345678", name: "Alice"),
                           .dial(["SIP/provider/612345678"], timeout: .seconds(60), options: ""), .hangup(.normalClearing)])
        let events2 = try await runCall(Self.config, context: "from-internal", exten: "0044123456")
        #expect(events2 == [.hangup(.callRejected)])
    }

    @Test func incomingCallsFollowBusinessHours() async throws {
        let open = try await runCall(Self.config, context: "from-trunk", exten: "31201234567",
                                     dialer: FakeDialer(results: [DialResult(status: .noAnswer)]), at: utcDate(2026, 11, 23, 17, 59))
        #expect(open == [.dial(["SIP/1001"], timeout: .seconds(20), options: ""), .answer, .wait(.seconds(2)), .hangup(.normalClearing)])
        let evening = try await runCall(Self.config, context: "from-trunk", exten: "31201234567", at: utcDate(2026, 11, 23, 18, 0))
        #expect(evening == [.answer, .wait(.seconds(1)), .hangup(.normalClearing)])
        let saturday = try await runCall(Self.config, context: "from-trunk", exten: "31201234567", at: utcDate(2026, 11, 28, 10, 0))
        #expect(saturday == [.answer, .wait(.seconds(1)), .hangup(.normalClearing)])
    }

    @Test func gotoIfTimeHonoursANamedTimeZone() async throws {
        // 10:00 UTC is 05:00 in New York (EST in November): closed there.
        let events = try await runCall("""
            [default]
            exten => s,1,GotoIfTime(08:00-17:59,*,*,*,America/New_York?open:closed)
             same => n(open),Hangup(17)
             same => n(closed),Hangup(21)
            """, exten: "s", at: utcDate(2026, 11, 23, 10, 0))
        #expect(events == [.hangup(.callRejected)])
    }
}
