import NIOCore
import Testing
@testable import RTPMedia

@Suite struct RTPPacketTests {
    /// A hand-assembled packet: V=2, P=0, X=0, CC=1, M=1, PT=101, seq 0xBEEF, ts 0x01020304,
    /// SSRC 0xCAFEBABE, CSRC 7, payload 4 bytes.
    static let bytes: [UInt8] = [
        0x81, 0xE5, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04, 0xCA, 0xFE, 0xBA, 0xBE,
        0x00, 0x00, 0x00, 0x07, 0xAA, 0xBB, 0xCC, 0xDD,
    ]

    @Test func readsHeaderInPlace() throws {
        var buffer = ByteBuffer(bytes: [0x55, 0x55] + Self.bytes)
        buffer.moveReaderIndex(forwardBy: 2)  // the view honours readerIndex
        let view = try #require(RTPHeaderView(buffer))
        #expect(view.version == 2)
        #expect(!view.padding && !view.hasExtension)
        #expect(view.csrcCount == 1)
        #expect(view.marker)
        #expect(view.payloadType == 101)
        #expect(view.sequenceNumber == 0xBEEF)
        #expect(view.timestamp == 0x0102_0304)
        #expect(view.ssrc == 0xCAFE_BABE)
        #expect(view.payloadOffset == 16)
        #expect(view.payloadLength == 4)
        #expect(RTPHeader(view).csrcs == [7])
    }

    @Test func extensionAndPadding() throws {
        // X=1, P=1: 12 header + 4 ext header + 4 ext data, payload 2 bytes + 2 padding.
        let bytes: [UInt8] = [0xB0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                              0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4, 9, 9, 0, 2]
        let view = try #require(RTPHeaderView(ByteBuffer(bytes: bytes)))
        #expect(view.padding && view.hasExtension)
        #expect(view.payloadOffset == 20)
        #expect(view.payloadLength == 2)
        // Extension claims more words than present.
        var bad = bytes
        bad[15] = 9
        #expect(RTPHeaderView(ByteBuffer(bytes: bad))?.payloadOffset == nil)
    }

    @Test func rejectsShortOrWrongVersion() {
        #expect(RTPHeaderView(ByteBuffer(bytes: Array(Self.bytes.prefix(11)))) == nil)
        var v1 = Self.bytes
        v1[0] = 0x41
        #expect(RTPHeaderView(ByteBuffer(bytes: v1)) == nil)
    }

    @Test func classifiesRTCPByRFC5761() {
        // Receiver report with no blocks: V=2, RC=0, PT=201, length 1.
        let rr: [UInt8] = [0x80, 201, 0x00, 0x01, 0, 0, 0, 1]
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: rr)) == .rtcp)
        for pt: UInt8 in [200, 202, 203, 204] {
            #expect(RTPPacketKind.classify(ByteBuffer(bytes: [0x80, pt, 0, 1, 0, 0, 0, 0])) == .rtcp)
        }
        // 192...199 and 205...223 are reserved by RFC 5761: neither valid RTP nor RTCP here.
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: [0x80, 195, 0, 1] + [UInt8](repeating: 0, count: 8))) == .invalid)
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: Self.bytes)) == .rtp)
        // PT 0 with marker (0x80) is RTP, not RTCP.
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: [0x80, 0x80] + [UInt8](repeating: 0, count: 10))) == .rtp)
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: [0x80, 0])) == .invalid)
        #expect(RTPPacketKind.classify(ByteBuffer(bytes: [0x00, 0, 0, 0] + [UInt8](repeating: 0, count: 8))) == .invalid)
    }

    @Test func writerProducesReadablePacketsAndAdvances() throws {
        var writer = RTPPacketWriter(header: RTPHeader(marker: true, payloadType: 0, sequenceNumber: 65535,
                                                       timestamp: UInt32.max - 100, ssrc: 42))
        let payload = [UInt8](repeating: 0xFF, count: 160)
        let first = writer.packet(payload: payload, samples: 160)
        let v1 = try #require(RTPHeaderView(first))
        #expect(v1.marker && v1.payloadType == 0 && v1.sequenceNumber == 65535 && v1.ssrc == 42)
        #expect(first.readableBytes == 172)
        #expect(first.getBytes(at: 12, length: 160) == payload)
        let second = writer.packet(payload: ByteBuffer(bytes: payload), samples: 160)
        let v2 = try #require(RTPHeaderView(second))
        #expect(!v2.marker)
        #expect(v2.sequenceNumber == 0)                 // wrapped
        #expect(v2.timestamp == 59)                     // UInt32.max - 100 + 160 wraps to 59
        // The first packet is a value: building the second did not change it.
        #expect(RTPHeaderView(first)?.sequenceNumber == 65535)
        var out = ByteBuffer()
        #expect(RTPHeader(payloadType: 8, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [4, 5]).write(into: &out) == 20)
        #expect(RTPHeaderView(out)?.csrcCount == 2)
    }
}
