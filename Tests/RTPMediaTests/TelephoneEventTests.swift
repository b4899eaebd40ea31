import NIOCore
import Testing
@testable import RTPMedia

/// An RFC 4733 telephone-event packet (4-byte payload) as bytes.
func telephoneEventPacket(
    _ digit: Character, end: Bool, duration: UInt16, timestamp: UInt32, seq: UInt16,
    pt: UInt8 = 101, marker: Bool = false, ssrc: UInt32 = 0xD7F0
) -> [UInt8] {
    var b = ByteBuffer()
    RTPHeader(marker: marker, payloadType: pt, sequenceNumber: seq, timestamp: timestamp, ssrc: ssrc).write(into: &b)
    TelephoneEventPayload(event: DTMFDigit(digit)!.event, isEnd: end, duration: duration).write(into: &b)
    return Array(b.readableBytesView)
}

@Suite struct TelephoneEventTests {
    /// Feeds packets, returns what each one reported, as short strings: "b1" begin of 1,
    /// "e1:800" end of 1 with its duration in samples, "e1:800?" an end without an E packet.
    static func run(_ decoder: inout DTMFEventDecoder, _ packets: [[UInt8]]) -> [[String]] {
        packets.map { bytes in
            decoder.receive(RTPHeaderView(ByteBuffer(bytes: bytes))!).map(Self.short)
        }
    }

    static func short(_ e: DTMFEvent) -> String {
        switch e {
        case .begin(let b): "b\(b.digit)"
        case .end(let e): "e\(e.digit):\(e.durationSamples)\(e.endSeen ? "" : "?")"
        }
    }

    @Test func digitsMapToEventCodes() {
        #expect("0123456789*#ABCD".map { DTMFDigit($0)!.event } == Array(0...15))
        #expect(DTMFDigit("d")?.character == "D")
        #expect(DTMFDigit("x") == nil && DTMFDigit(event: 16) == nil)
        #expect(DTMFDigit(event: 11)?.description == "#")
    }

