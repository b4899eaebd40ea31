import NIOCore

/// What the media applications do with a leg's local media besides playing files: tap the
/// phone's packets (Record), send them back (Echo) and send RFC 4733 keys (SendDTMF).
extension LocalMediaEndpoint {
    /// Installs `tap` as the second handler of the phone's packets (after the one given to
    /// `attachLocal`, which keeps detecting DTMF), replacing any previous tap; nil removes it.
    /// Returns false when the endpoint is no longer attached.
    @discardableResult
    public func setTap(_ tap: sending (any LocalMediaHandler)?) async -> Bool {
        let box = NIOLoopBoundBox.makeBoxSendingValue(tap, eventLoop: self.eventLoop)
        let media = self.media
        return
            (try? await self.eventLoop.submit { () -> Bool in
                guard media.value.isAttached else { return false }
                (media.value.tap as? any LocalMediaTapEnding)?.tapRemoved()
                media.value.tap = box.value
                (box.value as? RecordingTap)?.follow(media.value.clock)
                return true
            }.get()) ?? false
    }

    /// Sends every packet the phone sends straight back to it (Asterisk's Echo), in the
    /// endpoint's own outgoing stream (its SSRC, consecutive sequence numbers, timestamps
    /// shifted onto the stream's). Stops any playback. Ends with `setTap(nil)` (or detaching).
    @discardableResult
    public func startEcho() async -> Bool {
        let media = self.media
        return
            (try? await self.eventLoop.submit { () -> Bool in
                let m = media.value
                guard m.isAttached else { return false }
                m.playback?.end(.stopped)
                m.tap = EchoTap(media: m)
                return true
            }.get()) ?? false
    }

    /// Sends one DTMF key as RFC 4733 events, one packet per tick of the media clock, in the
    /// endpoint's outgoing stream (after any playback, which it stops). Returns once the last
    /// end packet left: `.finished`, or `.stopped` if detached or replaced by a playback.
    public func sendDTMF(_ digit: DTMFDigit, payloadType: UInt8, duration: Duration = .milliseconds(100)) async -> PlaybackOutcome
    {
        let media = self.media
        let promise = self.eventLoop.makePromise(of: PlaybackOutcome.self)
        do {
            try await self.eventLoop.submit {
                let sender = DTMFSender(
                    media: media.value, digit: digit, payloadType: payloadType, duration: duration, promise: promise)
                sender.start()
            }.get()
        } catch {
            promise.succeed(.stopped)
        }
        return (try? await promise.futureResult.get()) ?? .stopped
    }
}

/// A tap told when it is replaced or its endpoint detached (on the loop; no packet follows).
public protocol LocalMediaTapEnding: LocalMediaHandler {
    func tapRemoved()
}

/// Echo's tap: rewrites each packet into the leg's outgoing stream and sends it back.
final class EchoTap: LocalMediaHandler {
    // Strong: the tap is owned by `media` and dropped on `setTap`/`detach`, which ends the cycle.
    private let media: LocalMedia
    private var buffer: ByteBuffer
    private var timestampOffset: UInt32?

    init(media: LocalMedia) {
        self.media = media
        self.buffer = media.context.channel.allocator.buffer(capacity: 12 + 1500)
    }

    func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
        guard let offset = packet.payloadOffset, let length = packet.payloadLength else { return .continue }
        let m = self.media
        var marker = packet.marker
        if self.timestampOffset == nil {
            self.timestampOffset = (m.stream.timestamp &+ 160) &- packet.timestamp
            marker = true
        }
        m.stream.marker = marker
        m.stream.payloadType = packet.payloadType
        m.stream.timestamp = packet.timestamp &+ (self.timestampOffset ?? 0)
        self.buffer.clear()
        m.stream.write(into: &self.buffer)
        let start = packet.buffer.readerIndex + offset
        if let payload = packet.buffer.getSlice(at: start, length: length) {
            var payload = payload
            self.buffer.writeBuffer(&payload)
        }
        m.write(self.buffer)
        m.flush()
        m.stream.sequenceNumber &+= 1
        m.stream.marker = false
        m.streamTime = m.clock.eventLoop.now
        return .continue
    }
}

/// One RFC 4733 key on the media clock: a packet per tick from `DTMFEventEncoder`.
final class DTMFSender: MediaClockSubscriber, PlaybackControl {
    private let media: LocalMedia
    private var encoder: DTMFEventEncoder
    private let promise: EventLoopPromise<PlaybackOutcome>
    private var buffer: ByteBuffer
    private var ended = false
    let interruptible = false

    init(media: LocalMedia, digit: DTMFDigit, payloadType: UInt8, duration: Duration, promise: EventLoopPromise<PlaybackOutcome>)
    {
        self.media = media
        self.promise = promise
        media.playback?.end(.stopped)  // saves its header into `media.stream`
        var timestamp = media.stream.timestamp
        if let last = media.streamTime {
            let frames = max(0, (media.clock.eventLoop.now - last).nanoseconds / MediaClock.frameInterval.nanoseconds)
            timestamp &+= UInt32(truncatingIfNeeded: frames) &* 160
        }
        self.encoder = DTMFEventEncoder(
            digit: digit, payloadType: payloadType, ssrc: media.stream.ssrc, sequenceNumber: media.stream.sequenceNumber,
            timestamp: timestamp, duration: duration)
        self.buffer = media.context.channel.allocator.buffer(capacity: 12 + 4)
    }

    func start() {
        guard self.media.isAttached else { return self.end(.stopped) }
        self.media.playback = self
        self.media.clock.subscribe(self)
    }

    func tick(frames: Int) {
        for _ in 0..<frames {
            self.buffer.clear()
            guard self.encoder.nextPacket(into: &self.buffer) else { break }
            self.media.write(self.buffer)
        }
        self.media.flush()
        if self.encoder.isFinished { self.end(.finished) }
    }

    func end(_ outcome: PlaybackOutcome) {
        guard !self.ended else { return }
        self.ended = true
        self.media.clock.unsubscribe(self)
        if self.media.playback === self {
            self.media.playback = nil
        }
        // The stream goes on after the key: next sequence number, timestamp after its duration.
        self.media.stream.sequenceNumber = self.encoder.header.sequenceNumber
        self.media.stream.timestamp = self.encoder.nextMediaTimestamp
        self.media.stream.marker = false
        self.media.streamTime = self.media.clock.eventLoop.now
        self.promise.succeed(outcome)
    }
}
