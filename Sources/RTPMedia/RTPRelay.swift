import NIOCore
import NIOPosix

/// The two sides of a relayed call: `.a` faces one phone, `.b` the other.
public enum RelayLeg: Sendable, Hashable, CaseIterable {
    case a, b
}

/// Creates relay sessions: socket pairs from the port pool, bound on one event loop each.
///
/// The SIP channel driver makes one session per bridged call; the relay itself knows nothing of
/// SIP (DESIGN.md §1): it is told each leg's remote address from SDP and forwards datagrams.
public final class RTPRelay: Sendable {
    public struct Configuration: Sendable {
        /// Datagrams read per `recvmmsg` call (`ChannelOptions.datagramVectorReadMessageCount`)
        /// on RTP sockets. Each RTP socket keeps a receive buffer of this × `receiveBufferSize`
        /// (32 KiB by default, mostly untouched pages); RTCP sockets, a packet every few seconds,
        /// read one datagram at a time with a single slot.
        public var vectorReadMessageCount: Int = 16
        /// Per-datagram receive slot; RTP over Ethernet fits in 1500, 2048 leaves margin.
        public var receiveBufferSize: Int = 2048
        /// Reads per readiness event (`ChannelOptions.maxMessagesPerRead`). NIO's epoll is
        /// level-triggered, so 1 is safe: whatever one `recvmmsg` leaves behind wakes the loop
        /// again. It saves the extra `recvmmsg` that only returns EAGAIN, which at 50 packets/s
        /// per socket is what almost every second read would be.
        public var maxMessagesPerRead: Int = 1
        public init() {}
    }

    public let group: EventLoopGroup
    public let portPool: RTPPortPool
    public let bindHost: String
    public let configuration: Configuration
    private let clocks = MediaClocks()

    public init(group: EventLoopGroup, portPool: RTPPortPool, bindHost: String, configuration: Configuration = .init()) {
        self.group = group
        self.portPool = portPool
        self.bindHost = bindHost
        self.configuration = configuration
    }

    /// The shared media clock of `loop` (DESIGN.md §3): one per event loop, made on first use;
    /// every session on that loop paces its playback with it.
    public func mediaClock(for loop: EventLoop) -> MediaClock {
        self.clocks.clock(for: loop)
    }

    /// Binds both legs (RTP on an even port, RTCP on +1, for each) on one event loop, so that
    /// forwarding never crosses threads (DESIGN.md §3). Forwarding starts with `start()`.
    public func makeSession(on eventLoop: EventLoop? = nil) async throws -> RelaySession {
        let loop = eventLoop ?? self.group.next()
        let state = try await loop.submit { NIOLoopBound(RelayState(), eventLoop: loop) }.get()
        let a = try await self.bindLeg(.a, state: state, on: loop)
        let b: BoundLeg
        do {
            b = try await self.bindLeg(.b, state: state, on: loop)
        } catch {
            await a.close(pool: self.portPool)
            throw error
        }
        return RelaySession(
            eventLoop: loop, state: state, a: a, b: b, portPool: self.portPool, mediaClock: self.mediaClock(for: loop))
    }

    private func bindLeg(_ leg: RelayLeg, state: NIOLoopBound<RelayState>, on loop: EventLoop) async throws -> BoundLeg {
        let (port, channels) = try await self.portPool.acquireBinding { port in
            let rtp = try await self.bind(
                port: port, vector: self.configuration.vectorReadMessageCount,
                endpoint: { $0.endpoint(leg, rtcp: false) }, state: state, on: loop)
            do {
                let rtcp = try await self.bind(
                    port: port + 1, vector: 1, endpoint: { $0.endpoint(leg, rtcp: true) }, state: state, on: loop)
                return (rtp, rtcp)
            } catch {
                try? await rtp.close()
                throw error
            }
        }
        return BoundLeg(port: port, rtp: channels.0, rtcp: channels.1)
    }

    private func bind(
        port: Int, vector: Int, endpoint: @escaping @Sendable (RelayState) -> RelayEndpoint,
        state: NIOLoopBound<RelayState>, on loop: EventLoop
    ) async throws -> Channel {
        try await DatagramBootstrap(group: loop)
            .channelOption(.datagramVectorReadMessageCount, value: vector)
            .channelOption(.maxMessagesPerRead, value: UInt(self.configuration.maxMessagesPerRead))
            // A vector read splits ONE buffer of the allocator's size into N equal slots, so the
            // buffer must be N × datagram size (2048 alone would truncate datagrams to 128 bytes).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(
                capacity: self.configuration.receiveBufferSize * vector))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RelayForwardingHandler(endpoint: endpoint(state.value))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: self.bindHost, port: port)
            .get()
    }
}

