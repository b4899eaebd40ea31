import CSpanDSP

/// In-band DTMF detection (the dual tones in the audio itself, for phones that send no RFC 4733
/// events): the one Swift wrapper over spandsp's DTMF receiver (DESIGN.md §1).
///
/// Owns a `dtmf_rx_state_t`; feed it 16-bit linear samples at 8 kHz with `process`. Each digit
/// is reported once through `onDigit`, when spandsp confirms it (a tone pair held for its
/// minimum duration, about 40 ms, with twist and level in range; a pause must separate two
/// presses of the same key). Not thread-safe and not Sendable: one per leg, used on the leg's
/// event loop only.
public final class InbandDTMFDetector {
    /// spandsp's receiver; owned, freed in deinit.
    private let state: OpaquePointer
    private let onDigit: (DTMFDigit) -> Void
    /// Digits reported so far.
    public private(set) var digitsDetected = 0

    /// - Parameters:
    ///   - threshold: the minimum level of each tone, in dBm0 (spandsp's default is −26).
    ///   - onDigit: called synchronously from `process`, on the caller's thread.
    public init(threshold: Int = -26, onDigit: @escaping (DTMFDigit) -> Void) {
        self.onDigit = onDigit
        // No C callback: digits are drained with dtmf_rx_get after each block, so no pointer to
        // self is handed to C (no retain cycle, nothing to invalidate on deinit).
        guard let state = dtmf_rx_init(nil, nil, nil) else {
            fatalError("spandsp dtmf_rx_init failed (out of memory)")
        }
        self.state = state
        // Keep dial-tone filtering off (-1: unchanged) and spandsp's twist limits; set the level.
        dtmf_rx_parms(state, -1, -1, -1, Int32(threshold))
    }

    deinit {
        dtmf_rx_free(self.state)
    }

    /// Feeds a block of 8 kHz 16-bit samples (any length; spandsp keeps state across blocks).
    public func process(_ samples: UnsafeBufferPointer<Int16>) {
        guard let base = samples.baseAddress, !samples.isEmpty else { return }
        _ = dtmf_rx(self.state, base, Int32(samples.count))
        self.drain()
    }

    /// Tells the detector `count` samples were lost (packet loss), so its timing stays right.
    public func fillIn(samples count: Int) {
        guard count > 0 else { return }
        _ = dtmf_rx_fillin(self.state, Int32(count))
    }

    private func drain() {
        // A fixed stack-sized buffer: no allocation per block.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 8) { buffer in
            while true {
                let n = Int(dtmf_rx_get(self.state, buffer.baseAddress, 8))
                guard n > 0 else { return }
                for i in 0..<n {
                    let c = Character(Unicode.Scalar(UInt8(bitPattern: buffer[i])))
                    if let digit = DTMFDigit(c) {
                        self.digitsDetected &+= 1
                        self.onDigit(digit)
                    }
                }
                if n < 8 { return }
            }
        }
    }
}

/// Detects in-band DTMF on a leg: decodes each G.711 packet (PCMU or PCMA by payload type 0/8)
/// into a scratch buffer allocated once, and runs an `InbandDTMFDetector` over it. A detected
/// digit is reported as a `.begin` then an `.end` (in-band tones carry no separate end the caller
/// needs) and interrupts an interruptible playback, like `DTMFDetector` does for RFC 4733.
///
/// Packets of other payload types (telephone-event, comfort noise, other codecs) are ignored.
public final class InbandDTMFHandler: LocalMediaHandler {
    private var detector: InbandDTMFDetector!
    private let onEvent: (DTMFEvent) -> Void
    /// One 20 ms frame is 160 samples; up to 1024 covers any G.711 packetisation seen in practice.
    private let scratch: UnsafeMutableBufferPointer<Int16>
    private var pending: DTMFDigit?

    public init(threshold: Int = -26, onEvent: @escaping (DTMFEvent) -> Void) {
        self.onEvent = onEvent
        self.scratch = .allocate(capacity: 1024)
        self.scratch.initialize(repeating: 0)
        self.detector = InbandDTMFDetector(threshold: threshold) { [unowned self] digit in
            self.pending = digit
        }
    }

    deinit {
        self.scratch.deallocate()
    }

    public func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
        let aLaw: Bool
        switch packet.payloadType {
        case 0: aLaw = false
        case 8: aLaw = true
        default: return .continue
        }
        guard let start = packet.payloadOffset, let length = packet.payloadLength, length > 0 else { return .continue }
        var interrupt = false
        packet.buffer.withUnsafeReadableBytes { raw in
            let codes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]).bindMemory(to: UInt8.self)
            var offset = 0
            while offset < codes.count {
                let n = min(self.scratch.count, codes.count - offset)
                let chunk = UnsafeBufferPointer(rebasing: codes[offset..<(offset + n)])
                let out = UnsafeMutableBufferPointer(rebasing: self.scratch[0..<n])
                if aLaw { G711.aLawDecode(chunk, into: out) } else { G711.muLawDecode(chunk, into: out) }
                self.detector.process(UnsafeBufferPointer(out))
                if let digit = self.pending {
                    self.pending = nil
                    interrupt = true
                    let ts = packet.timestamp &+ UInt32(truncatingIfNeeded: offset)
                    self.onEvent(.begin(DTMFBegin(digit: digit, timestamp: ts)))
                    self.onEvent(.end(DTMFEnd(digit: digit, timestamp: ts, durationSamples: 0, duration: .zero, endSeen: false)))
                }
                offset += n
            }
        }
        return interrupt ? .interruptPlayback : .continue
    }
}

/// Runs several handlers on one leg, in order (RFC 4733 and in-band detection for
/// `dtmfmode=auto`): every handler sees every packet; the packet interrupts playback when any
/// of them says so.
public final class CompositeMediaHandler: LocalMediaHandler {
    public let handlers: [any LocalMediaHandler]

    public init(_ handlers: [any LocalMediaHandler]) {
        self.handlers = handlers
    }

    public func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
        var interrupt = false
        for i in 0..<self.handlers.count where self.handlers[i].receive(packet) == .interruptPlayback {
            interrupt = true
        }
        return interrupt ? .interruptPlayback : .continue
    }
}

/// The DTMF handler for a leg, from what the peer's `dtmfmode` asks for. The channel driver maps:
/// `rfc2833` → the negotiated telephone-event type, no in-band; `inband` → nil, in-band;
/// `auto` → the negotiated type if any, else in-band (`inband: pt == nil`), as Asterisk's
/// auto mode does; `info` → nil, no in-band (digits come by SIP INFO; nothing to detect).
public enum DTMFDetection {
    /// - Parameters:
    ///   - telephoneEventPayloadType: detect RFC 4733 events of this payload type (nil: don't).
    ///   - inband: detect in-band tones in PCMU/PCMA audio.
    ///   - onEvent: as `DTMFDetector`'s: on the loop, a `.begin` then an `.end` per key.
    /// - Returns: one detector, both in a `CompositeMediaHandler`, or one that ignores every
    ///   packet when neither is asked for.
    public static func handler(
        telephoneEventPayloadType: UInt8?, inband: Bool, onEvent: @escaping (DTMFEvent) -> Void
    ) -> any LocalMediaHandler {
        var handlers: [any LocalMediaHandler] = []
        if let pt = telephoneEventPayloadType { handlers.append(DTMFDetector(payloadType: pt, onEvent: onEvent)) }
        if inband { handlers.append(InbandDTMFHandler(onEvent: onEvent)) }
        return handlers.count == 1 ? handlers[0] : CompositeMediaHandler(handlers)
    }
}
