import PBXCore
import Testing
@testable import IVR

@Suite struct PlaytonesTests {
    @Test func playsNamedToneAndGoesOnAtOnce() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Playtones(busy)
             same => n,TestProbe(after)
             same => n,StopPlaytones()
             same => n,Hangup()
            """)
        #expect(events.map(\.description) == [
            "answer", "tones(480+620/500,0/500,true)", "probe(after)", "stopTones", "hangup(16)",
        ])
    }

    @Test func toneZoneVariableChoosesTheCountry() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Set(TONEZONE=it)
             same => n,Playtones(dial)
             same => n,Set(TONEZONE=UK)
             same => n,Playtones(ring)
            """)
        let tones = events.compactMap { if case .tones(let plan, _) = $0 { plan } else { nil } }
        #expect(tones == ["425/200,0/200,425/600,0/1000", "400+450/400,0/200,400+450/400,0/2000"])
    }

    @Test func unknownZoneFallsBackToUSWithAWarning() async throws {
        let log = IVRLog()
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Set(TONEZONE=zz)
             same => n,Playtones(congestion)
            """, log: log)
        #expect(events.contains(.tones("480+620/250,0/250", started: true)))
        #expect(log.messages(atLeast: .warning).contains { $0.contains("unknown tone zone 'zz'") })
    }

    @Test func literalToneList() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Playtones(!950/330,!1400/330,!1800/330,0)
             same => n,TestProbe(on)
            """)
        #expect(events.contains(.tones("!950/330,!1400/330,!1800/330,0", started: true)))
        #expect(probes(events) == ["on"])
    }

    @Test func badToneListOrNoArgumentEndsTheCall() async throws {
        let log = IVRLog()
        let events = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Playtones(440/fast)
             same => n,TestProbe(not reached)
            """, log: log)
        #expect(probes(events).isEmpty)
        #expect(!events.contains { if case .tones = $0 { true } else { false } })
        #expect(log.messages(atLeast: .warning).contains {
            $0.contains("bad tone element '440/fast': duration 'fast' is not a number of milliseconds")
        })

        let log2 = IVRLog()
        let events2 = try await runIVR("""
            [default]
            exten => s,1,Answer()
             same => n,Playtones()
             same => n,TestProbe(not reached)
            """, log: log2)
        #expect(probes(events2).isEmpty)
        #expect(log2.messages(atLeast: .warning).contains { $0.contains("Playtones requires an argument") })
    }

    /// Before Answer there is no media: logged, and the dialplan goes on.
    @Test func unansweredChannelGoesOn() async throws {
        let events = try await runIVR("""
            [default]
            exten => s,1,Playtones(ring)
             same => n,TestProbe(on)
            """)
        #expect(events.contains(.tones("440+480/2000,0/4000", started: false)))
        #expect(probes(events) == ["on"])
    }
}