/// The four sockets' state of one session; lives on the session's event loop only.
final class RelayState {
    let aRTP = RelayEndpoint(isRTCP: false)
    let aRTCP = RelayEndpoint(isRTCP: true)
    let bRTP = RelayEndpoint(isRTCP: false)
    let bRTCP = RelayEndpoint(isRTCP: true)
    /// Set by `close()`: local media can no longer be attached.
    var closed = false

    func endpoint(_ leg: RelayLeg, rtcp: Bool) -> RelayEndpoint {
        switch (leg, rtcp) {
        case (.a, false): self.aRTP
        case (.a, true): self.aRTCP
        case (.b, false): self.bRTP
        case (.b, true): self.bRTCP
        }
    }
}

struct BoundLeg: Sendable {
    let port: Int
    let rtp: Channel
    let rtcp: Channel

    func close(pool: RTPPortPool) async {
        try? await self.rtp.close()
        try? await self.rtcp.close()
        pool.release(self.port)
    }
}

/// One relayed call: leg A's sockets forward to leg B's phone and back.
///
/// Before `start()` a leg can instead have local media (`attachLocal`, LocalMedia.swift): the
/// IVR plays to its phone and detects its DTMF.
///
/// Control calls (`setRemote`, `setPayloadTypeMap`, `start`, `attachLocal`) may come from any task; each runs
/// on the session's loop and returns once applied.
public final class RelaySession: Sendable {
    public let eventLoop: EventLoop
    private let state: NIOLoopBound<RelayState>
    private let a: BoundLeg
    private let b: BoundLeg
    private let portPool: RTPPortPool
    /// The shared clock of this session's loop, which paces local playback.
    public let mediaClock: MediaClock

    init(
        eventLoop: EventLoop, state: NIOLoopBound<RelayState>, a: BoundLeg, b: BoundLeg, portPool: RTPPortPool,
        mediaClock: MediaClock
    ) {
        precondition(mediaClock.eventLoop === eventLoop, "a session's clock runs on its own loop")
        self.eventLoop = eventLoop
        self.state = state
        self.a = a
        self.b = b
        self.portPool = portPool
        self.mediaClock = mediaClock
    }

    func rtpChannel(_ leg: RelayLeg) -> Channel { self.bound(leg).rtp }

    private func bound(_ leg: RelayLeg) -> BoundLeg { leg == .a ? self.a : self.b }

    /// The local RTP port of a leg (RTCP is this + 1): goes into that leg's SDP.
    public func localPort(_ leg: RelayLeg) -> Int { self.bound(leg).port }

    /// Runs `body` on the session's loop and returns once it ran, so a packet that arrives after
    /// the call returns sees the change (a fire-and-forget `execute` could run after I/O that the
    /// loop picks up in the same iteration).
    func onLoop(_ body: @escaping @Sendable (RelayState) -> Void) async {
        let state = self.state
        if self.eventLoop.inEventLoop {
            body(state.value)
        } else {
            try? await self.eventLoop.submit { body(state.value) }.get()
        }
    }

    /// `onLoop` for a body that returns or throws; throws `.closed` if the loop is gone.
    func onLoopThrowing<T: Sendable>(_ body: @escaping @Sendable (RelayState) throws -> T) async throws -> T {
        let state = self.state
        if self.eventLoop.inEventLoop { return try body(state.value) }
        let future = self.eventLoop.submit { try body(state.value) }
        do {
            return try await future.get()
        } catch let error as RelaySessionError {
            throw error
        } catch {
            throw RelaySessionError.closed
        }
    }

    /// Sets where a leg sends (from that leg's SDP) and clears its latch, so the next packet
    /// from the phone latches again (a re-INVITE may move it). RTCP defaults to RTP port + 1.
    public func setRemote(_ leg: RelayLeg, _ address: SocketAddress, rtcp: SocketAddress? = nil) async {
        var rtcpAddress = rtcp
        if rtcpAddress == nil, let port = address.port {
            var next = address
            next.port = port + 1
            rtcpAddress = next
        }
        let finalRTCP = rtcpAddress
        await self.onLoop { state in
            let rtp = state.endpoint(leg, rtcp: false)
            rtp.remote = address
            rtp.latched = false
            let rtcpEndpoint = state.endpoint(leg, rtcp: true)
            rtcpEndpoint.remote = finalRTCP
            rtcpEndpoint.latched = false
        }
    }

