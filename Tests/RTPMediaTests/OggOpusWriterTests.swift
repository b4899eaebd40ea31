import COpus
import Foundation
import Testing
@testable import RTPMedia

/// MixMonitor's Ogg/Opus files, read back with an Ogg parser written here (bitwise CRC, not
/// the writer's table) and libopus's decoder.
@Suite struct OggOpusWriterTests {
    struct Page {
        var flags: UInt8
        var granule: Int64
        var sequence: UInt32
        var packets: [[UInt8]]
    }

    /// Every page of `bytes`, each CRC-checked; a page cut short ends the list.
    static func pages(_ bytes: [UInt8]) -> [Page] {
        var out: [Page] = []
        var at = 0
        func le(_ offset: Int, _ count: Int) -> UInt64 { (0..<count).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) } }
        while at + 27 <= bytes.count, Array(bytes[at..<at + 4]) == Array("OggS".utf8) {
            let segments = Int(bytes[at + 26])
            guard at + 27 + segments <= bytes.count else { break }
            let lacing = bytes[at + 27..<at + 27 + segments]
            let end = at + 27 + segments + lacing.reduce(0) { $0 + Int($1) }
            guard end <= bytes.count else { break }
            var page = Array(bytes[at..<end])
            page.replaceSubrange(22..<26, with: [0, 0, 0, 0])
            #expect(UInt32(le(at + 22, 4)) == bitwiseCRC(page), "page \(out.count) CRC")
            var packets: [[UInt8]] = []
            var current: [UInt8] = []
            var offset = at + 27 + segments
            for value in lacing {
                current += bytes[offset..<offset + Int(value)]
                offset += Int(value)
                if value < 255 {
                    packets.append(current)
                    current = []
                }
            }
            out.append(Page(flags: bytes[at + 5], granule: Int64(bitPattern: le(at + 6, 8)), sequence: UInt32(le(at + 18, 4)), packets: packets))
            at = end
        }
        return out
    }

    static func bitwiseCRC(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        for byte in bytes {
            crc ^= UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        }
        return crc
    }

    static func decode(_ packets: [[UInt8]]) -> [Float] {
        var error: Int32 = 0
        let decoder = opus_decoder_create(8000, 1, &error)!
        defer { opus_decoder_destroy(decoder) }
        var out: [Float] = []
        var frame = [Int16](repeating: 0, count: 960)
        for packet in packets {
            let n = packet.withUnsafeBufferPointer { opus_decode(decoder, $0.baseAddress, Int32(packet.count), &frame, 960, 0) }
            out += frame[..<Int(max(0, n))].map { Float($0) / 32768 }
        }
        return out
    }

    static func power(_ x: ArraySlice<Float>, _ frequency: Double) -> Double {
        let k = 2 * cos(2 * Double.pi * frequency / 8000)
        var s1 = 0.0, s2 = 0.0
        for v in x {
            let s0 = Double(v) + k * s1 - s2
            s2 = s1
            s1 = s0
        }
        return (s1 * s1 + s2 * s2 - k * s1 * s2) / Double(x.count * x.count)
    }

    static func tone(_ frequency: Double, samples: Int, from start: Int = 0) -> [Int16] {
        (start..<start + samples).map { Int16(12000 * sin(2 * Double.pi * frequency * Double($0) / 8000)) }
    }

    @Test func writesAPlayableStreamAFifthTheSizeOfTheWAV() throws {
        let path = NSTemporaryDirectory() + "pbxd-opus-\(UUID().uuidString).ogg"
        let writer = try OggOpusWriter(path: path)
        for chunk in 0..<4 { try writer.append(Self.tone(1000, samples: 4000, from: chunk * 4000)) }
        // Mid-call (as after a crash): the pages so far are whole and decode.
        let midway = Self.pages(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(midway.count == 6 && midway.allSatisfy { $0.flags & 0x04 == 0 })
        try writer.append(Self.tone(1000, samples: 100, from: 16000))
        try writer.close()

        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let pages = Self.pages(bytes)
        #expect(pages.map(\.sequence) == Array(0..<UInt32(pages.count)))
        #expect(pages.first?.flags == 0x02 && pages.last?.flags == 0x04)
        let head = try #require(pages.first?.packets.first)
        #expect(Array(head[0..<8]) == Array("OpusHead".utf8) && head[8] == 1 && head[9] == 1 && head.count == 19)
        let preSkip = Int(head[10]) | Int(head[11]) << 8
        #expect(Array(pages[1].packets[0][0..<8]) == Array("OpusTags".utf8))
        // The last granule says exactly 16100 samples at 8 kHz (in 48 kHz units, after the pre-skip).
        #expect(pages.last!.granule == Int64(preSkip + 16100 * 6))
        #expect(zip(pages, pages.dropFirst()).allSatisfy { $0.granule <= $1.granule })
        #expect(bytes.count * 5 < 44 + 16100 * 2, "Ogg/Opus \(bytes.count) bytes vs WAV \(44 + 16100 * 2)")

        let audio = Self.decode(pages.dropFirst(2).flatMap(\.packets))
        let middle = audio[4000..<12000]
        #expect(Self.power(middle, 1000) > 100 * Self.power(middle, 1300), "the decoded file is not the 1 kHz tone")
    }

    @Test func ogaAndOpusNamesGetTheOpusWriterOthersWAV() throws {
        let base = NSTemporaryDirectory() + "pbxd-fmt-\(UUID().uuidString)"
        #expect(try RecordingFormat.writer(path: base + ".ogg", sampleRate: 8000) is OggOpusWriter)
        #expect(try RecordingFormat.writer(path: base + ".OPUS", sampleRate: 8000) is OggOpusWriter)
        #expect(try RecordingFormat.writer(path: base + ".wav", sampleRate: 8000) is WAVStreamWriter)
    }
}
