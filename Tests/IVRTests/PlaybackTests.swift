import Testing
@testable import IVR

@Suite struct PlaybackTests {
    @Test func answersThenPlaysEachFileInOrder() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Playback(hello-world&vm-goodbye)
             same => n,TestProbe(${PLAYBACKSTATUS})
            """)
        #expect(events == [
            .answer,
            .play(["hello-world"], language: "en", interruptDigits: ""),
            .play(["vm-goodbye"], language: "en", interruptDigits: ""),
            .probe("SUCCESS"),
            .hangup(.normalClearing),
        ])
    }

    @Test func missingFileFailsButTheOthersStillPlay() async throws {
        let log = IVRLog()
        let channel = IVRFakeChannel(missing: ["no-such-prompt"])
        let events = try await runIVR("""
            [default]
            exten => s,1,Playback(beep&no-such-prompt&vm-goodbye)
             same => n,TestProbe(${PLAYBACKSTATUS})
            """, channel: channel, log: log)
        #expect(played(events) == [["beep"], ["no-such-prompt"], ["vm-goodbye"]])
        #expect(probes(events) == ["FAILED"])
        #expect(log.messages(atLeast: .warning).contains { $0.contains("Playback failed") && $0.contains("no-such-prompt") })
    }

    @Test func noanswerAndSkipOptions() async throws {
        let noAnswer = try await runIVR("""
            [default]
            exten => s,1,Playback(beep,noanswer)
            """)
        #expect(!noAnswer.contains(.answer))
        #expect(played(noAnswer) == [["beep"]])

        let skipped = try await runIVR("""
            [default]
            exten => s,1,Playback(beep,skip)
             same => n,TestProbe(${PLAYBACKSTATUS})
            """)
        #expect(played(skipped).isEmpty)
        #expect(!skipped.contains(.answer))
        #expect(probes(skipped) == ["SUCCESS"])
    }

    @Test func playbackIsNotInterruptedByDigits() async throws {
        let channel = IVRFakeChannel()
        await channel.press("5")
        let events = try await runIVR("""
            [default]
            exten => s,1,Playback(beep)
             same => n,Read(X,,1)
             same => n,TestProbe(${X})
            """, channel: channel)
        // The digit stays buffered for the next application.
        #expect(probes(events) == ["5"])
    }

    @Test func sayApplicationsUseTheChannelLanguageAndDontAnswer() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,SayNumber(115)
             same => n,Set(LANGUAGE()=fr)
             same => n,SayAlpha(a1#)
             same => n,SayDigits(42)
             same => n,SayNumber(abc)
            """)
        #expect(events == [
            .play(["digits/1", "digits/hundred", "digits/15"], language: "en", interruptDigits: ""),
            .play(["letters/a", "digits/1", "digits/pound"], language: "fr", interruptDigits: ""),
            .play(["digits/4", "digits/2"], language: "fr", interruptDigits: ""),
            .hangup(.normalClearing),
        ])
    }
}