    /// Rewrites the payload type of RTP arriving from `leg` before it goes to the other leg, e.g.
    /// `[101: 96]` when A's phone sends telephone-event as 101 and B's expects 96. Empty = none.
    public func setPayloadTypeMap(from leg: RelayLeg, _ map: [UInt8: UInt8]) async {
        await self.onLoop { state in
            let endpoint = state.endpoint(leg, rtcp: false)
            endpoint.payloadTypeMap = Self.table(map, intercepted: endpoint.interceptedPayloadType)
        }
    }

    /// The per-leg PT table: identity except the mapped PTs and the intercepted one; nil when
    /// there is nothing to rewrite or intercept (the forwarding path then skips the lookup).
    static func table(_ map: [UInt8: UInt8], intercepted: UInt8?) -> [UInt8]? {
        guard !map.isEmpty || intercepted != nil else { return nil }
        var t = (0..<128).map { UInt8($0) }
        for (from, to) in map where from < 128 && to < 128 { t[Int(from)] = to }
        if let pt = intercepted, pt < 128 { t[Int(pt)] = RelayEndpoint.interceptedMark }
        return t
    }

    /// While bridged, RTP from `leg`'s phone with payload type `payloadType` goes to `handler`
    /// (on the session's loop) instead of the other leg: pbxd takes RFC 4733 DTMF to pass it on
    /// in another form (SIP INFO). Reuses the PT-map table the forwarding path already reads, so
    /// legs without an interception pay nothing and others one compare. A PT map set later keeps
    /// the interception. `nil` handler/PT ends it.
    public func intercept(_ leg: RelayLeg, payloadType: UInt8?, handler: sending (any LocalMediaHandler)?) async {
        let box = NIOLoopBoundBox.makeBoxSendingValue(handler, eventLoop: self.eventLoop)
        await self.onLoop { state in
            let endpoint = state.endpoint(leg, rtcp: false)
            let pt = box.value == nil ? nil : payloadType
            var map: [UInt8: UInt8] = [:]
            if let old = endpoint.payloadTypeMap {
                for (from, to) in old.enumerated() where to != UInt8(from) && to != RelayEndpoint.interceptedMark {
                    map[UInt8(from)] = to
                }
            }
            endpoint.interceptedPayloadType = pt
            endpoint.interceptor = pt == nil ? nil : box.value
            endpoint.payloadTypeMap = Self.table(map, intercepted: pt)
        }
    }

    /// Sends one RTP packet (header included) from `leg`'s RTP socket to its phone (latched or
    /// SDP address), also while bridged: pbxd's own packets into a relayed stream, e.g. RFC 4733
    /// DTMF made from a SIP INFO of the other leg. Off the forwarding path. False when the leg
    /// has no remote or the session is closed.
    @discardableResult
    public func inject(_ leg: RelayLeg, packet: ByteBuffer) async -> Bool {
        let channel = self.rtpChannel(leg)
        return (try? await self.onLoopThrowing { state -> Bool in
            let endpoint = state.endpoint(leg, rtcp: false)
            guard !state.closed, let remote = endpoint.remote,
                  let context = try? channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
            else { return false }
            context.writeAndFlush(NIOAny(AddressedEnvelope(remoteAddress: remote, data: packet)), promise: nil)
            endpoint.counters.packetsOut &+= 1
            endpoint.counters.bytesOut &+= packet.readableBytes
            return true
        }) ?? false
    }

    /// Links the legs: from now on datagrams are forwarded both ways (RTP and RTCP). Local media
    /// attached to either leg is detached first (its playback ends as `.stopped`).
    public func start() async {
        let a = self.a, b = self.b
        await self.onLoop { state in
            Self.unlink(state, .a)
            Self.unlink(state, .b)
            Self.link(state, a: (.a, a), to: state, b: (.b, b))
        }
    }

    /// Links `leg` of this session with `otherLeg` of `other` (another session, or this one),
    /// as `start()` links a and b: a leg handed to a new party (a transfer, or a dialed leg that
    /// now dials out itself) keeps its sockets and so the SDP its phone already has. Whatever
    /// either leg was linked to before is unlinked first. Both sessions must be on one event
    /// loop, so forwarding stays a plain write from one socket to the other (DESIGN.md §3).
    public func link(_ leg: RelayLeg, to other: RelaySession, _ otherLeg: RelayLeg) async throws {
        guard other.eventLoop === self.eventLoop else { throw RelaySessionError.differentEventLoops }
        guard other !== self || otherLeg != leg else { throw RelaySessionError.sameLeg }
        let mine = self.bound(leg), theirs = other.bound(otherLeg)
        let otherState = other.state
        try await self.onLoopThrowing { state in
            let there = otherState.value
            guard !state.closed, !there.closed else { throw RelaySessionError.closed }
            Self.unlink(state, leg)
            Self.unlink(there, otherLeg)
            Self.link(state, a: (leg, mine), to: there, b: (otherLeg, theirs))
        }
    }

