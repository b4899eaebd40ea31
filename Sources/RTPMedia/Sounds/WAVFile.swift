/// A RIFF/WAVE file holding 16-bit mono linear PCM at 8000 or 16000 Hz: what Asterisk's `.wav`
/// prompts, sox and espeak-ng (after `sox -r 8000 -c 1 -b 16`) produce, and what `Record` writes.
///
/// Parsing walks the RIFF chunks in order: `fmt ` must come before `data`; any other chunk
/// (`LIST`, `fact`, `cue `, `bext`, ...) is skipped, honouring the pad byte after odd-sized
/// chunks. The RIFF size field is not trusted (many writers get it wrong); chunk sizes are, and a
/// chunk that runs past the end of the file is an error. `WAVE_FORMAT_EXTENSIBLE` is accepted when
/// its subformat is PCM. Everything else is rejected with a `SoundFileError` that says why.
public struct WAVFile: Equatable, Sendable {
    /// 8000 or 16000.
    public var sampleRate: Int
    public var samples: [Int16]

    public static let supportedSampleRates: Set<Int> = [8000, 16000]

    public init(sampleRate: Int, samples: [Int16]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    public init(parsing bytes: some Collection<UInt8>) throws(SoundFileError) {
        let b = Array(bytes)
        guard b.count >= 12, b.fourCC(at: 0) == "RIFF" else { throw .notRIFF }
        let formType = b.fourCC(at: 8)
        guard formType == "WAVE" else { throw .notWAVE(formType: formType) }

        var offset = 12
        var rate: Int?
        while offset + 8 <= b.count {
            let id = b.fourCC(at: offset)
            let size = Int(b.uint32LE(at: offset + 4))
            let body = offset + 8
            let available = b.count - body
            switch id {
            case "fmt ":
                guard size <= available else {
                    throw .truncatedChunk(id: id, declared: size, available: available)
                }
                rate = try Self.parseFormat(b, at: body, size: size)
            case "data":
                guard let rate else { throw .missingFormatChunk }
                guard size <= available else {
                    throw .truncatedChunk(id: id, declared: size, available: available)
                }
                self.sampleRate = rate
                self.samples = try decodeLinear16(b[body ..< body + size])
                return
            default:
                // Unknown chunk: skip it. A truncated one only matters if data was still to come,
                // which the missing-data error below reports.
                break
            }
            offset = body + size + (size & 1)
        }
        if rate == nil { throw .missingFormatChunk }
        throw .missingDataChunk
    }

    /// Checks a `fmt ` chunk and returns the sample rate.
    private static func parseFormat(_ b: [UInt8], at p: Int, size: Int) throws(SoundFileError) -> Int {
        guard size >= 16 else { throw .malformedFormatChunk(size: size) }
        var tag = Int(b.uint16LE(at: p))
        let channels = Int(b.uint16LE(at: p + 2))
        let rate = Int(b.uint32LE(at: p + 4))
        let blockAlign = Int(b.uint16LE(at: p + 12))
        let bits = Int(b.uint16LE(at: p + 14))
        // WAVE_FORMAT_EXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then the subformat GUID,
        // whose first two bytes are the real format tag.
        if tag == 0xFFFE, size >= 40, b.uint16LE(at: p + 16) >= 22 {
            let subformat = Int(b.uint16LE(at: p + 24))
            tag = subformat == 1 ? 1 : 0xFFFE
        }
        guard tag == 1 else { throw .unsupportedEncoding(formatTag: tag) }
        guard channels == 1 else { throw .unsupportedChannelCount(channels) }
        guard bits == 16 else { throw .unsupportedBitsPerSample(bits) }
        guard supportedSampleRates.contains(rate) else { throw .unsupportedSampleRate(rate) }
        guard blockAlign == 2 else { throw .inconsistentBlockAlign(blockAlign) }
        return rate
    }

    /// The canonical 44-byte-header file: `RIFF`, `fmt ` (PCM, mono, 16-bit), `data`.
    public func encoded() -> [UInt8] {
        let dataBytes = self.samples.count * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataBytes)
        out.append(contentsOf: Array("RIFF".utf8))
        out.appendLE(UInt32(36 + dataBytes))
        out.append(contentsOf: Array("WAVEfmt ".utf8))
        out.appendLE(UInt32(16))
        out.appendLE(UInt16(1))                       // PCM
        out.appendLE(UInt16(1))                       // mono
        out.appendLE(UInt32(self.sampleRate))
        out.appendLE(UInt32(self.sampleRate * 2))     // byte rate
        out.appendLE(UInt16(2))                       // block align
        out.appendLE(UInt16(16))                      // bits per sample
        out.append(contentsOf: Array("data".utf8))
        out.appendLE(UInt32(dataBytes))
        for s in self.samples { out.appendLE(UInt16(bitPattern: s)) }
        return out
    }
}

/// Little-endian signed 16-bit samples (WAV data and Asterisk's `.sln`).
func decodeLinear16(_ bytes: ArraySlice<UInt8>) throws(SoundFileError) -> [Int16] {
    guard bytes.count % 2 == 0 else { throw .oddSampleDataLength(bytes.count) }
    var samples = [Int16](repeating: 0, count: bytes.count / 2)
    var i = bytes.startIndex
    for n in samples.indices {
        samples[n] = Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
        i += 2
    }
    return samples
}

extension [UInt8] {
    func fourCC(at p: Int) -> String {
        String(decoding: self[p ..< p + 4].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
    func uint16LE(at p: Int) -> UInt16 { UInt16(self[p]) | UInt16(self[p + 1]) << 8 }
    func uint32LE(at p: Int) -> UInt32 {
        UInt32(self[p]) | UInt32(self[p + 1]) << 8 | UInt32(self[p + 2]) << 16 | UInt32(self[p + 3]) << 24
    }
    mutating func appendLE(_ v: UInt16) {
        self.append(UInt8(v & 0xFF))
        self.append(UInt8(v >> 8))
    }
    mutating func appendLE(_ v: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { self.append(UInt8((v >> UInt32(shift)) & 0xFF)) }
    }
}
