import Testing
@testable import IVR

/// Background + WaitExten menus: digits collected toward an extension, `i` and `t`.
@Suite struct MenuTests {
    static let menu = """
        [default]
        exten => s,1,Set(TIMEOUT(digit)=2)
         same => n,Background(press-1&or-12)
         same => n,WaitExten(3)
        exten => 1,1,TestProbe(one)
        exten => 12,1,TestProbe(twelve)
        exten => 3,1,TestProbe(three)
        exten => i,1,TestProbe(invalid ${INVALID_EXTEN})
        exten => t,1,TestProbe(timeout)
        """

    @Test func backgroundInterruptedByADigitGoesToThatExtension() async throws {
        let channel = IVRFakeChannel()
        await channel.press("3")
        let events = try await runIVR(Self.menu, channel: channel)
        #expect(events.first == .answer)
        #expect(events.contains(.play(["press-1", "or-12"], language: "en", interruptDigits: "0123456789*#ABCD")))
        // `3` can't be the start of anything longer: no waiting for more digits.
        #expect(receiveTimeouts(events).isEmpty)
        #expect(probes(events) == ["three"])
    }

    @Test func digitsDuringBackgroundCollectTheLongestMatch() async throws {
        let channel = IVRFakeChannel()
        await channel.press("12")
        let events = try await runIVR(Self.menu, channel: channel)
        #expect(receiveTimeouts(events) == [.seconds(2)])
        #expect(probes(events) == ["twelve"])
    }

    @Test func aPrefixThatIsAlsoAnExtensionWinsAfterTheDigitTimeout() async throws {
        let channel = IVRFakeChannel()
        await channel.press("1_2")
        let events = try await runIVR(Self.menu, channel: channel)
        #expect(receiveTimeouts(events) == [.seconds(2)])
        #expect(probes(events) == ["one"])
    }

    @Test func waitExtenAfterBackgroundCollectsTwelve() async throws {
        let channel = IVRFakeChannel()
        // Pressed only once the prompt has finished: WaitExten gets them.
        await channel.press("|12")
        let events = try await runIVR(Self.menu, channel: channel)
        #expect(receiveTimeouts(events) == [.seconds(3), .seconds(2)])
        #expect(probes(events) == ["twelve"])
    }

    @Test func waitExtenTimeoutGoesToT() async throws {
        let events = try await runIVR(Self.menu)
        #expect(receiveTimeouts(events) == [.seconds(3)])
        #expect(probes(events) == ["timeout"])
    }

    @Test func waitExtenTimeoutContinuesWhenThereIsANextPriority() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,WaitExten()
             same => n,TestProbe(next)
            exten => t,1,TestProbe(timeout)
            """)
        // The default response timeout is 10 s.
        #expect(receiveTimeouts(events) == [.seconds(10)])
        #expect(probes(events) == ["next"])
    }

    @Test func waitExtenTimeoutWithoutTHangsUp() async throws {
        let log = IVRLog()
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,WaitExten(1.5)
            exten => 1,1,TestProbe(one)
            """, log: log)
        #expect(receiveTimeouts(events) == [.milliseconds(1500)])
        #expect(events.last == .hangup(.normalClearing))
        #expect(log.messages(atLeast: .warning).contains { $0.contains("no rule 't'") })
    }

    @Test func invalidDigitsGoToIWithInvalidExten() async throws {
        let channel = IVRFakeChannel()
        await channel.press("|9")
        let events = try await runIVR(Self.menu, channel: channel)
        #expect(probes(events) == ["invalid 9"])

        // `1` then `5`: "15" can't match anything.
        let second = IVRFakeChannel()
        await second.press("15")
        #expect(probes(try await runIVR(Self.menu, channel: second)) == ["invalid 15"])
    }

    @Test func invalidDigitsWithoutIHangUp() async throws {
        let channel = IVRFakeChannel()
        await channel.press("9")
        let events = try await runIVR("""
            [default]
            exten => s,1,Background(menu)
             same => n,TestProbe(not reached)
            exten => 1,1,TestProbe(one)
            """, channel: channel)
        #expect(probes(events).isEmpty)
        #expect(events.last == .hangup(.normalClearing))
    }

    @Test func backgroundOptionsAndContextArgument() async throws {
        let channel = IVRFakeChannel()
        await channel.press("2")
        let events = try await runIVR("""
            [default]
            exten => s,1,Background(menu,nm,,sales)
            [sales]
            exten => 2,1,TestProbe(sales ${CONTEXT} ${EXTEN})
            """, channel: channel)
        // `n`: not answered; `m`: only one-digit extensions of the target context interrupt.
        #expect(!events.contains(.answer))
        #expect(events.contains(.play(["menu"], language: "en", interruptDigits: "2")))
        #expect(probes(events) == ["sales sales 2"])
    }

    @Test func backgroundWithoutDigitsContinues() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Background(menu,,de)
             same => n,TestProbe(after)
            """)
        #expect(events.contains(.play(["menu"], language: "de", interruptDigits: "0123456789*#ABCD")))
        #expect(probes(events) == ["after"])
    }

    @Test func backgroundStatusReportsAMissingFile() async throws {
        let log = IVRLog()
        let events = try await runIVR("""
            [default]
            exten => s,1,Background(menu)
             same => n,TestProbe(${BACKGROUNDSTATUS})
             same => n,Background(no-such-menu)
             same => n,TestProbe(${BACKGROUNDSTATUS})
            """, channel: IVRFakeChannel(missing: ["no-such-menu"]), log: log)
        #expect(probes(events) == ["SUCCESS", "FAILED"])
        #expect(log.messages(atLeast: .warning).contains { $0.contains("no-such-menu") })
    }

    @Test func timeoutFunctionReadsDefaultsAndWrites() async throws {
        let log = IVRLog()
        let events = try await runIVR("""
            [default]
            exten => s,1,TestProbe(${TIMEOUT(digit)} ${TIMEOUT(response)})
             same => n,Set(TIMEOUT(response)=2.5)
             same => n,TestProbe(${TIMEOUT(response)})
             same => n,Set(TIMEOUT(digit)=zero)
             same => n,TestProbe(${TIMEOUT(digit)})
            """, log: log)
        // A bad value is refused with a warning and the old timeout stays.
        #expect(probes(events) == ["5 10", "2.5", "5"])
        #expect(log.messages(atLeast: .warning).contains { $0.contains("TIMEOUT(digit): 'zero'") })
    }
}