    /// Ends `leg`'s link (made by `start()` or `link`) in both directions: neither party
    /// forwards to the other any more, and either may take local media again.
    public func unlink(_ leg: RelayLeg) async {
        await self.onLoop { state in Self.unlink(state, leg) }
    }

    private static func link(_ one: RelayState, a: (RelayLeg, BoundLeg), to two: RelayState, b: (RelayLeg, BoundLeg)) {
        func context(_ channel: Channel) -> ChannelHandlerContext? {
            try? channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
        }
        let aRTP = one.endpoint(a.0, rtcp: false), aRTCP = one.endpoint(a.0, rtcp: true)
        let bRTP = two.endpoint(b.0, rtcp: false), bRTCP = two.endpoint(b.0, rtcp: true)
        aRTP.local?.detach()
        bRTP.local?.detach()
        aRTP.peer = bRTP
        aRTP.peerContext = context(b.1.rtp)
        bRTP.peer = aRTP
        bRTP.peerContext = context(a.1.rtp)
        aRTCP.peer = bRTCP
        aRTCP.peerContext = context(b.1.rtcp)
        bRTCP.peer = aRTCP
        bRTCP.peerContext = context(a.1.rtcp)
    }

    /// Clears a leg's RTP and RTCP links and the links pointing back at them (which may live in
    /// another session on this loop).
    private static func unlink(_ state: RelayState, _ leg: RelayLeg) {
        for endpoint in [state.endpoint(leg, rtcp: false), state.endpoint(leg, rtcp: true)] {
            if let peer = endpoint.peer, peer.peer === endpoint {
                peer.peer = nil
                peer.peerContext = nil
            }
            endpoint.peer = nil
            endpoint.peerContext = nil
        }
    }

    /// Unlinks the legs again (a Dial that had early media and then failed): packets are no
    /// longer forwarded and either leg may take local media (prompts, DTMF) again. A leg linked
    /// into another session is unlinked there too.
    public func unbridge() async {
        await self.onLoop { state in
            Self.unlink(state, .a)
            Self.unlink(state, .b)
        }
    }

    /// A snapshot of a leg's counters (RTP and RTCP sockets together).
    public func counters(_ leg: RelayLeg) async -> RelayLegCounters {
        let state = self.state
        return try! await self.eventLoop.submit { () -> RelayLegCounters in
            let rtp = state.value.endpoint(leg, rtcp: false).counters
            let rtcp = state.value.endpoint(leg, rtcp: true).counters
            var c = rtp
            c.rtcpPacketsIn += rtcp.rtcpPacketsIn
            c.rtcpPacketsOut += rtcp.rtcpPacketsOut
            c.bytesIn += rtcp.bytesIn
            c.bytesOut += rtcp.bytesOut
            c.droppedWrongSource += rtcp.droppedWrongSource
            c.droppedInvalid += rtcp.droppedInvalid
            c.droppedNotForwarded += rtcp.droppedNotForwarded
            c.localPacketsIn += rtcp.localPacketsIn
            return c
        }.get()
    }

    /// The address a leg's RTP currently goes to (latched source, else the SDP address).
    public func remote(_ leg: RelayLeg) async -> SocketAddress? {
        let state = self.state
        return try! await self.eventLoop.submit { state.value.endpoint(leg, rtcp: false).remote }.get()
    }

    /// Stops forwarding, closes the four sockets and returns both ports to the pool.
    /// Safe to call twice (the pool ignores a double release).
    public func close() async {
        await self.onLoop { state in
            state.closed = true
            state.aRTP.local?.detach()
            state.bRTP.local?.detach()
            // Breaks the endpoint → context → handler → endpoint cycle, and a link from another
            // session into these sockets.
            Self.unlink(state, .a)
            Self.unlink(state, .b)
            for e in [state.aRTP, state.aRTCP, state.bRTP, state.bRTCP] { e.interceptor = nil }
        }
        await self.a.close(pool: self.portPool)
        await self.b.close(pool: self.portPool)
    }
}
