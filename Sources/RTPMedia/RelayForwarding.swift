import NIOCore

/// Counters of one relay leg (DESIGN.md §3). "In" counts datagrams that arrived on this leg's
/// sockets from its phone; "out" counts datagrams sent from this leg's sockets to its phone.
public struct RelayLegCounters: Sendable, Equatable {
    public var packetsIn = 0
    public var bytesIn = 0
    public var packetsOut = 0
    public var bytesOut = 0
    public var rtcpPacketsIn = 0
    public var rtcpPacketsOut = 0
    /// Arrived from an address other than the latched one (symmetric RTP) and were dropped.
    public var droppedWrongSource = 0
    /// Not RTP/RTCP version 2 or too short.
    public var droppedInvalid = 0
    /// Could not be forwarded: the other leg has no remote yet, or the session is not started
    /// and no local media is attached.
    public var droppedNotForwarded = 0
    /// RTP handed to the leg's local media (IVR) instead of the other leg.
    public var localPacketsIn = 0
    /// How many times the leg latched onto a source address.
    public var latches = 0
    /// RTP of an intercepted payload type (`RelaySession.intercept`) handed to pbxd while bridged
    /// instead of being forwarded (e.g. RFC 4733 DTMF toward a SIP INFO phone).
    public var interceptedPacketsIn = 0

    public init() {}
}

/// One relay socket's state (RTP or RTCP of one leg), confined to the session's event loop.
///
/// Why a class touched only on the loop: the handler of leg A reads leg B's remote address (which
/// B's handler may re-latch) and bumps B's out-counters. Both live on one loop, so plain stored
/// properties suffice: no lock, no atomic, no hop per packet (DESIGN.md §3).
final class RelayEndpoint {
    let isRTCP: Bool
    /// Where this socket sends: the SDP address until latched, then the phone's real source.
    var remote: SocketAddress?
    /// True once a packet arrived and `remote` was set from its source.
    var latched = false
    var counters = RelayLegCounters()
    /// Payload-type rewrite for RTP arriving here, indexed by PT (128 entries); nil = none.
    /// A flat table: one indexed load per packet, no dictionary hashing.
    var payloadTypeMap: [UInt8]?
    /// The table entry that marks a payload type as intercepted: not a PT (those are 0...127).
    static let interceptedMark: UInt8 = 0xFF
    /// Gets the RTP whose PT is marked `interceptedMark` in `payloadTypeMap`, while bridged.
    var interceptor: (any LocalMediaHandler)?
    var interceptedPayloadType: UInt8?
    /// Set by `start()`: the endpoint of the other leg, and the context of the relay handler in
    /// the other leg's pipeline. Writing through that context goes straight to the socket;
    /// `Channel.write` would enter at the pipeline's tail and cost more retain/release pairs
    /// per packet (visible in `perf`: refcounting was ~40% of the relay's CPU).
    var peer: RelayEndpoint?
    var peerContext: ChannelHandlerContext?
    /// The leg's local media while attached (RTP endpoint only, never while bridged): gets the
    /// packets that have no peer to go to.
    var local: LocalMedia?
    /// A recording's tap (MixMonitor, `RelaySession.startMonitor`): sees every RTP packet from
    /// this leg's phone. nil unless recording, so the path pays one check.
    var monitor: (any LocalMediaHandler)?

    init(isRTCP: Bool) {
        self.isRTCP = isRTCP
    }

