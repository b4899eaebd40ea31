import NIOCore

/// A DTMF key: RFC 4733 §3.2 events 0–15 ("0"–"9", "*", "#", "A"–"D").
public struct DTMFDigit: Hashable, Sendable, CustomStringConvertible {
    /// The RFC 4733 event code, 0...15.
    public let event: UInt8

    static let characters: [Character] = Array("0123456789*#ABCD")

    /// nil for events that are not DTMF keys (flash 16, modem and fax tones, ...).
    @inlinable
    public init?(event: UInt8) {
        guard event < 16 else { return nil }
        self.event = event
    }

    /// "0"..."9", "*", "#", "A"..."D" (lowercase accepted).
    public init?(_ character: Character) {
        guard let i = Self.characters.firstIndex(of: Character(character.uppercased())) else { return nil }
        self.event = UInt8(i)
    }

    public var character: Character { Self.characters[Int(self.event)] }
    public var description: String { String(self.character) }
}

/// The first packet seen of a telephone event.
public struct DTMFBegin: Equatable, Sendable {
    public var digit: DTMFDigit
    /// The event's RTP timestamp (its start), the same in all its packets.
    public var timestamp: UInt32
}

/// The end of a telephone event: the digit, reported once.
public struct DTMFEnd: Equatable, Sendable {
    public var digit: DTMFDigit
    public var timestamp: UInt32
    /// Duration in timestamp units (samples at the event's clock rate).
    public var durationSamples: Int
    /// Duration in time.
    public var duration: Duration
    /// False when no packet with the E bit arrived: the event was ended by the next event
    /// (RFC 4733 §2.5.2.2: all its end packets were lost) or by `finish()`.
    public var endSeen: Bool
}

/// What the decoder reports for one packet.
public enum DTMFEvent: Equatable, Sendable {
    case begin(DTMFBegin)
    case end(DTMFEnd)
}

/// RFC 4733 §2.3 telephone-event payload: event, E bit, volume, duration.
public struct TelephoneEventPayload: Equatable, Sendable {
    public var event: UInt8
    public var isEnd: Bool
    /// Power level in −dBm0 (0...63).
    public var volume: UInt8
    public var duration: UInt16

    public static let size = 4

    public init(event: UInt8, isEnd: Bool, volume: UInt8 = 10, duration: UInt16) {
        self.event = event
        self.isEnd = isEnd
        self.volume = volume & 0x3F
        self.duration = duration
    }

    /// Reads the first event block of an RTP packet's payload; nil when shorter than 4 bytes.
    @inlinable
    public init?(_ packet: RTPHeaderView) {
        guard let offset = packet.payloadOffset, let length = packet.payloadLength, length >= Self.size else {
            return nil
        }
        let at = packet.buffer.readerIndex + offset
        let event = packet.buffer.getInteger(at: at, as: UInt8.self)!
        let flags = packet.buffer.getInteger(at: at + 1, as: UInt8.self)!
        let duration = packet.buffer.getInteger(at: at + 2, as: UInt16.self)!
        self.init(event: event, isEnd: flags & 0x80 != 0, volume: flags & 0x3F, duration: duration)
    }

    @discardableResult
    public func write(into buffer: inout ByteBuffer) -> Int {
        buffer.writeInteger(self.event) + buffer.writeInteger((self.isEnd ? UInt8(0x80) : 0) | self.volume)
            + buffer.writeInteger(self.duration)
    }
}

