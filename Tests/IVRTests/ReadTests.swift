import Testing
@testable import IVR

@Suite struct ReadTests {
    static let dialplan = """
        [default]
        exten => s,1,Read(NUM,enter-number,3)
         same => n,TestProbe(${NUM} ${READSTATUS})
        """

    @Test func stopsAtMaxDigits() async throws {
        let channel = IVRFakeChannel()
        await channel.press("|1234")
        let events = try await runIVR(Self.dialplan, channel: channel)
        #expect(events.first == .answer)
        #expect(events.contains(.play(["enter-number"], language: "en", interruptDigits: "0123456789*#ABCD")))
        // The first digit within the response timeout, the others within the digit timeout.
        #expect(receiveTimeouts(events) == [.seconds(10), .seconds(5), .seconds(5)])
        #expect(probes(events) == ["123 OK"])
    }

    @Test func aDigitDuringThePromptStartsTheInput() async throws {
        let channel = IVRFakeChannel()
        await channel.press("42#")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(receiveTimeouts(events) == [.seconds(5), .seconds(5)])
        #expect(probes(events) == ["42 OK"])
    }

    @Test func poundEndsInputAndOtherTerminators() async throws {
        let channel = IVRFakeChannel()
        await channel.press("|7#")
        #expect(probes(try await runIVR(Self.dialplan, channel: channel)) == ["7 OK"])

        let star = IVRFakeChannel()
        await star.press("5#6*")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,,,t(*))
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: star)
        #expect(probes(events) == ["5#6 OK"])
    }

    @Test func attemptsWithTimeoutEndInTimeout() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,3,,2,1)
             same => n,TestProbe([${NUM}] ${READSTATUS})
            """)
        #expect(played(events) == [["enter-number"], ["enter-number"]])
        #expect(receiveTimeouts(events) == [.seconds(1), .seconds(1)])
        #expect(probes(events) == ["[] TIMEOUT"])
    }

    @Test func aSecondAttemptCanSucceed() async throws {
        let channel = IVRFakeChannel()
        await channel.press("|_|9#")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,,,3)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(played(events).count == 2)
        #expect(probes(events) == ["9 OK"])
    }

    @Test func partialInputThenTimeoutKeepsTheDigits() async throws {
        let channel = IVRFakeChannel()
        await channel.press("|12")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,4,,3,2)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(played(events).count == 1)
        #expect(probes(events) == ["12 TIMEOUT"])
    }

    @Test func hangupSetsHangupAndEndsTheDialplan() async throws {
        let channel = IVRFakeChannel(hangUpWhenScriptEnds: true)
        await channel.press("|1")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,3)
             same => n,TestProbe(not reached)
            exten => h,1,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(probes(events) == ["1 HANGUP"])
    }

    @Test func skipAndNoAnswerOptions() async throws {
        let skipped = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,3,s)
             same => n,TestProbe([${NUM}] ${READSTATUS})
            """)
        #expect(played(skipped).isEmpty)
        #expect(probes(skipped) == ["[] SKIPPED"])

        let channel = IVRFakeChannel()
        await channel.press("|4#")
        let unanswered = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,enter-number,3,n)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(!unanswered.contains(.answer))
        #expect(probes(unanswered) == ["4 OK"])
    }

    @Test func indicationOptionSkipsThePromptButReads() async throws {
        let channel = IVRFakeChannel()
        await channel.press("8")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,dial,1,i)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(played(events).isEmpty)
        #expect(probes(events) == ["8 OK"])
    }

    @Test func missingPromptIsSkipped() async throws {
        let channel = IVRFakeChannel(missing: ["nope"])
        await channel.press("|5")
        let events = try await runIVR("""
            [default]
            exten => s,1,Read(NUM,nope&enter-number,1)
             same => n,TestProbe(${NUM} ${READSTATUS})
            """, channel: channel)
        #expect(played(events) == [["nope"], ["enter-number"]])
        #expect(probes(events) == ["5 OK"])
    }
}
