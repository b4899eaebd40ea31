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
#endif