/// Receives RFC 4733 telephone events (DTMF) from RTP and reports each key press once.
///
/// A state machine as a value (STYLE.md §3); feed it every RTP packet of the stream, it ignores
/// other payload types. RFC 4733 §2.5.2: all packets of one event carry the event's start as RTP
/// timestamp, so a new timestamp is a new event; the duration grows in each update; the last
/// packet has the E bit and is sent three times (§2.5.1.4). Reported:
/// - `.begin` on the first packet seen of an event (usually the one with the marker bit);
/// - `.end` once, on the first E packet; the redundant and retransmitted E packets, and any
///   packet of that event arriving later, are ignored;
/// - an event whose start packets were lost but whose E packet arrived: `.begin` then `.end`,
///   from that one packet — still one digit;
/// - an event never ended (all E packets lost) is ended when the next event starts
///   (`.end` with `endSeen == false`, then the new `.begin`), or by `finish()`.
/// Packets with a timestamp older than the current event (reordered, RFC 3550 serial arithmetic)
/// are ignored. Events other than 0–15 (flash, fax tones) are ignored. Long events split into
/// segments (§2.5.1.3, > 8 s at 8 kHz) are reported as successive digits: not a key press a
/// menu sees.
public struct DTMFEventDecoder: Sendable {
    /// The negotiated telephone-event payload type (SDP `a=rtpmap:<pt> telephone-event/8000`).
    public let payloadType: UInt8
    public let clockRate: Int

    enum State: Equatable, Sendable {
        case idle
        case active(digit: DTMFDigit, timestamp: UInt32, duration: UInt16)
        case ended(timestamp: UInt32)
    }

    private(set) var state: State = .idle

    public init(payloadType: UInt8, clockRate: Int = 8000) {
        precondition(clockRate > 0)
        self.payloadType = payloadType
        self.clockRate = clockRate
    }

    /// Up to three reports from one packet, in order, without allocating.
    public struct Reports: Sequence, Equatable, Sendable {
        public private(set) var count = 0
        private var r0: DTMFEvent?, r1: DTMFEvent?, r2: DTMFEvent?

        public static let none = Reports()

        mutating func append(_ e: DTMFEvent) {
            switch self.count {
            case 0: self.r0 = e
            case 1: self.r1 = e
            default: self.r2 = e
            }
            self.count += 1
        }

        public var isEmpty: Bool { self.count == 0 }

        public struct Iterator: IteratorProtocol {
            let reports: Reports
            var index = 0
            public mutating func next() -> DTMFEvent? {
                defer { self.index += 1 }
                switch self.index {
                case 0: return self.reports.r0
                case 1: return self.reports.r1
                case 2: return self.reports.r2
                default: return nil
                }
            }
        }

        public func makeIterator() -> Iterator { Iterator(reports: self) }
    }

    /// Feeds one RTP packet (any payload type).
    public mutating func receive(_ packet: RTPHeaderView) -> Reports {
        guard packet.payloadType == self.payloadType, let payload = TelephoneEventPayload(packet),
              let digit = DTMFDigit(event: payload.event)
        else { return .none }
        return self.receive(digit: digit, isEnd: payload.isEnd, duration: payload.duration, timestamp: packet.timestamp)
    }

    /// The state machine proper, on decoded fields.
    public mutating func receive(digit: DTMFDigit, isEnd: Bool, duration: UInt16, timestamp: UInt32) -> Reports {
        var reports = Reports()
        switch self.state {
        case .idle:
            break
        case .active(let current, let start, let soFar):
            if timestamp == start {
                if isEnd {
                    reports.append(.end(self.end(current, start, max(soFar, duration), endSeen: true)))
                    self.state = .ended(timestamp: start)
                } else {
                    self.state = .active(digit: current, timestamp: start, duration: max(soFar, duration))
                }
                return reports
            }
            if Self.isOlder(timestamp, than: start) { return reports }
            reports.append(.end(self.end(current, start, soFar, endSeen: false)))
        case .ended(let last):
            if timestamp == last || Self.isOlder(timestamp, than: last) { return reports }
        }
        // A new event.
        reports.append(.begin(DTMFBegin(digit: digit, timestamp: timestamp)))
        if isEnd {
            reports.append(.end(self.end(digit, timestamp, duration, endSeen: true)))
            self.state = .ended(timestamp: timestamp)
        } else {
            self.state = .active(digit: digit, timestamp: timestamp, duration: duration)
        }
        return reports
    }

    /// Ends an event still in progress (the stream stopped, or a caller's timeout): its `.end`
    /// with `endSeen == false`, or nil when none is in progress.
    public mutating func finish() -> DTMFEnd? {
        guard case .active(let digit, let start, let duration) = self.state else { return nil }
        self.state = .ended(timestamp: start)
        return self.end(digit, start, duration, endSeen: false)
    }

