import NIOCore

/// What a leg's local media endpoint does with the RTP its phone sends (DTMF detection now,
/// recording later). Called on the session's event loop for each valid RTP packet from the
/// latched source; RTCP is not passed on.
///
/// Per packet: no allocation beyond what NIO already did to read the datagram (STYLE.md §9); the
/// view reads the bytes in place, and is only valid during the call.
public protocol LocalMediaHandler: AnyObject {
    /// Returns `.interruptPlayback` when the packet carries something (a DTMF key) that must stop
    /// an interruptible playback at once, on the loop, before any task hears about it.
    func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult
}

public enum LocalMediaReceiveResult: Sendable {
    case `continue`
    case interruptPlayback
}

/// Detects RFC 4733 DTMF on a leg: the `LocalMediaHandler` the IVR attaches.
///
/// `onEvent` runs on the session's loop, only when a key begins or ends (never per packet); an
/// IVR passes e.g. `{ continuation.yield($0) }`. A key's begin interrupts an interruptible
/// playback (Background, Read), as Asterisk stops a prompt on the first DTMF.
public final class DTMFDetector: LocalMediaHandler {
    public private(set) var decoder: DTMFEventDecoder
    private let onEvent: (DTMFEvent) -> Void

    public init(payloadType: UInt8, clockRate: Int = 8000, onEvent: @escaping (DTMFEvent) -> Void) {
        self.decoder = DTMFEventDecoder(payloadType: payloadType, clockRate: clockRate)
        self.onEvent = onEvent
    }

    public func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
        guard packet.payloadType == self.decoder.payloadType else { return .continue }
        var interrupt = false
        for event in self.decoder.receive(packet) {
            if case .begin = event { interrupt = true }
            self.onEvent(event)
        }
        return interrupt ? .interruptPlayback : .continue
    }
}

/// How a playback ended; reported once.
public enum PlaybackOutcome: Sendable, Equatable {
    /// The source ran out of frames: every frame was sent.
    case finished
    /// `stop()`, a newer playback on the same leg, `detachLocal`, `start()` (bridging) or `close()`.
    case stopped
    /// An interruptible playback stopped by a DTMF key (the handler returned `.interruptPlayback`).
    case interrupted
}

/// A leg's local media, confined to the session's event loop. Owned by the leg's RTP
/// `RelayEndpoint` while attached.
final class LocalMedia {
    let leg: RelayLeg
    let endpoint: RelayEndpoint
    /// The relay handler's context in this leg's RTP channel: writing through it goes straight
    /// to the socket, from the port the phone sends to (symmetric RTP).
    let context: ChannelHandlerContext
    let clock: MediaClock
    var handler: (any LocalMediaHandler)?
    /// A second handler for the media applications (Record, Echo), after `handler`; see
    /// `LocalMediaEndpoint.setTap`.
    var tap: (any LocalMediaHandler)?
    var isAttached = true
    var playback: (any PlaybackControl)?
    /// The outgoing stream, continued across playbacks: one SSRC, consecutive sequence numbers,
    /// timestamps that follow real time (a phone's jitter buffer sees pauses, not jumps).
    var stream: RTPHeader
    var streamTime: NIODeadline?

    init(leg: RelayLeg, endpoint: RelayEndpoint, context: ChannelHandlerContext, clock: MediaClock,
         handler: any LocalMediaHandler) {
        self.leg = leg
        self.endpoint = endpoint
        self.context = context
        self.clock = clock
        self.handler = handler
        var rng = SystemRandomNumberGenerator()
        self.stream = RTPHeader(
            payloadType: 0, sequenceNumber: .random(in: 0...UInt16.max, using: &rng),
            timestamp: .random(in: 0...UInt32.max, using: &rng), ssrc: .random(in: 1...UInt32.max, using: &rng))
    }

