import NIOCore
import NIOPosix
import Testing
@testable import RTPMedia

/// What pbxd needs from the relay to pass DTMF between legs in different methods: taking one
/// leg's telephone-events off a bridged stream (`intercept`) and putting its own RFC 4733 packets
/// into one (`inject`).
@Suite struct RelayDTMFInterworkingTests {
    /// Events seen by an intercepting detector; touched only on the session's loop.
    final class Sink: @unchecked Sendable {
        // @unchecked Sendable: written by the detector on the session's loop, read by the test
        // through `eventLoop.submit` on that same loop.
        var events: [DTMFEvent] = []
        func ends(on loop: EventLoop) async throws -> [Character] {
            try await loop.submit {
                self.events.compactMap { if case .end(let e) = $0 { e.digit.character } else { nil } }
            }.get()
        }
    }


    static func telephoneEvents(_ digit: Character, pt: UInt8, seq: UInt16, timestamp: UInt32 = 8000) -> [[UInt8]] {
        var encoder = DTMFEventEncoder(
            digit: DTMFDigit(digit)!, payloadType: pt, ssrc: 0xABCD, sequenceNumber: seq, timestamp: timestamp)
        return encoder.allPackets().map { Array($0.readableBytesView) }
    }

    /// A's phone sends audio and DTMF as PT 101; with PT 101 intercepted on A, Bob gets the audio
    /// only and the detector gets the key once; Bob→Alice is untouched.
    @Test func interceptedPayloadTypeGoesToHandlerNotToPeer() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        await session.start()
        let sink = Sink()
        await session.intercept(.a, payloadType: 101, handler: DTMFDetector(payloadType: 101) { sink.events.append($0) })
        let portA = session.localPort(.a), portB = session.localPort(.b)
        try await alice.send(rtpPacket(pt: 0, seq: 1), toPort: portA)
        for packet in Self.telephoneEvents("7", pt: 101, seq: 2) { try await alice.send(packet, toPort: portA) }
        try await alice.send(rtpPacket(pt: 0, seq: 20), toPort: portA)
        try await bob.send(rtpPacket(pt: 101, seq: 5, payload: 4), toPort: portB)
        #expect(try await eventually { (try? await sink.ends(on: session.eventLoop)) == ["7"] })
        let atBob = try await bob.waitFor(2)
        #expect(atBob.compactMap { RTPHeaderView($0.data)?.payloadType } == [0, 0])
        let atAlice = try await alice.waitFor(1)
        #expect(atAlice.first.flatMap { RTPHeaderView($0.data) }?.payloadType == 101)  // B→A still relayed
        let a = await session.counters(.a)
        #expect(a.interceptedPacketsIn == 7 && a.packetsIn == 9 && a.droppedNotForwarded == 0)
        await session.close()
        await alice.close(); await bob.close()
    }

    /// Interception and PT remapping share one table: a map set before or after keeps both, and
    /// ending the interception restores plain forwarding with the map.
    @Test func interceptionAndPayloadTypeMapCoexist() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        await session.setPayloadTypeMap(from: .a, [8: 18])
        await session.start()
        let sink = Sink()
        await session.intercept(.a, payloadType: 101, handler: DTMFDetector(payloadType: 101) { sink.events.append($0) })
        await session.setPayloadTypeMap(from: .a, [8: 9])  // later map keeps the interception
        let portA = session.localPort(.a)
        try await alice.send(rtpPacket(pt: 8, seq: 1), toPort: portA)
        try await alice.send(Self.telephoneEvents("1", pt: 101, seq: 2)[0], toPort: portA)  // a key's begin
        #expect(try await bob.waitFor(1).count == 1)
        #expect(try await eventually { (try? await session.eventLoop.submit { sink.events.count }.get()) == 1 })
        await session.intercept(.a, payloadType: nil, handler: nil)
        try await alice.send(rtpPacket(pt: 101, seq: 3, payload: 4), toPort: portA)
        let atBob = try await bob.waitFor(2)
        #expect(atBob.compactMap { RTPHeaderView($0.data)?.payloadType } == [9, 101])
        await session.close()
        await alice.close(); await bob.close()
    }

    /// pbxd's own packets go out of a bridged leg's socket to its phone; relaying goes on.
    @Test func injectSendsFromTheLegSocketWhileBridged() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        await session.start()
        let packets = Self.telephoneEvents("#", pt: 96, seq: 100)
        for packet in packets { #expect(await session.inject(.b, packet: ByteBuffer(bytes: packet))) }
        try await alice.send(rtpPacket(pt: 0, seq: 1), toPort: session.localPort(.a))
        let atBob = try await bob.waitFor(packets.count + 1)
        #expect(atBob.allSatisfy { $0.remoteAddress.port == session.localPort(.b) })
        let events = atBob.compactMap { RTPHeaderView($0.data) }.filter { $0.payloadType == 96 }
        #expect(events.count == packets.count)
        let last = events.compactMap { TelephoneEventPayload($0) }.last
        #expect(last?.event == 11 && last?.isEnd == true)
        #expect(atBob.contains { RTPHeaderView($0.data)?.payloadType == 0 })
        #expect(await session.counters(.b).packetsOut == packets.count + 1)
        await session.close()
        #expect(await session.inject(.b, packet: ByteBuffer(bytes: packets[0])) == false)
        await alice.close(); await bob.close()
    }

    /// A key that arrives outside the RTP (SIP INFO) stops an interruptible prompt as a detected
    /// RFC 4733 key does (`.interrupted`); a non-interruptible one plays on.
    @Test func interruptPlaybackFromOutsideTheStream() async throws {
        final class Ignore: LocalMediaHandler {
            func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult { .continue }
        }
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: Ignore())
        let steady = await local.play(ToneSource(frequency: 440, duration: .milliseconds(200)), codec: .pcmu)
        _ = try await phone.waitFor(2)
        await local.interruptPlayback()
        #expect(try await steady.outcome.get() == .finished)
        let prompt = await local.play(ToneSource(frequency: 440), codec: .pcmu, interruptible: true)
        _ = try await phone.waitFor(13)
        await local.interruptPlayback()
        #expect(try await prompt.outcome.get() == .interrupted)
        await session.close()
        await phone.close()
    }
}
