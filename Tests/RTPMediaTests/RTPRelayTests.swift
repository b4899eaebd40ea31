import NIOCore
import NIOPosix
import Testing
@testable import RTPMedia

/// Loopback tests: real UDP sockets, an in-process relay, two "phones" (STYLE.md §11).
@Suite struct RTPRelayTests {

    @Test func forwardsBothWaysWithRTCPAndCounters() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        let aliceRTCP = try await TestPhone.make(), bobRTCP = try await TestPhone.make()
        await session.setRemote(.a, alice.address, rtcp: aliceRTCP.address)
        await session.setRemote(.b, bob.address, rtcp: bobRTCP.address)
        await session.start()
        let portA = session.localPort(.a), portB = session.localPort(.b)
        #expect(portA % 2 == 0 && portB % 2 == 0 && portA != portB)

        for seq in 0..<10 { try await alice.send(rtpPacket(pt: 0, seq: UInt16(seq)), toPort: portA) }
        for seq in 0..<5 { try await bob.send(rtpPacket(pt: 8, seq: UInt16(seq), payload: 80), toPort: portB) }
        let atBob = try await bob.waitFor(10)
        let atAlice = try await alice.waitFor(5)
        #expect(atBob.count == 10 && atAlice.count == 5)
        // Sent from B's relay socket (so Bob's symmetric RTP answers to the right port), bytes unchanged.
        #expect(atBob.allSatisfy { $0.remoteAddress.port == portB })
        #expect(atAlice.allSatisfy { $0.remoteAddress.port == portA })
        #expect(atBob.map(\.data.readableBytes) == Array(repeating: 172, count: 10))
        #expect(atBob.allSatisfy { e in (0..<10).contains { Array(e.data.readableBytesView) == rtpPacket(pt: 0, seq: UInt16($0)) } })
        #expect(Set(atBob.compactMap { RTPHeaderView($0.data)?.sequenceNumber }) == Set(0..<10))

        // RTCP RR from Alice's RTCP socket to A's port+1 reaches Bob's RTCP socket.
        let rr: [UInt8] = [0x80, 201, 0x00, 0x01, 0, 0, 0, 1]
        try await aliceRTCP.send(rr, toPort: portA + 1)
        let rtcpAtBob = try await bobRTCP.waitFor(1)
        #expect(rtcpAtBob.first.map { Array($0.data.readableBytesView) } == rr)
        #expect(rtcpAtBob.first?.remoteAddress.port == portB + 1)

        let a = await session.counters(.a), b = await session.counters(.b)
        #expect(a.packetsIn == 10 && a.bytesIn == 10 * 172 + 8 && a.packetsOut == 5 && a.bytesOut == 5 * 92)
        #expect(b.packetsIn == 5 && b.packetsOut == 10 && b.rtcpPacketsOut == 1 && a.rtcpPacketsIn == 1)
        #expect(a.droppedWrongSource == 0 && a.droppedInvalid == 0)

