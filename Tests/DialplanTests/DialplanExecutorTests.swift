import PBXCore
import Testing
@testable import Dialplan

struct DialplanExecutorTests {
    @Test func dialSetsDialStatusAndContinues() async throws {
        let dialer = FakeDialer(results: [DialResult(status: .noAnswer, cause: .noAnswer)])
        let events = try await runCall("""
            [default]
            exten => 1001,1,Dial(SIP/1002,20)
             same => n,Hangup()
            """, exten: "1001", dialer: dialer)
        // Hangup() without a cause passes on the callee's cause (HANGUPCAUSE), as Asterisk does.
        #expect(events == [.dial(["SIP/1002"], timeout: .seconds(20), options: ""), .hangup(.noAnswer)])
    }

    @Test func dialStatusDrivesGotoIf() async throws {
        let dialer = FakeDialer(results: [DialResult(status: .busy, cause: .userBusy)])
        let channel = FakeChannel()
        let events = try await runCall("""
            [default]
            exten => 1001,1,Set(__ACCOUNT=42)
             same => n,Dial(SIP/1002&SIP/1003,20,tT)
             same => n,GotoIf($["${DIALSTATUS}" = "BUSY"]?busy)
             same => n,Hangup()
             same => n(busy),GotoIf($[${HANGUPCAUSE} = 17]?:wrong)
             same => n,Busy(2)
             same => n(wrong),Hangup(21)
            """, exten: "1001", channel: channel, dialer: dialer)
        #expect(events == [
            .dial(["SIP/1002", "SIP/1003"], timeout: .seconds(20), options: "tT"),
            .indicate(.busy), .wait(.seconds(2)), .hangup(.userBusy),
        ])
        #expect(dialer.recordedRequests.first?.inheritedVariables == ["__ACCOUNT": "42"])
    }

    @Test func answeredDialEndsTheCallUnlessOptionG() async throws {
        let plan = """
            [default]
            exten => 1001,1,Dial(SIP/1002,,${OPTS})
             same => n,Answer()
            exten => 1002,1,Set(OPTS=M(g))
             same => n,Goto(1001,1)
            exten => 1003,1,Set(OPTS=gM(x))
             same => n,Goto(1001,1)
            """
        let answered = DialResult(status: .answer, answeredChannelName: "SIP/1002-00000002")
        let withoutG = try await runCall(plan, exten: "1002", dialer: FakeDialer(results: [answered]))
        #expect(withoutG == [.dial(["SIP/1002"], timeout: nil, options: "M(g)"), .hangup(.normalClearing)])
        let withG = try await runCall(plan, exten: "1003", dialer: FakeDialer(results: [answered]))
        #expect(withG == [.dial(["SIP/1002"], timeout: nil, options: "gM(x)"), .answer, .hangup(.normalClearing)])
    }

    @Test func callerHangingUpDuringDialStopsTheDialplan() async throws {
        let events = try await runCall("""
            [default]
            exten => 1001,1,Dial(SIP/1002,30)
             same => n,Answer()
            """, exten: "1001", dialer: FakeDialer(results: [DialResult(status: .cancel)], callerHangsUp: true))
        #expect(events == [.dial(["SIP/1002"], timeout: .seconds(30), options: "")])
    }

    @Test func dialSkipsMalformedTargets() async throws {
        let dialer = FakeDialer(results: [DialResult(status: .chanUnavail)])
        let events = try await runCall("""
            [default]
            exten => 1001,1,Dial(SIP/1002&bogus&/x,abc)
             same => n,Dial(nothing-valid)
             same => n,GotoIf($[${DIALSTATUS} = CHANUNAVAIL]?:bad)
             same => n,Hangup(34)
             same => n(bad),Hangup(21)
            """, exten: "1001", dialer: dialer)
        #expect(events == [.dial(["SIP/1002"], timeout: nil, options: ""), .hangup(.normalCircuitCongestion)])
        #expect(dialer.recordedRequests.count == 1)
    }

    @Test(arguments: [
        ("Busy()", [ChannelEvent.indicate(.busy), .wait(.seconds(3600)), .hangup(.userBusy)]),
        ("Busy(5)", [.indicate(.busy), .wait(.seconds(5)), .hangup(.userBusy)]),
        ("Congestion()", [.indicate(.congestion), .wait(.seconds(3600)), .hangup(.normalCircuitCongestion)]),
        ("Congestion(1.5)", [.indicate(.congestion), .wait(.milliseconds(1500)), .hangup(.normalCircuitCongestion)]),
        ("Hangup(USER_BUSY)", [.hangup(.userBusy)]),
        ("Hangup(21)", [.hangup(.callRejected)]),
        ("Hangup(999)", [.hangup(.normalClearing)]),
        ("Ringing()", [.indicate(.ringing), .hangup(.normalClearing)]),
        ("Progress", [.indicate(.progress), .hangup(.normalClearing)]),
        ("Answer(500)", [.answer, .wait(.milliseconds(500)), .hangup(.normalClearing)]),
        ("Wait(0.25)", [.wait(.milliseconds(250)), .hangup(.normalClearing)]),
        ("Wait(1e300)", [.wait(.seconds(365 * 24 * 3600)), .hangup(.normalClearing)]),
        ("Busy(0)", [.indicate(.busy), .wait(.zero), .hangup(.userBusy)]),
    ])
    func indicationsAndCauses(_ application: String, _ expected: [ChannelEvent]) async throws {
        let events = try await runCall("[default]\nexten => s,1,\(application)\n", exten: "s")
        #expect(events == expected)
    }

    @Test func fallingOffTheEndHangsUpNormally() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Answer()
             same => n,NoOp(last)
            """, exten: "100")
        #expect(events == [.answer, .hangup(.normalClearing)])
    }

    @Test func fallingOffTheEndAfterBusyDialIndicatesBusy() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Dial(SIP/1002)
            """, exten: "100", dialer: FakeDialer(results: [DialResult(status: .busy)]))
        #expect(events == [.dial(["SIP/1002"], timeout: nil, options: ""), .indicate(.busy), .wait(.seconds(10)), .hangup(.userBusy)])
    }

    @Test func runawayLoopIsStopped() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,NoOp(spin)
             same => n,Set(X=1)
             same => n,Goto(1)
            """, exten: "100", log: log)
        #expect(events == [.hangup(.temporaryFailure)])
        let line = try #require(log.all.first { $0.message.contains("Dialplan loop") })
        #expect(line.level == .error)
        #expect(line.message.contains("10000 priorities"))
        #expect(line.metadata["uniqueid"] == "1732200000.1")
    }

    @Test func loopThatWaitsIsNotStopped() async throws {
        let log = LogCapture()
        let channel = FakeChannel(remoteHangupOnWait: 20)
        let events = try await runCall("""
            [default]
            exten => 100,1,NoOp
             same => n,Wait(1)
             same => n,Goto(1)
            """, exten: "100", channel: channel, log: log, maxInstant: 2)
        #expect(events == Array(repeating: .wait(.seconds(1)), count: 20))
        #expect(!log.messages.contains { $0.contains("Dialplan loop") })
    }

    @Test(arguments: ["Wait(${EMPTY})", "Wait(0)", "Dial(${EMPTY}nothing)", "Dial(SIP/offline)", "Answer()"])
    func loopThroughAnApplicationThatDidNotWaitIsStopped(_ application: String) async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,\(application)
             same => n,Goto(1)
            """, exten: "100", log: log, maxInstant: 50)
        #expect(events.last == .hangup(.temporaryFailure))
        #expect(log.messages.contains { $0.contains("Dialplan loop: 50 priorities") })
    }

    @Test func runStartsAtAGivenPriorityWithVariables() async throws {
        let executor = DialplanExecutor(dialplan: try loadDialplan("""
            [default]
            exten => 100,1,Hangup(21)
             same => n,GotoIf($["${CAMPAIGN}${ACCOUNT}" = "spring42"]?:bad)
             same => n,Set(CALLERID(num)=${ACCOUNT})
             same => n,Hangup(17)
             same => n(bad),Hangup(21)
            """), dialer: FakeDialer())
        let channel = FakeChannel()
        await executor.run(channel: channel, context: "default", exten: "100", priority: 2,
                           variables: ["CAMPAIGN": "spring", "__ACCOUNT": "42"])
        #expect(await channel.events == [.setCallerID(number: "42", name: "Alice"), .hangup(.userBusy)])
    }

    @Test func unknownApplicationHangsUpAndSaysWhere() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,Answer()
             same => n,FooBar(1)
             same => n,Answer()
            """, exten: "100", log: log)
        #expect(events == [.answer, .hangup(.normalClearing)])
        #expect(log.messages.contains { $0.contains("No application 'FooBar'") && $0.contains("100@default:2") && $0.contains("extensions.conf:3") })
    }

    @Test func hangupDuringWaitStopsExecution() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Answer()
             same => n,Wait(10)
             same => n,Answer()
             same => n,Hangup()
            """, exten: "100", channel: FakeChannel(remoteHangupOnWait: 1))
        #expect(events == [.answer, .wait(.seconds(10))])
    }

    @Test func gotoLabelsContextsAndRelativePriorities() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Set(COUNT=0)
             same => n(top),Set(COUNT=$[${COUNT} + 1])
             same => n,GotoIf($[${COUNT} < 3]?top:done)
             same => n(done),Goto(other,250,start)

            [other]
            exten => _2XX,1,Hangup(21)
             same => n(start),GotoIf($[${COUNT} = 3]?:bad)
             same => n,Goto(+2)
             same => n(bad),Hangup(21)
             same => n,GotoIf($["${EXTEN}@${CONTEXT}" = "250@other"]?:bad)
             same => n,Hangup(17)
            """, exten: "100")
        #expect(events == [.hangup(.userBusy)])
    }

    @Test func invalidExtensionGoesToIOrHangsUp() async throws {
        let withI = try await runCall("""
            [default]
            exten => 100,1,Goto(999,1)
            exten => i,1,GotoIf($[${INVALID_EXTEN} = 999]?:bad)
             same => n,Hangup(28)
             same => n(bad),Hangup(21)
            """, exten: "100")
        #expect(withI == [.hangup(.invalidNumberFormat)])
        let withoutI = try await runCall("[default]\nexten => 100,1,Goto(999,1)\n", exten: "100")
        #expect(withoutI == [.hangup(.unallocated)])
    }

    @Test func gotoUnknownLabelEndsTheCall() async throws {
        let log = LogCapture()
        let events = try await runCall("[default]\nexten => 100,1,Goto(nolabel)\n same => n,Answer\n", exten: "100", log: log)
        #expect(events == [.hangup(.normalClearing)])
        #expect(log.messages.contains { $0.contains("nolabel") })
    }

    @Test func unknownStartingExtensionIsUnallocated() async throws {
        let plan = "[default]\nexten => 100,1,Answer()\n"
        #expect(try !loadDialplan(plan).hasExtension(context: "default", exten: "555"))
        let events = try await runCall(plan, exten: "555")
        #expect(events == [.hangup(.unallocated)])
    }

    @Test func hangupExtensionRunsAfterTheCall() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Hangup(17)
            exten => h,1,Set(CALLERID(name)=after ${HANGUPCAUSE})
             same => n,Wait(1)
             same => n,Set(CALLERID(num)=done)
            """, exten: "100")
        // Waiting on a channel that is gone fails at once and ends `h`, as in Asterisk.
        #expect(events == [.hangup(.userBusy), .setCallerID(number: "1001", name: "after 17"), .wait(.seconds(1))])
    }

    @Test func cancellationHangsUp() async throws {
        let executor = DialplanExecutor(dialplan: try loadDialplan("[default]\nexten => 100,1,Answer()\n"), dialer: FakeDialer())
        let channel = FakeChannel()
        await withTaskGroup(of: Void.self) { group in
            group.cancelAll()
            group.addTask { await executor.run(channel: channel, context: "default", exten: "100") }
        }
        #expect(await channel.events == [.hangup(.normalClearing)])
    }

    @Test func callerIDChangeSwitchesToCallerIDExtension() async throws {
        // The Asterisk documentation's "unexpected jump": after Set(CALLERID(num)=200) the next
        // priority comes from the s/_2XX extension.
        let events = try await runCall("""
            [default]
            exten => s/_1XX,1,Set(CALLERID(num)=200)
             same => 2,Hangup(21)
            exten => s/_2XX,1,Hangup(28)
             same => 2,Hangup(17)
            """, exten: "s", channel: FakeChannel(callerIDNumber: "100"))
        #expect(events == [.setCallerID(number: "200", name: "Alice"), .hangup(.userBusy)])
    }
}