    private func end(_ digit: DTMFDigit, _ timestamp: UInt32, _ duration: UInt16, endSeen: Bool) -> DTMFEnd {
        DTMFEnd(
            digit: digit, timestamp: timestamp, durationSamples: Int(duration),
            duration: .nanoseconds(Int64(duration) * 1_000_000_000 / Int64(self.clockRate)), endSeen: endSeen)
    }

    /// RFC 3550 serial arithmetic on 32-bit timestamps.
    static func isOlder(_ a: UInt32, than b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
}

/// Sends one DTMF key as RFC 4733 telephone events: the packets of one event, for the caller to
/// send one every `packetInterval` (on the media clock).
///
/// RFC 4733 §2.5.1: every packet carries the event's start as timestamp; the first has the marker
/// bit; each update carries the duration so far (here including the 20 ms it covers, so it is
/// never 0); the last one has the E bit and the full duration and is sent three times
/// (§2.5.1.4). Each packet gets the next sequence number. A 100 ms key at 20 ms gives durations
/// 160 (M), 320, 480, 640, 800 E, 800 E, 800 E.
public struct DTMFEventEncoder: Sendable {
    public let digit: DTMFDigit
    public let durationSamples: Int
    public let packetSamples: Int
    public let volume: UInt8
    /// The header of the next packet (sequence number advances per packet, timestamp stays).
    public private(set) var header: RTPHeader
    /// Packets produced so far.
    public private(set) var packetsSent = 0

    public static let endRepeats = 3

    /// - Parameters:
    ///   - timestamp: the event's start, normally the timestamp the next audio frame would have.
    ///   - duration: key length (RFC 4733 suggests ≥ 40 ms; Asterisk sends 100 ms by default).
    public init(
        digit: DTMFDigit, payloadType: UInt8, ssrc: UInt32, sequenceNumber: UInt16, timestamp: UInt32,
        duration: Duration = .milliseconds(100), clockRate: Int = 8000,
        packetInterval: Duration = .milliseconds(20), volume: UInt8 = 10
    ) {
        func samples(_ d: Duration) -> Int {
            let (s, atto) = d.components
            return Int(s) * clockRate + Int(atto / 1_000_000_000) * clockRate / 1_000_000_000
        }
        let total = samples(duration), step = samples(packetInterval)
        precondition(total > 0 && total <= Int(UInt16.max), "one RFC 4733 event lasts 1...65535 samples")
        precondition(step > 0)
        self.digit = digit
        self.durationSamples = total
        self.packetSamples = step
        self.volume = volume
        self.header = RTPHeader(
            marker: true, payloadType: payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp, ssrc: ssrc)
    }

    /// Update packets before the E packets: those whose duration stays below the total.
    public var updatePackets: Int { (self.durationSamples - 1) / self.packetSamples }
    public var totalPackets: Int { self.updatePackets + Self.endRepeats }
    public var isFinished: Bool { self.packetsSent >= self.totalPackets }
    /// Timestamp for the audio that follows the event (start + duration).
    public var nextMediaTimestamp: UInt32 { self.header.timestamp &+ UInt32(self.durationSamples) }

    /// Appends the next packet (header and payload) to `buffer`; false when all were produced.
    public mutating func nextPacket(into buffer: inout ByteBuffer) -> Bool {
        guard !self.isFinished else { return false }
        let k = self.packetsSent
        let isEnd = k >= self.updatePackets
        let duration = isEnd ? self.durationSamples : (k + 1) * self.packetSamples
        self.header.write(into: &buffer)
        TelephoneEventPayload(event: self.digit.event, isEnd: isEnd, volume: self.volume, duration: UInt16(duration))
            .write(into: &buffer)
        self.header.sequenceNumber &+= 1
        self.header.marker = false
        self.packetsSent += 1
        return true
    }

    /// All packets of the event at once (control path, tests).
    public mutating func allPackets() -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        var b = ByteBuffer()
        while self.nextPacket(into: &b) {
            out.append(b)
            b = ByteBuffer()
        }
        return out
    }
}