        await session.close()
        for p in [alice, bob, aliceRTCP, bobRTCP] { await p.close() }
    }

    /// Bob's phone sends telephone-event as 101, Alice's expects 96: rewritten A←B only; the
    /// marker bit survives; RTCP and unmapped PTs are not touched.
    @Test func rewritesPayloadType() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        await session.setPayloadTypeMap(from: .b, [101: 96])
        await session.start()
        try await bob.send(rtpPacket(pt: 101, seq: 1, marker: true, payload: 4), toPort: session.localPort(.b))
        try await bob.send(rtpPacket(pt: 0, seq: 2), toPort: session.localPort(.b))
        try await alice.send(rtpPacket(pt: 101, seq: 3, payload: 4), toPort: session.localPort(.a))
        let atAlice = try await alice.waitFor(2)
        let atBob = try await bob.waitFor(1)
        let alicePTs = atAlice.compactMap { RTPHeaderView($0.data) }.map { ($0.sequenceNumber, $0.payloadType, $0.marker) }
        #expect(alicePTs.contains { $0 == (1, 96, true) })
        #expect(alicePTs.contains { $0 == (2, 0, false) })
        #expect(atBob.first.flatMap { RTPHeaderView($0.data) }?.payloadType == 101)  // A→B has no map
        // Only the PT byte changed.
        var expected = rtpPacket(pt: 101, seq: 1, marker: true, payload: 4)
        expected[1] = 0x80 | 96
        #expect(atAlice.contains { Array($0.data.readableBytesView) == expected })
        await session.close()
        await alice.close(); await bob.close()
    }

    /// Symmetric RTP: the leg latches onto the real source (the SDP said another port, as with
    /// a phone behind NAT), then drops a third party; `setRemote` again re-arms the latch.
    @Test func latchesOnFirstSourceAndDropsOthers() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let natted = try await TestPhone.make(), bob = try await TestPhone.make(), intruder = try await TestPhone.make()
        let sdpAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 9)  // discard port: nothing listens
        await session.setRemote(.a, sdpAddress)
        await session.setRemote(.b, bob.address)
        await session.start()
        let portA = session.localPort(.a), portB = session.localPort(.b)

        try await natted.send(rtpPacket(pt: 0, seq: 1), toPort: portA)
        try await bob.waitFor(1)
        #expect(await session.remote(.a) == natted.address)
        // Bob → A now reaches the latched (real) address, not the SDP one.
        try await bob.send(rtpPacket(pt: 0, seq: 100), toPort: portB)
        #expect(try await natted.waitFor(1).count == 1)

        try await intruder.send(rtpPacket(pt: 0, seq: 666, ssrc: 0xBAD), toPort: portA)
        #expect(try await eventually { await session.counters(.a).droppedWrongSource == 1 })
        try await natted.send(rtpPacket(pt: 0, seq: 2), toPort: portA)
        let atBob = try await bob.waitFor(2)
        #expect(atBob.compactMap { RTPHeaderView($0.data)?.sequenceNumber } == [1, 2])

        // Garbage is counted, not forwarded.
        try await natted.send([0x01, 0x02, 0x03], toPort: portA)
        #expect(try await eventually { await session.counters(.a).droppedInvalid == 1 })

        // Re-INVITE: the phone moved; the next packet latches again.
        await session.setRemote(.a, intruder.address)
        try await intruder.send(rtpPacket(pt: 0, seq: 3), toPort: portA)
        #expect(try await bob.waitFor(3).count == 3)
        let c = await session.counters(.a)
        #expect(c.latches == 2 && c.packetsIn == 3 && c.droppedWrongSource == 1)
        await session.close()
        for p in [natted, bob, intruder] { await p.close() }
    }

    @Test func notForwardedBeforeStart() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let alice = try await TestPhone.make(), bob = try await TestPhone.make()
        await session.setRemote(.a, alice.address)
        await session.setRemote(.b, bob.address)
        try await alice.send(rtpPacket(pt: 0, seq: 1), toPort: session.localPort(.a))
        #expect(try await eventually { await session.counters(.a).droppedNotForwarded == 1 })
        #expect(try await bob.received.isEmpty)
        await session.start()
        try await alice.send(rtpPacket(pt: 0, seq: 2), toPort: session.localPort(.a))
        #expect(try await bob.waitFor(1).count == 1)
        await session.close()
        await alice.close(); await bob.close()
    }

    @Test func closeReleasesPortsAndSessionsShareOneLoop() async throws {
        let relay = try TestRelay.make()
        #expect(relay.portPool.available == 50)
        let s1 = try await relay.makeSession()
        let s2 = try await relay.makeSession()
        #expect(relay.portPool.available == 46)
        let ports = [s1.localPort(.a), s1.localPort(.b), s2.localPort(.a), s2.localPort(.b)]
        #expect(Set(ports).count == 4)
        await s1.close()
        await s1.close()  // idempotent
        #expect(relay.portPool.available == 48)
        // The released ports are bindable again (sockets really closed) — within a moment: under
        // a full parallel test run the kernel may take a little while to let go of the port.
        var again: (any Channel)?
        for _ in 0..<40 where again == nil {
            again = try? await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: ports[0]).get()
            if again == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let rebound = try #require(again, "port \(ports[0]) still in use after close")
        try await rebound.close()
        await s2.close()
        #expect(relay.portPool.available == 50)
    }
}
