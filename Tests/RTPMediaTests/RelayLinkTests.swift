import NIOCore
import NIOPosix
import Testing
@testable import RTPMedia

/// `RelaySession.link`/`unlink`: legs of two sessions on one loop forwarded to each other, as a
/// transfer or a dialed leg that dials out needs (real loopback sockets).
@Suite struct RelayLinkTests {

    @Test func linksLegsOfTwoSessionsBothWaysWithRTCP() async throws {
        let relay = try TestRelay.make()
        let first = try await relay.makeSession()
        let second = try await relay.makeSession(on: first.eventLoop)
        let alice = try await TestPhone.make(), bob = try await TestPhone.make(), carol = try await TestPhone.make()
        let aliceRTCP = try await TestPhone.make(), carolRTCP = try await TestPhone.make()
        await first.setRemote(.a, alice.address, rtcp: aliceRTCP.address)
        await first.setRemote(.b, bob.address)
        await second.setRemote(.b, carol.address, rtcp: carolRTCP.address)
        await first.start()
        // Alice (first.a) moves from Bob (first.b) to Carol (second.b).
        try await first.link(.a, to: second, .b)

        for seq in 0..<6 { try await alice.send(rtpPacket(pt: 0, seq: UInt16(seq)), toPort: first.localPort(.a)) }
        for seq in 0..<4 { try await carol.send(rtpPacket(pt: 0, seq: UInt16(seq)), toPort: second.localPort(.b)) }
        let atCarol = try await carol.waitFor(6)
        let atAlice = try await alice.waitFor(4)
        #expect(atCarol.count == 6 && atAlice.count == 4)
        // From the sockets each phone has in its SDP.
        #expect(atCarol.allSatisfy { $0.remoteAddress.port == second.localPort(.b) })
        #expect(atAlice.allSatisfy { $0.remoteAddress.port == first.localPort(.a) })
        let rr: [UInt8] = [0x80, 201, 0x00, 0x01, 0, 0, 0, 1]
        try await aliceRTCP.send(rr, toPort: first.localPort(.a) + 1)
        #expect(try await carolRTCP.waitFor(1).count == 1)

        // Bob, unlinked by the move, gets nothing and forwards nothing.
        try await bob.send(rtpPacket(pt: 0, seq: 9), toPort: first.localPort(.b))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await bob.received.isEmpty)
        #expect(try await alice.received.count == 4)
        #expect(await first.counters(.b).droppedNotForwarded == 1)

        // Unlinking from Carol's side ends both directions.
        await second.unlink(.b)
        try await alice.send(rtpPacket(pt: 0, seq: 20), toPort: first.localPort(.a))
        try await carol.send(rtpPacket(pt: 0, seq: 21), toPort: second.localPort(.b))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await carol.received.count == 6)
        #expect(try await alice.received.count == 4)

        // And a link back to Bob works again (an attended transfer that returns).
        try await first.link(.a, to: first, .b)
        try await bob.send(rtpPacket(pt: 0, seq: 30), toPort: first.localPort(.b))
        #expect(try await alice.waitFor(5).count == 5)

        await first.close(); await second.close()
        for p in [alice, bob, carol, aliceRTCP, carolRTCP] { await p.close() }
    }

    @Test func closingOneSessionUnlinksTheOther() async throws {
        let relay = try TestRelay.make()
        let first = try await relay.makeSession()
        let second = try await relay.makeSession(on: first.eventLoop)
        let alice = try await TestPhone.make(), carol = try await TestPhone.make()
        await first.setRemote(.a, alice.address)
        await second.setRemote(.b, carol.address)
        try await first.link(.a, to: second, .b)
        await second.close()
        try await alice.send(rtpPacket(pt: 0, seq: 1), toPort: first.localPort(.a))
        try await Task.sleep(for: .milliseconds(100))
        #expect(await first.counters(.a).droppedNotForwarded == 1)
        // The leg is free for local media again (an Atxfer's hold music).
        _ = try await first.attachLocal(.a, handler: NullHandler())
        await first.close()
        await alice.close(); await carol.close()
    }

    @Test func refusesSessionsOnDifferentLoopsAndALegToItself() async throws {
        let relay = try TestRelay.make()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let first = try await relay.makeSession(on: loops[0])
        let second = try await relay.makeSession(on: loops[1])
        await #expect(throws: RelaySessionError.differentEventLoops) { try await first.link(.a, to: second, .b) }
        await #expect(throws: RelaySessionError.sameLeg) { try await first.link(.a, to: first, .a) }
        await second.close()
        await #expect(throws: RelaySessionError.differentEventLoops) { try await first.link(.a, to: second, .a) }
        let third = try await relay.makeSession(on: loops[0])
        await third.close()
        await #expect(throws: RelaySessionError.closed) { try await first.link(.a, to: third, .a) }
        await first.close()
        try await group.shutdownGracefully()
    }
}

/// A local-media handler that ignores everything.
private final class NullHandler: LocalMediaHandler {
    func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult { .continue }
}