    /// Per packet from the phone, from `RelayEndpoint.process`.
    @inline(__always)
    func receive(_ packet: RTPHeaderView) {
        if let handler = self.handler, handler.receive(packet) == .interruptPlayback, let p = self.playback, p.interruptible {
            p.end(.interrupted)
        }
        if let tap = self.tap { _ = tap.receive(packet) }
    }

    /// Writes one packet to the phone (not flushed). False when there is nowhere to send.
    @discardableResult
    func write(_ packet: ByteBuffer) -> Bool {
        guard self.isAttached, let remote = self.endpoint.remote else { return false }
        self.context.write(NIOAny(AddressedEnvelope(remoteAddress: remote, data: packet)), promise: nil)
        self.endpoint.counters.packetsOut &+= 1
        self.endpoint.counters.bytesOut &+= packet.readableBytes
        return true
    }

    func flush() {
        if self.isAttached { self.context.flush() }
    }

    /// Stops any playback and disconnects from the leg; the handler is released.
    func detach() {
        guard self.isAttached else { return }
        self.playback?.end(.stopped)
        self.isAttached = false
        self.handler = nil
        (self.tap as? any LocalMediaTapEnding)?.tapRemoved()
        self.tap = nil
        if self.endpoint.local === self { self.endpoint.local = nil }
    }
}

/// The control side of a playback, loop-confined.
protocol PlaybackControl: AnyObject {
    var interruptible: Bool { get }
    func end(_ outcome: PlaybackOutcome)
}

/// Local media on one leg of a `RelaySession`, from `attachLocal`: plays to the leg's phone and
/// gets its packets (through the handler given to `attachLocal`). A handle: usable from any task.
/// After `detachLocal`, `start()` or `close()` it is inert: playbacks end at once as `.stopped`,
/// sends return false.
public final class LocalMediaEndpoint: Sendable {
    public let leg: RelayLeg
    public let eventLoop: EventLoop
    /// The shared clock of the session's loop that paces playback.
    public let clock: MediaClock
    let media: NIOLoopBound<LocalMedia>

    init(media: LocalMedia, eventLoop: EventLoop) {
        self.leg = media.leg
        self.eventLoop = eventLoop
        self.clock = media.clock
        self.media = NIOLoopBound(media, eventLoop: eventLoop)
    }

    /// Whether still attached to its leg.
    public var isAttached: Bool {
        get async {
            let media = self.media
            return (try? await self.eventLoop.submit { media.value.isAttached }.get()) ?? false
        }
    }

    /// Sends one RTP packet (already built, header included) to the leg's phone, now, from the
    /// leg's socket. For packets a caller paces itself; playback uses `play`.
    @discardableResult
    public func send(_ packet: ByteBuffer) async -> Bool {
        let media = self.media
        return (try? await self.eventLoop.submit { () -> Bool in
            let sent = media.value.write(packet)
            media.value.flush()
            return sent
        }.get()) ?? false
    }

    /// Plays `source` to the phone, one 20 ms frame per tick of the shared clock, with the
    /// payload type of `codec`: a new talkspurt (marker on the first packet), the stream's SSRC,
    /// sequence +1 and timestamp + clockRate/50 per frame. A playback already running on this
    /// leg is stopped first (`.stopped`). The first packet leaves on the next clock tick.
    ///
    /// - Parameters:
    ///   - interruptible: a DTMF key (the handler's `.interruptPlayback`) ends it as `.interrupted`.
    ///   - completion: called once on the session's loop with the outcome (also in `outcome`).
    public func play(
        _ source: sending any RTPPayloadSource, codec: Codec, interruptible: Bool = false,
        completion: (@Sendable (PlaybackOutcome) -> Void)? = nil
    ) async -> RTPPlayer {
        let box = NIOLoopBoundBox.makeBoxSendingValue(source, eventLoop: self.eventLoop)
        let media = self.media
        let promise = self.eventLoop.makePromise(of: PlaybackOutcome.self)
        if let completion { promise.futureResult.whenSuccess(completion) }
        let loop = self.eventLoop
        let start: @Sendable () -> RTPPlayer = {
            let control = makePlayback(
                box.value, codec: codec, media: media.value, interruptible: interruptible, promise: promise)
            return RTPPlayer(eventLoop: loop, control: NIOLoopBound(control, eventLoop: loop), outcome: promise.futureResult)
        }
        if loop.inEventLoop { return start() }
        do {
            return try await loop.submit(start).get()
        } catch {
            // The loop is shut down: nothing can play.
            promise.succeed(.stopped)
            return RTPPlayer(eventLoop: loop, control: nil, outcome: promise.futureResult)
        }
    }