    /// Per-packet logic, separate from the handler so the allocation test can call it alone.
    ///
    /// Symmetric RTP latching rule (kept simple, documented): the first valid packet that arrives
    /// after creation or after `setRemote` latches the leg onto its source address; from then on
    /// packets from any other source are dropped and counted. A re-INVITE that moves the phone
    /// calls `setRemote` again, which clears the latch.
    ///
    /// Returns the datagram to write to the peer socket, or nil when it is dropped.
    func process(_ envelope: AddressedEnvelope<ByteBuffer>) -> AddressedEnvelope<ByteBuffer>? {
        var buffer = envelope.data
        let kind = RTPPacketKind.classify(buffer)
        if kind == .invalid {
            self.counters.droppedInvalid &+= 1
            return nil
        }
        if self.latched {
            if envelope.remoteAddress != self.remote! {
                self.counters.droppedWrongSource &+= 1
                return nil
            }
        } else {
            self.remote = envelope.remoteAddress
            self.latched = true
            self.counters.latches &+= 1
        }
        let length = buffer.readableBytes
        if self.isRTCP || kind == .rtcp {
            self.counters.rtcpPacketsIn &+= 1
        } else {
            self.counters.packetsIn &+= 1
        }
        self.counters.bytesIn &+= length
        if let monitor = self.monitor, kind == .rtp, let view = RTPHeaderView(buffer) {
            _ = monitor.receive(view)
        }
        guard let peer = self.peer, let destination = peer.remote else {
            if kind == .rtp, let local = self.local, let view = RTPHeaderView(buffer) {
                self.counters.localPacketsIn &+= 1
                local.receive(view)
                return nil
            }
            self.counters.droppedNotForwarded &+= 1
            return nil
        }
        // RTCP (its own port, or muxed) is never rewritten: its second byte is a packet type.
        if kind == .rtp, let map = self.payloadTypeMap {
            let index = buffer.readerIndex + 1
            let second = buffer.getInteger(at: index, as: UInt8.self)!
            let mapped = map[Int(second & 0x7F)]
            if mapped != second & 0x7F {
                // The same table lookup marks PTs that pbxd takes instead of the other leg.
                if mapped == Self.interceptedMark {
                    if let interceptor = self.interceptor, let view = RTPHeaderView(buffer) {
                        self.counters.interceptedPacketsIn &+= 1
                        _ = interceptor.receive(view)
                    } else {
                        self.counters.droppedNotForwarded &+= 1
                    }
                    return nil
                }
                // May copy when the storage is shared with other datagrams of a vector read
                // (copy-on-write); only mapped PTs (usually telephone-event) pay for it.
                buffer.setInteger((second & 0x80) | mapped, at: index)
            }
        }
        if self.isRTCP || kind == .rtcp {
            peer.counters.rtcpPacketsOut &+= 1
        } else {
            peer.counters.packetsOut &+= 1
        }
        peer.counters.bytesOut &+= length
        return AddressedEnvelope(remoteAddress: destination, data: buffer)
    }
}

/// The relay's channel handler: reads a datagram on one leg, writes it out of the other leg's
/// socket, flushes once per read batch.
///
/// Per packet: no allocation of ours, no task, no actor hop, no lock (STYLE.md §9). The write goes
/// through the peer leg's handler context (same event loop) to the peer socket.
///
/// Measured (BENCHMARKS.md, bench/malloc-count.c): this code allocates nothing per packet, but
/// NIOPosix's datagram read path does, about 3 mallocs per datagram — the `SocketAddress` box and
/// its text form for the source address, and the result array of each vector read. Removing
/// those needs a change in NIO or a read path of our own below `DatagramChannel`.
final class RelayForwardingHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let endpoint: RelayEndpoint
    /// True when this read batch wrote to the peer and a flush is due.
    private var pendingFlush = false

    init(endpoint: RelayEndpoint) {
        self.endpoint = endpoint
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        guard let out = self.endpoint.process(envelope), let peer = self.endpoint.peerContext else {
            return
        }
        peer.write(Self.wrapOutboundOut(out), promise: nil)
        self.pendingFlush = true
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.pendingFlush {
            self.pendingFlush = false
            self.endpoint.peerContext?.flush()
        }
    }

    /// ICMP port-unreachable from a phone that hung up surfaces as ECONNREFUSED on the next read;
    /// it must not close the relay socket, so errors are swallowed here (NIO keeps the channel).
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
