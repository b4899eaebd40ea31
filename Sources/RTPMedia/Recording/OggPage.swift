/// Ogg pages (RFC 3533) as Ogg/Opus files use them (RFC 7845): one logical stream, each page's
/// packets laced into 255-byte segments, the page's CRC over the whole page with its CRC
/// field zeroed.
enum OggPage {
    struct Flags: OptionSet {
        let rawValue: UInt8
        static let beginningOfStream = Flags(rawValue: 0x02)
        static let endOfStream = Flags(rawValue: 0x04)
    }

    /// Lacing values a packet needs (a multiple of 255 ends with a 0).
    static func segmentCount(_ packetLength: Int) -> Int { packetLength / 255 + 1 }

    /// One page holding `packets` whole (the caller keeps the total of segments ≤ 255).
    static func make(packets: [[UInt8]], granule: Int64, serial: UInt32, sequence: UInt32, flags: Flags) -> [UInt8] {
        var lacing: [UInt8] = []
        for packet in packets {
            lacing += [UInt8](repeating: 255, count: packet.count / 255)
            lacing.append(UInt8(packet.count % 255))
        }
        precondition(lacing.count <= 255, "an Ogg page holds at most 255 segments")
        var page = Array("OggS".utf8) + [0, flags.rawValue]
        page += littleEndian(UInt64(bitPattern: granule), bytes: 8)
        page += littleEndian(UInt64(serial), bytes: 4)
        page += littleEndian(UInt64(sequence), bytes: 4)
        page += [0, 0, 0, 0, UInt8(lacing.count)] + lacing
        for packet in packets { page += packet }
        let crc = checksum(page)
        page.replaceSubrange(22..<26, with: littleEndian(UInt64(crc), bytes: 4))
        return page
    }

    /// Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final XOR.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0
        for byte in bytes { crc = (crc << 8) ^ table[Int(UInt8(crc >> 24) ^ byte)] }
        return crc
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var r = UInt32(index) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    static func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
