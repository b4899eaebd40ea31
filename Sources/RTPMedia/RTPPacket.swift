import NIOCore

/// A view of the fixed 12-byte RTP header (RFC 3550 §5.1) read in place from a `ByteBuffer`.
///
/// Why a view and not a parsed struct of copies: the relay looks at a few header fields of every
/// packet; reading them with `getInteger` at fixed offsets costs no allocation and no copy, and
/// the payload never leaves the buffer it arrived in (STYLE.md §9).
public struct RTPHeaderView {
    /// The buffer whose readable bytes start with the RTP header.
    public let buffer: ByteBuffer

    /// Size of the fixed header, before CSRCs and extension.
    public static let fixedSize = 12

    /// Returns a view if the readable bytes can hold an RTP version-2 fixed header, else nil.
    /// Only the version is checked: the relay forwards what it is given, it is not a validator.
    @inlinable
    public init?(_ buffer: ByteBuffer) {
        guard buffer.readableBytes >= Self.fixedSize,
              let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              first >> 6 == 2
        else { return nil }
        self.buffer = buffer
    }

    @inlinable func byte(_ offset: Int) -> UInt8 {
        self.buffer.getInteger(at: self.buffer.readerIndex + offset, as: UInt8.self)!
    }

    /// Always 2 for a view that was constructed.
    @inlinable public var version: UInt8 { self.byte(0) >> 6 }
    @inlinable public var padding: Bool { self.byte(0) & 0x20 != 0 }
    @inlinable public var hasExtension: Bool { self.byte(0) & 0x10 != 0 }
    @inlinable public var csrcCount: Int { Int(self.byte(0) & 0x0F) }
    @inlinable public var marker: Bool { self.byte(1) & 0x80 != 0 }
    @inlinable public var payloadType: UInt8 { self.byte(1) & 0x7F }
    @inlinable public var sequenceNumber: UInt16 {
        self.buffer.getInteger(at: self.buffer.readerIndex + 2, as: UInt16.self)!
    }
    @inlinable public var timestamp: UInt32 {
        self.buffer.getInteger(at: self.buffer.readerIndex + 4, as: UInt32.self)!
    }
    @inlinable public var ssrc: UInt32 {
        self.buffer.getInteger(at: self.buffer.readerIndex + 8, as: UInt32.self)!
    }

    /// Offset of the payload from the reader index: fixed header, CSRCs and the header
    /// extension (RFC 3550 §5.3.1), or nil when the packet is shorter than its header claims.
    public var payloadOffset: Int? {
        var offset = Self.fixedSize + 4 * self.csrcCount
        if self.hasExtension {
            guard let words = self.buffer.getInteger(
                at: self.buffer.readerIndex + offset + 2, as: UInt16.self
            ) else { return nil }
            offset += 4 + 4 * Int(words)
        }
        return offset <= self.buffer.readableBytes ? offset : nil
    }

    /// Payload length with padding removed (RFC 3550 §5.1: the last octet counts the padding).
    public var payloadLength: Int? {
        guard let start = self.payloadOffset else { return nil }
        var end = self.buffer.readableBytes
        if self.padding {
            guard end > start else { return nil }
            let pad = Int(self.byte(end - 1))
            guard pad >= 1, end - pad >= start else { return nil }
            end -= pad
        }
        return end - start
    }
}

/// What a datagram on an RTP or RTCP port is.
public enum RTPPacketKind: Equatable, Sendable {
    case rtp
    case rtcp
    /// Too short or not version 2: the relay drops these and counts them.
    case invalid

    /// Classifies the readable bytes of `buffer` without copying.
    ///
    /// RFC 5761 §4: when RTP and RTCP share a port the second octet tells them apart; RTCP packet
    /// types 192–223 land on RTP payload types 64–95 with the marker bit set, a range that RFC 5761
    /// reserves, so PT 200–204 (SR, RR, SDES, BYE, APP) means RTCP. RTCP needs only a 4-byte
    /// common header (an empty RR is 8 bytes); RTP needs its 12-byte fixed header.
    @inlinable
    public static func classify(_ buffer: ByteBuffer) -> RTPPacketKind {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 4,
              let first = buffer.getInteger(at: start, as: UInt8.self),
              let second = buffer.getInteger(at: start + 1, as: UInt8.self),
              first >> 6 == 2
        else { return .invalid }
        if second >= 192 && second <= 223 {
            return (200...204).contains(second) ? .rtcp : .invalid
        }
        return buffer.readableBytes >= RTPHeaderView.fixedSize ? .rtp : .invalid
    }
}

