#if os(Linux)
import Glibc
import NIOCore
import NIOEmbedded
import Testing
@testable import RTPMedia

/// Reads the counters of bench/malloc-count.c when that library is preloaded.
///
/// Why a preloaded library: Swift has no malloc hook and glibc's mallinfo2() reports bytes in
/// use, not calls, so an allocation freed within the same packet would go unseen. The library
/// counts every malloc/calloc/realloc/memalign per thread; measuring on the test's own thread
/// keeps other tests' allocations out of the figure.
enum MallocCounter {
    typealias Getter = @convention(c) () -> UInt64
    static let threadCount: Getter? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pbxd_malloc_count_thread") else { return nil }
        return unsafeBitCast(sym, to: Getter.self)
    }()
    static var isAvailable: Bool { threadCount != nil }

    /// Mallocs made by `body` on the calling thread.
    static func count(_ body: () throws -> Void) rethrows -> UInt64 {
        let before = threadCount!()
        try body()
        return threadCount!() - before
    }
}

/// Run with the counter: `bench/run-relay-bench.sh` does
/// `LD_PRELOAD=.../libmalloc-count.so swift test --filter RelayAllocationTests`.
@Suite(.enabled(if: MallocCounter.isAvailable, "needs LD_PRELOAD=libmalloc-count.so (bench/malloc-count.c)"))
struct RelayAllocationTests {
    static let phone = try! SocketAddress(ipAddress: "192.0.2.10", port: 4000)
    static let other = try! SocketAddress(ipAddress: "192.0.2.20", port: 5000)