    @Test func oneKeyWithRedundantEndPacketsIsOneDigit() {
        var d = DTMFEventDecoder(payloadType: 101)
        let p = [
            telephoneEventPacket("5", end: false, duration: 160, timestamp: 8000, seq: 1, marker: true),
            telephoneEventPacket("5", end: false, duration: 320, timestamp: 8000, seq: 2),
            telephoneEventPacket("5", end: false, duration: 480, timestamp: 8000, seq: 3),
            telephoneEventPacket("5", end: true, duration: 640, timestamp: 8000, seq: 4),
            telephoneEventPacket("5", end: true, duration: 640, timestamp: 8000, seq: 5),
            telephoneEventPacket("5", end: true, duration: 640, timestamp: 8000, seq: 6),
            // A retransmission (same seq) after the audio resumed, and a late update.
            rtpPacket(pt: 0, seq: 7),
            telephoneEventPacket("5", end: true, duration: 640, timestamp: 8000, seq: 6),
            telephoneEventPacket("5", end: false, duration: 480, timestamp: 8000, seq: 3),
        ]
        #expect(Self.run(&d, p) == [["b5"], [], [], ["e5:640"], [], [], [], [], []])
        // 640 samples at 8 kHz.
        var again = DTMFEventDecoder(payloadType: 101)
        let ends = p.compactMap { again.receive(RTPHeaderView(ByteBuffer(bytes: $0))!).first { if case .end = $0 { true } else { false } } }
        #expect(ends.count == 1)
        if case .end(let e) = ends.first { #expect(e.duration == .milliseconds(80) && e.endSeen && e.timestamp == 8000) }
    }

    @Test func lostStartPacketsButEndSeenIsStillOneDigit() {
        var d = DTMFEventDecoder(payloadType: 101)
        let p = (0..<3).map { telephoneEventPacket("#", end: true, duration: 800, timestamp: 100, seq: UInt16(10 + $0)) }
        #expect(Self.run(&d, p) == [["b#", "e#:800"], [], []])
    }

    @Test func otherPayloadTypesAndEventsAreIgnored() {
        var d = DTMFEventDecoder(payloadType: 96)
        var flash = ByteBuffer()
        RTPHeader(payloadType: 96, sequenceNumber: 3, timestamp: 1, ssrc: 1).write(into: &flash)
        TelephoneEventPayload(event: 16, isEnd: true, duration: 800).write(into: &flash)
        var short = ByteBuffer()
        RTPHeader(payloadType: 96, sequenceNumber: 4, timestamp: 2, ssrc: 1).write(into: &short)
        short.writeBytes([1, 0x80])  // 2 bytes: not a telephone-event payload
        let p = [
            telephoneEventPacket("1", end: false, duration: 160, timestamp: 0, seq: 1, pt: 101),
            telephoneEventPacket("1", end: true, duration: 800, timestamp: 0, seq: 2, pt: 101),
            rtpPacket(pt: 0, seq: 3),
            Array(flash.readableBytesView),
            Array(short.readableBytesView),
        ]
        #expect(Self.run(&d, p) == [[], [], [], [], []])
        #expect(d.state == .idle)
    }

    @Test func newTimestampIsANewEventEvenForTheSameKey() {
        var d = DTMFEventDecoder(payloadType: 101)
        let p = [
            telephoneEventPacket("1", end: false, duration: 160, timestamp: 1000, seq: 1, marker: true),
            telephoneEventPacket("1", end: true, duration: 400, timestamp: 1000, seq: 2),
            telephoneEventPacket("1", end: true, duration: 400, timestamp: 1000, seq: 3),
            telephoneEventPacket("1", end: false, duration: 160, timestamp: 3000, seq: 4, marker: true),
            telephoneEventPacket("1", end: true, duration: 480, timestamp: 3000, seq: 5),
        ]
        #expect(Self.run(&d, p) == [["b1"], ["e1:400"], [], ["b1"], ["e1:480"]])
    }

    @Test func eventWhoseEndPacketsWereLostIsEndedByTheNextOne() {
        var d = DTMFEventDecoder(payloadType: 101)
        let p = [
            telephoneEventPacket("2", end: false, duration: 160, timestamp: 1000, seq: 1, marker: true),
            telephoneEventPacket("2", end: false, duration: 320, timestamp: 1000, seq: 2),
            // "3" whose first packet seen is already an end packet: three reports from one packet.
            telephoneEventPacket("3", end: true, duration: 640, timestamp: 5000, seq: 9),
        ]
        #expect(Self.run(&d, p) == [["b2"], [], ["e2:320?", "b3", "e3:640"]])
    }

    @Test func olderTimestampsAreStaleAndWrapAroundIsNewer() {
        var d = DTMFEventDecoder(payloadType: 101)
        let p = [
            telephoneEventPacket("4", end: true, duration: 800, timestamp: 0xFFFF_FF00, seq: 1),
            // Reordered packet of an earlier event: ignored.
            telephoneEventPacket("9", end: true, duration: 800, timestamp: 0xFFFF_0000, seq: 0),
            // Timestamp wrapped: newer.
            telephoneEventPacket("7", end: false, duration: 160, timestamp: 0x0000_0100, seq: 2),
            telephoneEventPacket("8", end: false, duration: 160, timestamp: 0x0000_0050, seq: 3),
        ]
        #expect(Self.run(&d, p) == [["b4", "e4:800"], [], ["b7"], []])
        #expect(d.finish().map { "\($0.digit):\($0.durationSamples):\($0.endSeen)" } == "7:160:false")
        #expect(d.finish() == nil)
    }

    @Test func encoderProducesTheRFC4733Sequence() {
        var e = DTMFEventEncoder(
            digit: DTMFDigit("1")!, payloadType: 101, ssrc: 42, sequenceNumber: 65534, timestamp: 16000,
            duration: .milliseconds(100))
        #expect(e.totalPackets == 7 && e.nextMediaTimestamp == 16800)
        let packets = e.allPackets()
        #expect(e.isFinished)
        var extra = ByteBuffer()
        #expect(!e.nextPacket(into: &extra) && extra.readableBytes == 0)
        let views = packets.map { RTPHeaderView($0)! }
        let payloads = views.map { TelephoneEventPayload($0)! }
        #expect(payloads.map(\.duration) == [160, 320, 480, 640, 800, 800, 800])
        #expect(payloads.map(\.isEnd) == [false, false, false, false, true, true, true])
        #expect(payloads.allSatisfy { $0.event == 1 && $0.volume == 10 })
        #expect(views.map(\.marker) == [true, false, false, false, false, false, false])
        #expect(views.map(\.sequenceNumber) == [65534, 65535, 0, 1, 2, 3, 4])
        #expect(views.allSatisfy { $0.timestamp == 16000 && $0.ssrc == 42 && $0.payloadType == 101 })
        #expect(packets.allSatisfy { $0.readableBytes == 16 })
        #expect(e.header.sequenceNumber == 5)

        // A 20 ms key: only the three end packets, the first one with the marker.
        var short = DTMFEventEncoder(
            digit: DTMFDigit("#")!, payloadType: 96, ssrc: 1, sequenceNumber: 0, timestamp: 0, duration: .milliseconds(20))
        let s = short.allPackets().map { RTPHeaderView($0)! }
        #expect(s.map { TelephoneEventPayload($0)!.isEnd } == [true, true, true] && s.map(\.marker) == [true, false, false])

        // Round trip through the decoder: one digit with its duration.
        var d = DTMFEventDecoder(payloadType: 101)
        let reports = packets.flatMap { Array(d.receive(RTPHeaderView($0)!)).map(TelephoneEventTests.short) }
        #expect(reports == ["b1", "e1:800"])
    }
}