/// The fields of an outgoing RTP header. Playback keeps one per stream and advances it
/// per frame; `write(into:)` appends the 12 bytes to a buffer it reuses.
public struct RTPHeader: Equatable, Sendable {
    public var marker: Bool
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]

    public init(
        marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16,
        timestamp: UInt32, ssrc: UInt32, csrcs: [UInt32] = []
    ) {
        precondition(payloadType < 128, "RTP payload type is 7 bits")
        precondition(csrcs.count < 16, "at most 15 CSRCs")
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
    }

    /// Reads a header (fixed part and CSRCs) from a view, e.g. to log or test what was relayed.
    public init(_ view: RTPHeaderView) {
        var csrcs: [UInt32] = []
        for i in 0..<view.csrcCount {
            if let c = view.buffer.getInteger(at: view.buffer.readerIndex + 12 + 4 * i, as: UInt32.self) {
                csrcs.append(c)
            }
        }
        self.init(
            marker: view.marker, payloadType: view.payloadType, sequenceNumber: view.sequenceNumber,
            timestamp: view.timestamp, ssrc: view.ssrc, csrcs: csrcs)
    }

    /// Header size in bytes: 12 plus 4 per CSRC.
    public var size: Int { RTPHeaderView.fixedSize + 4 * self.csrcs.count }

    /// Appends the header (no padding, no extension) to `buffer` and returns the bytes written.
    @discardableResult
    public func write(into buffer: inout ByteBuffer) -> Int {
        let first = UInt8(0x80) | UInt8(self.csrcs.count)
        let second = (self.marker ? UInt8(0x80) : 0) | self.payloadType
        var n = buffer.writeInteger(first)
        n += buffer.writeInteger(second)
        n += buffer.writeInteger(self.sequenceNumber)
        n += buffer.writeInteger(self.timestamp)
        n += buffer.writeInteger(self.ssrc)
        for c in self.csrcs { n += buffer.writeInteger(c) }
        return n
    }

    /// Moves to the next frame: sequence +1 and timestamp + `samples` (both wrap, RFC 3550 §5.1),
    /// marker cleared (it flags only the first packet of a talkspurt).
    public mutating func advance(samples: UInt32) {
        self.sequenceNumber &+= 1
        self.timestamp &+= samples
        self.marker = false
    }
}

/// Builds outgoing RTP packets for one stream into a single reused buffer.
///
/// Why a writer that owns its buffer: playback sends a frame every 20 ms per call; clearing and
/// refilling one buffer keeps that allocation-free once the buffer is no longer shared with a
/// pending write (NIO releases it when the write completes).
public struct RTPPacketWriter {
    public var header: RTPHeader
    private var buffer: ByteBuffer

    public init(header: RTPHeader, allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 1500) {
        self.header = header
        self.buffer = allocator.buffer(capacity: capacity)
    }

    /// Returns a packet carrying `payload` with the current header, then advances the header by
    /// `samples` (e.g. 160 for 20 ms of G.711).
    public mutating func packet(payload: some Collection<UInt8>, samples: UInt32) -> ByteBuffer {
        self.buffer.clear()
        self.header.write(into: &self.buffer)
        self.buffer.writeBytes(payload)
        self.header.advance(samples: samples)
        return self.buffer
    }

    /// Same as `packet(payload:samples:)` for a payload already in a buffer (its readable bytes).
    public mutating func packet(payload: ByteBuffer, samples: UInt32) -> ByteBuffer {
        self.buffer.clear()
        self.header.write(into: &self.buffer)
        var payload = payload
        self.buffer.writeBuffer(&payload)
        self.header.advance(samples: samples)
        return self.buffer
    }
}
