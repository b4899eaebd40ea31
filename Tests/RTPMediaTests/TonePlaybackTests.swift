import NIOCore
import Testing
@testable import RTPMedia

/// Playtones on a real leg: the cadence reaches a UDP "phone" paced at 20 ms, `stopTones` ends
/// it, and leaves a prompt alone.
@Suite struct TonePlaybackTests {
    @Test func tonesPlayUntilStoppedAndStopTonesSparesPrompts() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: LocalMediaTests.Ignore())

        // Congestion-like cadence 100 ms on / 100 ms off in A-law: 5 frames tone, 5 frames silence.
        let player = await local.playTones(try TonePlan(parsing: "480+620/100,0/100"), codec: .pcma)
        let got = try await phone.waitFor(20)
        #expect(got.count >= 20)
        #expect(await local.stopTones())
        #expect(try await player.outcome.get() == .stopped)
        let sent = await session.counters(.a).packetsOut
        try await Task.sleep(for: .milliseconds(60))
        #expect(await session.counters(.a).packetsOut == sent)
        let views = try await phone.received.map { RTPHeaderView($0.data)! }
        #expect(views.allSatisfy { $0.payloadType == 8 && $0.payloadLength == 160 })
        let levels = try await phone.received.prefix(20).map { e -> Int in
            let s = e.data.readableBytesView.dropFirst(12).map(G711.aLawDecode)
            return s.map { abs(Int($0)) }.reduce(0, +) / s.count
        }
        #expect(levels.map { $0 > 1000 } == (0..<20).map { $0 % 10 < 5 }, "\(levels)")

        // A prompt playing is not tones: StopPlaytones leaves it; a later playback replaced tones.
        let prompt = await local.play(ToneSource(frequency: 1000, duration: .milliseconds(200)), codec: .pcma)
        #expect(await !local.stopTones())
        #expect(try await prompt.outcome.get() == .finished)
        await session.close()
        await phone.close()
    }
}
