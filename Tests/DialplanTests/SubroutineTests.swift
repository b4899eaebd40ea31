import PBXCore
import Testing
@testable import Dialplan

/// Gosub/Return/GosubIf/StackPop, While/EndWhile/ExitWhile/ContinueWhile and MSet, observed
/// through what the dialplan writes into the caller ID name and the cause it hangs up with.
struct SubroutineTests {
    @Test func gosubPassesArgumentsAndTheCallerUsesTheReturnValue() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Gosub(sub-add,s,1(2,3))
             same => n,Set(CALLERID(name)=sum ${GOSUB_RETVAL} argc [${ARGC}] arg1 [${ARG1}] tmp [${TMP}])
             same => n,Hangup(16)

            [sub-add]
            exten => s,1,Set(LOCAL(TMP)=$[${ARG1} + ${ARG2}])
             same => n,Return(${TMP}|${ARGC})
            """, exten: "100")
        // ARGn, ARGC and LOCAL() variables are gone once the subroutine has returned.
        #expect(events == [.setCallerID(number: "1001", name: "sum 5|2 argc [] arg1 [] tmp []"), .hangup(.normalClearing)])
    }

    @Test func nestedGosubHasItsOwnArgumentsAndRestoresTheCallers() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Set(ARG1=caller)
             same => n,Gosub(outer,s,1(a,b,c))
             same => n,Set(CALLERID(name)=${GOSUB_RETVAL} ${ARG1})

            [outer]
            exten => s,1,Gosub(inner,s,1(x))
             same => n,Return(${GOSUB_RETVAL}/${ARG1}${ARG2}${ARG3}/${ARGC})

            [inner]
            exten => s,1,Return(${ARG1}${ARG2}${ARG3}:${ARGC})
            """, exten: "100")
        // The inner call sees only its one argument, the outer one gets its three back, and
        // the caller's own ARG1 (an ordinary variable before the Gosub) is restored.
        #expect(events == [.setCallerID(number: "1001", name: "x:1/abc/3 caller"), .hangup(.normalClearing)])
    }

    @Test func gosubIfChoosesABranchWithArgumentsOrGoesOn() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,GosubIf($[1 = 1]?yes(1):no(2))
             same => n,GosubIf($[1 = 2]?yes(3):no(4))
             same => n,GosubIf(0?yes(5))
             same => n,Gosub(yes(${EMPTY}))
             same => n,Set(CALLERID(name)=${R})
             same => n,Hangup(16)
             same => n(yes),Set(R=${R}y${ARG1}${ARGC})
             same => n,Return
             same => n(no),Set(R=${R}n${ARG1}${ARGC})
             same => n,Return()
            """, exten: "100")
        #expect(events == [.setCallerID(number: "1001", name: "y11n41y0"), .hangup(.normalClearing)])
    }

    @Test func gosubQuotedArgumentsKeepTheirQuotesAndCommas() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Gosub(show("a,b",c))
             same => n,Hangup(16)
             same => n(show),Set(CALLERID(name)=${ARGC}:${ARG1}:${ARG2})
             same => n,Return
            """, exten: "100")
        #expect(events.first == .setCallerID(number: "1001", name: "2:\"a,b\":c"))
    }

    @Test func stackPopForgetsTheReturnAddress() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,Gosub(sub)
             same => n,Hangup(21)
             same => n(sub),StackPop()
             same => n,Return
            """, exten: "100", log: log)
        #expect(events == [.hangup(.normalClearing)])
        #expect(log.messages.contains { $0.contains("Return without Gosub") })
    }

    @Test(arguments: [
        ("Gosub(nowhere,s,1)", "non-existent destination"),
        ("Gosub(nolabel)", "nolabel"),
        ("Return(1)", "Return without Gosub"),
        ("Set(LOCAL(X)=1)", "aren't within a Gosub"),
    ])
    func subroutineErrorsEndTheCallAndSaySo(_ application: String, _ message: String) async throws {
        let log = LogCapture()
        let events = try await runCall("[default]\nexten => 100,1,\(application)\n same => n,Hangup(21)\n", exten: "100", log: log)
        #expect(events == [.hangup(.normalClearing)])
        #expect(log.messages.contains { $0.contains(message) }, "\(log.messages)")
    }

    @Test func recursionThatWaitsIsStoppedAtTheStackLimit() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,Wait(1)
             same => n,Gosub(1)
            """, exten: "100", log: log, maxInstant: 5)
        // Each level waits, so the loop guard never fires; the Gosub stack limit does.
        #expect(events.count == ChannelExecution.maxGosubDepth + 2)
        #expect(events.last == .hangup(.normalClearing))
        #expect(log.messages.contains { $0.contains("Gosub nested deeper than 1000 levels") })
    }

    @Test func whileCountsToFiveAndExits() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Set(I=0)
             same => n,While($[${I} < 5])
             same => n,Set(I=$[${I} + 1])
             same => n,Set(SEEN=${SEEN}${I})
             same => n,EndWhile()
             same => n,Set(CALLERID(name)=${SEEN} ${I})
             same => n,Hangup(17)
            """, exten: "100")
        #expect(events == [.setCallerID(number: "1001", name: "12345 5"), .hangup(.userBusy)])
    }

    @Test func nestedLoopsWithContinueAndExit() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,Set(I=0)
             same => n,While(1)
             same => n,Set(I=$[${I} + 1])
             same => n,ExecIf($[${I} = 2]?ContinueWhile)
             same => n,ExecIf($[${I} > 4]?ExitWhile)
             same => n,Set(J=0)
             same => n,While($[${J} < 2])
             same => n,Set(J=$[${J} + 1])
             same => n,Set(SEEN=${SEEN}${I}${J},)
             same => n,EndWhile
             same => n,EndWhile
             same => n,Set(CALLERID(name)=${SEEN}end)
            """, exten: "100")
        #expect(events == [.setCallerID(number: "1001", name: "11,12,31,32,41,42,end"), .hangup(.normalClearing)])
    }

    @Test(arguments: [
        // A false While the first time round skips to after its own EndWhile, past nested loops.
        """
        exten => 100,1,While(0)
         same => n,While(1)
         same => n,Hangup(21)
         same => n,EndWhile
         same => n,Hangup(21)
         same => n,EndWhile
         same => n,Hangup(17)
        """,
        // ExitWhile before EndWhile has ever run finds it by scanning too.
        """
        exten => 100,1,While(1)
         same => n,ExitWhile
         same => n,Hangup(21)
         same => n,EndWhile
         same => n,Hangup(17)
        """,
    ])
    func loopEndsAreFoundByScanningThePriorities(_ extensionText: String) async throws {
        let events = try await runCall("[default]\n\(extensionText)\n", exten: "100")
        #expect(events == [.hangup(.userBusy)])
    }

    @Test func whileWithoutEndWhileWarnsAndGoesOn() async throws {
        let log = LogCapture()
        let events = try await runCall("[default]\nexten => 100,1,While(0)\n same => n,Hangup(17)\n", exten: "100", log: log)
        #expect(events == [.hangup(.userBusy)])
        #expect(log.messages.contains { $0.contains("Couldn't find matching EndWhile") })
    }

    @Test func runawayWhileIsStoppedByTheLoopGuard() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,While(1)
             same => n,NoOp(spinning)
             same => n,EndWhile
            """, exten: "100", log: log, maxInstant: 100)
        #expect(events == [.hangup(.temporaryFailure)])
        #expect(log.messages.contains { $0.contains("Dialplan loop: 100 priorities") })
    }

    @Test func whileLoopThatWaitsRunsUntilTheCallerHangsUp() async throws {
        let events = try await runCall("""
            [default]
            exten => 100,1,While(1)
             same => n,Wait(1)
             same => n,EndWhile
            """, exten: "100", channel: FakeChannel(remoteHangupOnWait: 30), maxInstant: 5)
        #expect(events == Array(repeating: .wait(.seconds(1)), count: 30))
    }

    @Test func mSetAssignsSeveralVariablesAndFunctions() async throws {
        let log = LogCapture()
        let events = try await runCall("""
            [default]
            exten => 100,1,MSet(A=1,B="two, three",CALLERID(name)=multi,junk)
             same => n,Set(CALLERID(num)=${A}|${B})
            """, exten: "100", log: log)
        #expect(events == [.setCallerID(number: "1001", name: "multi"), .setCallerID(number: "1|two, three", name: "multi"),
                           .hangup(.normalClearing)])
        #expect(log.messages.contains { $0.contains("MSet: ignoring entry 'junk'") })
    }
}
