import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import RTPMedia

/// Goertzel power of `frequency` in `samples` (8 kHz), normalised by length.
func goertzelPower(_ samples: [Int16], frequency: Double, sampleRate: Double = 8000) -> Double {
    let coefficient = 2 * cos(2 * Double.pi * frequency / sampleRate)
    var s1 = 0.0, s2 = 0.0
    for x in samples {
        let s0 = Double(x) + coefficient * s1 - s2
        s2 = s1
        s1 = s0
    }
    return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / Double(samples.count * samples.count)
}

/// Collects the DTMF events a detector reports, from the session's loop.
final class EventLog: Sendable {
    private let events = NIOLockedValueBox<[DTMFEvent]>([])
    func append(_ e: DTMFEvent) { self.events.withLockedValue { $0.append(e) } }
    var all: [DTMFEvent] { self.events.withLockedValue { $0 } }
    var ends: [DTMFEnd] { self.all.compactMap { if case .end(let e) = $0 { e } else { nil } } }
}

/// Loopback tests of local media on a leg (IVR): playback to a real UDP "phone", DTMF from it.
@Suite struct LocalMediaTests {

    final class Ignore: LocalMediaHandler {
        func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult { .continue }
    }

    /// 1 s of a 1 kHz tone: 50 packets at 20 ms, one talkspurt, decodes to the tone.
    @Test func playsOneSecondPacedWithCorrectHeaders() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: Ignore())
        #expect(local.clock === relay.mediaClock(for: session.eventLoop))
        let started = ContinuousClock.now
        let player = await local.play(ToneSource(frequency: 1000, duration: .seconds(1)), codec: .pcmu)
        #expect(try await player.outcome.get() == .finished)
        let elapsed = ContinuousClock.now - started
        let got = try await phone.waitFor(50)
        try await Task.sleep(for: .milliseconds(30))
        let all = try await phone.received
        #expect(all.count == 50)
        // Paced, not sent in a burst: 50 frames take about 1 s (first one within 20 ms).
        #expect(elapsed > .milliseconds(960) && elapsed < .milliseconds(1300), "took \(elapsed)")
        #expect(all.allSatisfy { $0.remoteAddress.port == session.localPort(.a) })  // from the leg's socket
        let views = all.map { RTPHeaderView($0.data)! }
        let seqs = views.map(\.sequenceNumber), stamps = views.map(\.timestamp)
        for i in 1..<views.count {
            #expect(seqs[i] == seqs[i - 1] &+ 1)
            #expect(stamps[i] == stamps[i - 1] &+ 160)
        }
        #expect(views.map(\.marker) == [true] + Array(repeating: false, count: 49))
        #expect(views.allSatisfy { $0.payloadType == 0 && $0.ssrc == views[0].ssrc && $0.payloadLength == 160 })
        let samples = all.flatMap { e in
            Array(e.data.readableBytesView.dropFirst(12)).map(G711.muLawDecode)
        }
        let tone = goertzelPower(samples, frequency: 1000), off = goertzelPower(samples, frequency: 1400)
        #expect(tone > 1_000 * off, "1 kHz \(tone) vs 1.4 kHz \(off)")
        #expect(got.count >= 50)
        let c = await session.counters(.a)
        #expect(c.packetsOut == 50 && c.bytesOut == 50 * 172)
        #expect(try await session.mediaClock.eventLoop.submit { session.mediaClock.subscriberCount }.get() == 0)
        await session.close()
        await phone.close()
    }

    /// Stop mid-playback: once `stop()` returned, no packet leaves; what left before arrives.
    @Test func stopTakesEffectImmediately() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: Ignore())
        let outcomes = NIOLockedValueBox<[PlaybackOutcome]>([])
        let player = await local.play(ToneSource(frequency: 440), codec: .pcma) { o in outcomes.withLockedValue { $0.append(o) } }
        _ = try await phone.waitFor(10)
        await player.stop()
        let sentAtStop = await session.counters(.a).packetsOut
        try await Task.sleep(for: .milliseconds(60))
        let received = try await phone.received
        #expect(sentAtStop >= 10)
        #expect(await session.counters(.a).packetsOut == sentAtStop)
        #expect(received.count == sentAtStop, "\(received.count) received, \(sentAtStop) sent before stop")
        #expect(try await player.outcome.get() == .stopped)
        #expect(outcomes.withLockedValue { $0 } == [.stopped])
        await player.stop()  // again: no-op, no second outcome
        #expect(outcomes.withLockedValue { $0 } == [.stopped])

        // A new playback continues the stream: same SSRC, next sequence number, new talkspurt,
        // timestamp moved on by the real pause (60+ ms) rather than restarting.
        let second = await local.play(ToneSource(frequency: 440, duration: .milliseconds(40)), codec: .pcma)
        #expect(try await second.outcome.get() == .finished)
        let all = try await phone.waitFor(sentAtStop + 2)
        let views = all.map { RTPHeaderView($0.data)! }
        let last = views[sentAtStop - 1], next = views[sentAtStop]
        #expect(next.ssrc == last.ssrc && next.sequenceNumber == last.sequenceNumber &+ 1 && next.marker)
        #expect(next.payloadType == 8)
        let gap = next.timestamp &- last.timestamp
        #expect(gap >= 160 * 4 && gap % 160 == 0 && gap < 8000, "timestamp gap \(gap)")
        await session.close()
        await phone.close()
    }

    /// The phone sends "1" then "#" as RFC 4733 with the three end packets, one end packet
    /// retransmitted later and audio in between: exactly two digits with their durations; an
    /// interruptible prompt stops on the first one.
    @Test func detectsRFC4733DigitsAndInterruptsPrompt() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let log = EventLog()
        let local = try await session.attachLocal(.a, handler: DTMFDetector(payloadType: 101) { log.append($0) })
        let prompt = await local.play(ToneSource(frequency: 800), codec: .pcmu, interruptible: true)
        _ = try await phone.waitFor(3)

        let port = session.localPort(.a)
        var seq: UInt16 = 1000
        func send(_ bytes: [UInt8]) async throws {
            try await phone.send(bytes, toPort: port)
            seq &+= 1
        }
        try await send(rtpPacket(pt: 0, seq: seq))
        var one = DTMFEventEncoder(digit: DTMFDigit("1")!, payloadType: 101, ssrc: 7, sequenceNumber: 2000, timestamp: 16000)
        let onePackets = one.allPackets()
        for p in onePackets { try await phone.send(Array(p.readableBytesView), toPort: port) }
        #expect(try await prompt.outcome.get() == .interrupted)
        try await send(rtpPacket(pt: 0, seq: seq))
        try await phone.send(Array(onePackets.last!.readableBytesView), toPort: port)  // retransmission
        var pound = DTMFEventEncoder(
            digit: DTMFDigit("#")!, payloadType: 101, ssrc: 7, sequenceNumber: 2010, timestamp: 24000,
            duration: .milliseconds(60))
        for p in pound.allPackets() { try await phone.send(Array(p.readableBytesView), toPort: port) }
        // Telephone-event with another PT (not negotiated) is not a digit.
        try await phone.send(telephoneEventPacket("9", end: true, duration: 800, timestamp: 40000, seq: 3000, pt: 96), toPort: port)

        #expect(try await eventually { log.ends.count >= 2 })
        #expect(try await eventually { await session.counters(.a).localPacketsIn == 1 + 7 + 1 + 1 + 5 + 1 })  // audio, "1", audio, retransmission, "#", PT 96
        let ends = log.ends
        #expect(ends.map(\.digit.character) == ["1", "#"])
        #expect(ends.map(\.durationSamples) == [800, 480])
        #expect(ends.map(\.duration) == [.milliseconds(100), .milliseconds(60)])
        #expect(log.all.count == 4)  // begin 1, end 1, begin #, end #
        #expect(await session.counters(.a).droppedNotForwarded == 0)
        await session.close()
        await phone.close()
    }

    /// `start()` detaches local media (playback ends as stopped) and bridging works as before;
    /// local media cannot be attached to a bridged session.
    @Test func bridgingDetachesLocalMediaAndStillRelays() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        let log = EventLog()
        let local = try await session.attachLocal(.a, handler: DTMFDetector(payloadType: 101) { log.append($0) })
        let player = await local.play(ToneSource(frequency: 1000), codec: .pcmu)
        _ = try await alice.waitFor(2)
        // Before start: Alice's packets go to local media, not to Bob.
        try await alice.send(telephoneEventPacket("5", end: true, duration: 800, timestamp: 1, seq: 1), toPort: session.localPort(.a))
        #expect(try await eventually { log.ends.count == 1 })

        await session.start()
        #expect(try await player.outcome.get() == .stopped)
        #expect(await local.isAttached == false)
        let playedToAlice = await session.counters(.a).packetsOut
        await #expect(throws: RelaySessionError.bridged) { try await session.attachLocal(.a, handler: Ignore()) }
        let late = await local.play(ToneSource(frequency: 1000), codec: .pcmu)
        #expect(try await late.outcome.get() == .stopped)
        #expect(await local.send(ByteBuffer(bytes: rtpPacket(pt: 0, seq: 9))) == false)

        try await alice.send(telephoneEventPacket("6", end: true, duration: 800, timestamp: 9, seq: 2), toPort: session.localPort(.a))
        try await alice.send(rtpPacket(pt: 0, seq: 3), toPort: session.localPort(.a))
        try await bob.send(rtpPacket(pt: 0, seq: 50), toPort: session.localPort(.b))
        let atBob = try await bob.waitFor(2)
        #expect(atBob.compactMap { RTPHeaderView($0.data)?.sequenceNumber }.sorted() == [2, 3])
        #expect(try await eventually { (try? await alice.received.count) == playedToAlice + 1 })
        try await Task.sleep(for: .milliseconds(40))
        #expect(log.ends.count == 1)  // the bridged digit went to Bob, not to the detector
        #expect(await session.counters(.a).packetsOut == playedToAlice + 1)  // no more tone
        await session.close()
        await alice.close(); await bob.close()
    }

    /// Detach, re-attach, and two legs playing at once on the one clock.
    @Test func detachAndBothLegsShareTheClock() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        let a = try await session.attachLocal(.a, handler: Ignore())
        let b = try await session.attachLocal(.b, handler: Ignore())
        let pa = await a.play(ToneSource(frequency: 1000, duration: .milliseconds(200)), codec: .pcmu)
        let pb = await b.play(ToneSource(frequency: 500, duration: .milliseconds(200)), codec: .pcma)
        #expect(try await session.mediaClock.eventLoop.submit { session.mediaClock.subscriberCount }.get() == 2)
        #expect(try await pa.outcome.get() == .finished)
        #expect(try await pb.outcome.get() == .finished)
        #expect(try await alice.waitFor(10).count == 10)
        #expect(try await bob.waitFor(10).count == 10)

        await session.detachLocal(.a)
        #expect(await a.isAttached == false)
        #expect(await b.isAttached == true)
        try await alice.send(rtpPacket(pt: 0, seq: 1), toPort: session.localPort(.a))
        #expect(try await eventually { await session.counters(.a).droppedNotForwarded == 1 })
        let again = try await session.attachLocal(.a, handler: Ignore())
        try await alice.send(rtpPacket(pt: 0, seq: 2), toPort: session.localPort(.a))
        #expect(try await eventually { await session.counters(.a).localPacketsIn == 1 })
        // Re-attaching replaces the attachment: the older endpoint is inert.
        let third = try await session.attachLocal(.a, handler: Ignore())
        #expect(await again.isAttached == false)
        #expect(await third.isAttached == true)
        await session.close()
        #expect(await third.isAttached == false)
        await #expect(throws: RelaySessionError.closed) { try await session.attachLocal(.b, handler: Ignore()) }
        await alice.close(); await bob.close()
    }
}