    /// Ends an interruptible playback as `.interrupted`, as a DTMF key detected in its RTP would:
    /// for keys that arrive another way (SIP INFO). A non-interruptible playback goes on.
    public func interruptPlayback() async {
        let media = self.media
        try? await self.eventLoop.submit {
            if let playback = media.value.playback, playback.interruptible { playback.end(.interrupted) }
        }.get()
    }

    /// Stops the current playback, if any (`.stopped`), and returns once no more of its packets
    /// can be sent.
    public func stopPlayback() async {
        let media = self.media
        try? await self.eventLoop.submit { media.value.playback?.end(.stopped) }.get()
    }
}

/// A running (or ended) playback, from `LocalMediaEndpoint.play`. A handle, usable from any task.
public final class RTPPlayer: Sendable {
    public let eventLoop: EventLoop
    /// How it ended; completes on the session's loop.
    public let outcome: EventLoopFuture<PlaybackOutcome>
    private let control: NIOLoopBound<any PlaybackControl>?

    init(eventLoop: EventLoop, control: NIOLoopBound<any PlaybackControl>?, outcome: EventLoopFuture<PlaybackOutcome>) {
        self.eventLoop = eventLoop
        self.control = control
        self.outcome = outcome
    }

    /// Stops at once: when this returns, no further packet of this playback will be sent
    /// (packets already handed to the socket are gone). No-op if it already ended.
    public func stop() async {
        guard let control = self.control else { return }
        if self.eventLoop.inEventLoop {
            control.value.end(.stopped)
        } else {
            try? await self.eventLoop.submit { control.value.end(.stopped) }.get()
        }
    }
}

/// Opens the source's type once, so the per-frame calls are not through an existential.
private func makePlayback<Source: RTPPayloadSource>(
    _ source: Source, codec: Codec, media: LocalMedia, interruptible: Bool, promise: EventLoopPromise<PlaybackOutcome>
) -> any PlaybackControl {
    let playback = Playback(source: source, codec: codec, media: media, interruptible: interruptible, promise: promise)
    playback.start()
    return playback
}

/// One playback: a clock subscriber that writes `frames` packets per tick from its source.
final class Playback<Source: RTPPayloadSource>: MediaClockSubscriber, PlaybackControl {
    private var source: Source
    private let codec: Codec
    private let samplesPerFrame: UInt32
    private let media: LocalMedia
    let interruptible: Bool
    private let promise: EventLoopPromise<PlaybackOutcome>
    private var header: RTPHeader
    /// Reused for every packet: cleared and refilled, allocation-free once the socket released
    /// the previous packet (flushed every tick).
    private var buffer: ByteBuffer
    private var ended = false

    init(source: Source, codec: Codec, media: LocalMedia, interruptible: Bool, promise: EventLoopPromise<PlaybackOutcome>) {
        self.source = source
        self.codec = codec
        self.samplesPerFrame = UInt32(max(1, codec.clockRate / 50))
        self.media = media
        self.interruptible = interruptible
        self.promise = promise
        self.header = media.stream
        self.buffer = media.context.channel.allocator.buffer(capacity: 12 + 1024)
    }