    /// The per-packet function of the relay (latch check, classify, counters, PT-map lookup,
    /// envelope for the peer) allocates nothing in steady state.
    @Test func perPacketLogicDoesNotAllocate() throws {
        let a = RelayEndpoint(isRTCP: false), b = RelayEndpoint(isRTCP: false)
        a.peer = b
        b.remote = Self.other
        a.payloadTypeMap = (0..<128).map { $0 == 101 ? 96 : UInt8($0) }  // map present, PT 0 not mapped
        let packet = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1)))
        let intruder = AddressedEnvelope(remoteAddress: Self.other, data: packet.data)
        _ = a.process(packet)  // latch (first packet) outside the measurement
        var forwarded = 0
        let mallocs = MallocCounter.count {
            for i in 0..<10_000 {
                if a.process(i % 10 == 9 ? intruder : packet) != nil { forwarded += 1 }
            }
        }
        #expect(forwarded == 9_000)
        #expect(a.counters.droppedWrongSource == 1_000)
        #expect(mallocs == 0, "\(mallocs) mallocs for 10,000 packets")
    }

    /// With a telephone-event PT intercepted (DTMF interworking), the other packets still cost
    /// nothing, and neither do the intercepted ones up to the handler (here one that only counts).
    @Test func interceptionAddsNoAllocation() throws {
        final class Counting: LocalMediaHandler {
            var seen = 0
            func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
                self.seen += 1
                return .continue
            }
        }
        let a = RelayEndpoint(isRTCP: false), b = RelayEndpoint(isRTCP: false)
        a.peer = b
        b.remote = Self.other
        let handler = Counting()
        a.interceptor = handler
        a.interceptedPayloadType = 101
        a.payloadTypeMap = RelaySession.table([:], intercepted: 101)
        let audio = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1)))
        let dtmf = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 101, seq: 2, payload: 4)))
        _ = a.process(audio)
        var forwarded = 0
        let mallocs = MallocCounter.count {
            for i in 0..<10_000 {
                if a.process(i % 10 == 9 ? dtmf : audio) != nil { forwarded += 1 }
            }
        }
        #expect(forwarded == 9_000)
        #expect(handler.seen == 1_000 && a.counters.interceptedPacketsIn == 1_000)
        #expect(mallocs == 0, "\(mallocs) mallocs for 10,000 packets")
    }

    /// The control: the counter does see an allocation on this path — rewriting a PT in a
    /// buffer whose storage is shared (here with the test's copy) is copy-on-write.
    @Test func counterSeesCopyOnWrite() throws {
        let a = RelayEndpoint(isRTCP: false), b = RelayEndpoint(isRTCP: false)
        a.peer = b
        b.remote = Self.other
        a.payloadTypeMap = (0..<128).map { $0 == 101 ? 96 : UInt8($0) }
        let dtmf = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 101, seq: 1, payload: 4)))
        _ = a.process(dtmf)
        let mallocs = MallocCounter.count {
            for _ in 0..<100 { _ = a.process(dtmf) }
        }
        #expect(mallocs >= 100)
    }

    /// The whole handler (channelRead → peer write → channelReadComplete → flush) through
    /// EmbeddedChannels, compared with the same harness driving a handler that only forwards.
    /// EmbeddedChannel itself may allocate; the relay handler must add nothing to that baseline.
    @Test func handlerAddsNoAllocationOverBaseline() throws {
        func run(_ makeHandler: (EmbeddedChannel) -> ChannelHandler) throws -> UInt64 {
            let peer = EmbeddedChannel()
            let channel = EmbeddedChannel(handler: makeHandler(peer), loop: peer.embeddedEventLoop)
            let packet = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1)))
            func one() throws {
                try channel.writeInbound(packet)
                _ = try peer.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)
            }
            for _ in 0..<100 { try one() }  // warm up: latch, grow the harness' buffers
            let n = try MallocCounter.count { for _ in 0..<5_000 { try one() } }
            _ = try channel.finish()
            _ = try peer.finish()
            return n
        }
        let relay = try run { peer in
            let a = RelayEndpoint(isRTCP: false), b = RelayEndpoint(isRTCP: false)
            a.peer = b
            b.remote = Self.other
            try! peer.pipeline.syncOperations.addHandler(RelayForwardingHandler(endpoint: b))
            a.peerContext = try! peer.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
            return RelayForwardingHandler(endpoint: a)
        }
        let baseline = try run { peer in PassThrough(peer: peer) }
        #expect(relay <= baseline, "relay \(relay) vs baseline \(baseline) mallocs / 5,000 packets")
    }

    /// A leg with local media and a DTMF detector (the IVR case): audio and RFC 4733 packets,
    /// 1,000 key presses each reported (begin and end) through the detector's callback, with
    /// redundant end packets — nothing allocated per packet, nor per digit.
    @Test func localMediaReceivePathDoesNotAllocate() throws {
        let channel = EmbeddedChannel()
        let a = RelayEndpoint(isRTCP: false)
        try channel.pipeline.syncOperations.addHandler(RelayForwardingHandler(endpoint: a))
        let context = try channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
        final class Count { var begins = 0, ends = 0, samples = 0 }
        let count = Count()
        let detector = DTMFDetector(payloadType: 101) { event in
            switch event {
            case .begin: count.begins += 1
            case .end(let e): count.ends += 1; count.samples += e.durationSamples
            }
        }
        let media = LocalMedia(
            leg: .a, endpoint: a, context: context, clock: MediaClock(eventLoop: channel.embeddedEventLoop),
            handler: detector)
        a.local = media
        // Built before measuring: a new timestamp per key, as a phone sends them.
        var packets: [AddressedEnvelope<ByteBuffer>] = []
        var seq: UInt16 = 0
        func add(_ bytes: [UInt8]) {
            packets.append(AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: bytes)))
            seq &+= 1
        }
        for key in 0..<1_001 {
            let ts = UInt32(key) * 8000, digit = Array("0123456789*#ABCD")[key % 16]
            add(rtpPacket(pt: 0, seq: seq))
            add(telephoneEventPacket(digit, end: false, duration: 160, timestamp: ts, seq: seq, marker: true))
            add(telephoneEventPacket(digit, end: false, duration: 320, timestamp: ts, seq: seq))
            for _ in 0..<3 { add(telephoneEventPacket(digit, end: true, duration: 480, timestamp: ts, seq: seq)) }
        }
        _ = a.process(packets[0])  // latch outside the measurement
        for p in packets[1..<6] { _ = a.process(p) }  // first key: warms up the decoder's state
        var forwarded = 0
        let mallocs = MallocCounter.count {
            // Indexed: a `for p in array` loop costs a malloc per element in a debug build.
            for i in 6..<packets.count where a.process(packets[i]) != nil { forwarded += 1 }
        }
        #expect(forwarded == 0)
        #expect(count.begins == 1_001 && count.ends == 1_001 && count.samples == 1_001 * 480)
        #expect(a.counters.localPacketsIn == packets.count && a.counters.droppedNotForwarded == 0)
        #expect(mallocs == 0, "\(mallocs) mallocs for \(packets.count - 6) packets")
        media.detach()
        _ = try channel.finish()
    }

    /// The control for the test above: a handler that allocates per packet is seen.
    @Test func counterSeesAnAllocatingLocalHandler() throws {
        let channel = EmbeddedChannel()
        let a = RelayEndpoint(isRTCP: false)
        try channel.pipeline.syncOperations.addHandler(RelayForwardingHandler(endpoint: a))
        let context = try channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
        final class Copying: LocalMediaHandler {
            var kept: [[UInt8]] = []
            func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
                self.kept.append(Array(packet.buffer.readableBytesView))
                return .continue
            }
        }
        let media = LocalMedia(
            leg: .a, endpoint: a, context: context, clock: MediaClock(eventLoop: channel.embeddedEventLoop),
            handler: Copying())
        a.local = media
        let packet = AddressedEnvelope(remoteAddress: Self.phone, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1)))
        _ = a.process(packet)
        let mallocs = MallocCounter.count { for _ in 0..<100 { _ = a.process(packet) } }
        #expect(mallocs >= 100)
        media.detach()
        _ = try channel.finish()
    }

    /// Playback's per-frame work (header, tone payload into the reused buffer, write through
    /// the leg's context, flush), against the same harness writing a prebuilt packet: the player
    /// adds no allocation of its own per frame. (The envelope's boxing in `NIOAny` is NIO's,
    /// counted on both sides.)
    @Test func playbackFrameAddsNoAllocationOverBaseline() throws {
        func harness(_ body: (EmbeddedChannel, ChannelHandlerContext, RelayEndpoint) throws -> () -> Void) throws -> UInt64 {
            let channel = EmbeddedChannel()
            let a = RelayEndpoint(isRTCP: false)
            a.remote = Self.phone
            try channel.pipeline.syncOperations.addHandler(RelayForwardingHandler(endpoint: a))
            let context = try channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
            let frame = try body(channel, context, a)
            func one() throws {
                frame()
                // Take the packet out, as the socket would after the flush: the buffer is ours again.
                _ = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)
            }
            for _ in 0..<100 { try one() }
            let n = try MallocCounter.count { for _ in 0..<2_000 { try one() } }
            _ = try channel.finish()
            return n
        }
        let playback = try harness { channel, context, a in
            let media = LocalMedia(
                leg: .a, endpoint: a, context: context, clock: MediaClock(eventLoop: channel.embeddedEventLoop),
                handler: RTPRelayTestsIgnore())
            a.local = media
            let p = Playback(
                source: ToneSource(frequency: 1000), codec: .pcmu, media: media, interruptible: false,
                promise: channel.embeddedEventLoop.makePromise())
            p.start()
            return { p.tick(frames: 1) }
        }
        let baseline = try harness { _, context, a in
            let packet = ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1))
            return {
                context.write(NIOAny(AddressedEnvelope(remoteAddress: a.remote!, data: packet)), promise: nil)
                context.flush()
            }
        }
        #expect(playback <= baseline, "playback \(playback) vs baseline \(baseline) mallocs / 2,000 frames")
    }

    /// Baseline handler: forwards the envelope unchanged, no latch, no counters.
    final class PassThrough: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let peer: Channel
        init(peer: Channel) { self.peer = peer }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let e = Self.unwrapInboundIn(data)
            self.peer.write(AddressedEnvelope(remoteAddress: RelayAllocationTests.other, data: e.data), promise: nil)
        }
        func channelReadComplete(context: ChannelHandlerContext) { self.peer.flush() }
    }
}
final class RTPRelayTestsIgnore: LocalMediaHandler {
    func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult { .continue }
}
#endif