    func start() {
        guard self.media.isAttached else {
            self.ended = true
            self.promise.succeed(.stopped)
            return
        }
        self.media.playback?.end(.stopped)  // saves its header into `media.stream`
        self.header = self.media.stream
        // Continue the stream's timestamps by the real time since its last packet.
        if let last = self.media.streamTime {
            let gap = (self.media.clock.eventLoop.now - last).nanoseconds
            if gap > 0 {
                let frames = gap / MediaClock.frameInterval.nanoseconds
                self.header.timestamp &+= UInt32(truncatingIfNeeded: frames) &* self.samplesPerFrame
            }
        }
        self.header.payloadType = self.codec.payloadType
        self.header.marker = true
        self.media.playback = self
        self.media.clock.subscribe(self)
    }

    func tick(frames: Int) {
        var wrote = false
        for _ in 0..<frames {
            self.buffer.clear()
            self.header.write(into: &self.buffer)
            let headerSize = self.buffer.readableBytes
            guard self.source.nextPayload(into: &self.buffer, codec: self.codec) else {
                if wrote { self.media.flush() }
                self.end(.finished)
                return
            }
            if self.buffer.readableBytes > headerSize {
                self.media.write(self.buffer)
                wrote = true
            }
            self.header.advance(samples: self.samplesPerFrame)
        }
        if wrote { self.media.flush() }
    }

    func end(_ outcome: PlaybackOutcome) {
        guard !self.ended else { return }
        self.ended = true
        self.media.clock.unsubscribe(self)
        if self.media.playback === self {
            self.media.playback = nil
            self.media.stream = self.header
            self.media.stream.marker = false
            self.media.streamTime = self.media.clock.eventLoop.now
        }
        self.promise.succeed(outcome)
    }
}

extension RelaySession {
    /// Attaches local media to a leg that is not bridged (the IVR case: the caller talks to pbxd
    /// itself). From now on RTP from the leg's phone goes to `handler` on the loop, and the
    /// returned endpoint can play to the phone from the leg's socket, to its latched (or SDP)
    /// address. A previous attachment of the leg is detached first. `start()` detaches both legs.
    ///
    /// - Throws: `RelaySessionError.bridged` after `start()`, `.closed` after `close()`.
    public func attachLocal(_ leg: RelayLeg, handler: sending any LocalMediaHandler) async throws -> LocalMediaEndpoint {
        let box = NIOLoopBoundBox.makeBoxSendingValue(handler, eventLoop: self.eventLoop)
        let channel = self.rtpChannel(leg)
        let clock = self.mediaClock
        let loop = self.eventLoop
        let attach: @Sendable (RelayState) throws -> LocalMediaEndpoint = { state in
            let endpoint = state.endpoint(leg, rtcp: false)
            guard endpoint.peer == nil else { throw RelaySessionError.bridged }
            guard !state.closed,
                  let context = try? channel.pipeline.syncOperations.context(handlerType: RelayForwardingHandler.self)
            else { throw RelaySessionError.closed }
            endpoint.local?.detach()
            let media = LocalMedia(leg: leg, endpoint: endpoint, context: context, clock: clock, handler: box.value)
            endpoint.local = media
            return LocalMediaEndpoint(media: media, eventLoop: loop)
        }
        return try await self.onLoopThrowing(attach)
    }

    /// Detaches a leg's local media (its playback ends as `.stopped`); packets from the phone are
    /// dropped again until `start()` or another `attachLocal`. No-op when nothing is attached.
    public func detachLocal(_ leg: RelayLeg) async {
        await self.onLoop { state in state.endpoint(leg, rtcp: false).local?.detach() }
    }
}

public enum RelaySessionError: Error, Equatable, Sendable {
    /// Local media needs an unbridged leg.
    case bridged
    case closed
    /// `link` joins sessions of one event loop only (no hop per packet).
    case differentEventLoops
    /// `link` of a leg to itself.
    case sameLeg
}
