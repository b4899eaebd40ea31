/// ITU-T G.711 companding: µ-law (PCMU, PT 0) and A-law (PCMA, PT 8).
///
/// Why tables: every sample of every recorded, played or transcoded frame goes through here. The
/// segment arithmetic is computed once into lookup tables (256 entries to decode, 65,536 to
/// encode a 16-bit sample, 64 KiB each), so the per-sample cost is one indexed load. The
/// arithmetic below is the G.711 definition; the tables are built from it on first use.
public enum G711 {
    // MARK: Per-sample API

    @inlinable public static func muLawEncode(_ sample: Int16) -> UInt8 {
        Tables.muLawEncode[Int(UInt16(bitPattern: sample))]
    }
    @inlinable public static func muLawDecode(_ code: UInt8) -> Int16 {
        Tables.muLawDecode[Int(code)]
    }
    @inlinable public static func aLawEncode(_ sample: Int16) -> UInt8 {
        Tables.aLawEncode[Int(UInt16(bitPattern: sample))]
    }
    @inlinable public static func aLawDecode(_ code: UInt8) -> Int16 {
        Tables.aLawDecode[Int(code)]
    }
    /// PCMU → PCMA without going through linear in the caller (a bridge between a µ-law and an
    /// A-law phone transcodes with one lookup per byte).
    @inlinable public static func muLawToALaw(_ code: UInt8) -> UInt8 { Tables.muToA[Int(code)] }
    @inlinable public static func aLawToMuLaw(_ code: UInt8) -> UInt8 { Tables.aToMu[Int(code)] }

    // MARK: Buffer API (in place into caller-provided storage: no allocation)

    public static func muLawEncode(_ samples: UnsafeBufferPointer<Int16>, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= samples.count)
        for i in samples.indices { out[i] = muLawEncode(samples[i]) }
    }
    public static func muLawDecode(_ codes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<Int16>) {
        precondition(out.count >= codes.count)
        for i in codes.indices { out[i] = muLawDecode(codes[i]) }
    }
    public static func aLawEncode(_ samples: UnsafeBufferPointer<Int16>, into out: UnsafeMutableBufferPointer<UInt8>) {
        precondition(out.count >= samples.count)
        for i in samples.indices { out[i] = aLawEncode(samples[i]) }
    }
    public static func aLawDecode(_ codes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<Int16>) {
        precondition(out.count >= codes.count)
        for i in codes.indices { out[i] = aLawDecode(codes[i]) }
    }

    // MARK: The G.711 arithmetic (used to build the tables, and by tests as the reference)

    /// µ-law: bias the magnitude by 0x84 so every segment starts on a power of two, then
    /// exponent = segment, mantissa = the 4 bits below the leading one; the code is inverted.
    public static func computeMuLaw(_ sample: Int16) -> UInt8 {
        let bias = 0x84
        let clip = 32635
        var magnitude = Int(sample)
        let sign: Int
        if magnitude < 0 {
            sign = 0x80
            magnitude = -magnitude
        } else {
            sign = 0
        }
        magnitude = min(magnitude, clip) + bias
        // Leading one is at bit 7...14 → exponent 0...7.
        let exponent = (Int.bitWidth - magnitude.leadingZeroBitCount - 1) - 7
        let mantissa = (magnitude >> (exponent + 3)) & 0x0F
        return ~UInt8(sign | (exponent << 4) | mantissa)
    }

    public static func computeMuLawDecode(_ code: UInt8) -> Int16 {
        let u = Int(~code)
        let bias = 0x84
        var t = ((u & 0x0F) << 3) + bias
        t <<= (u & 0x70) >> 4
        return Int16((u & 0x80) != 0 ? bias - t : t - bias)
    }

    /// A-law: 13-bit magnitude (ones' complement for negatives), segment found from the top
    /// bit, 4 mantissa bits; even bits inverted (XOR 0x55) and the sign bit set for positives.
    public static func computeALaw(_ sample: Int16) -> UInt8 {
        var pcm = Int(sample) >> 3
        let mask: Int
        if pcm >= 0 {
            mask = 0xD5
        } else {
            mask = 0x55
            pcm = -pcm - 1
        }
        // Segment ends: 0x1F, 0x3F, 0x7F, ..., 0xFFF.
        var segment = 0
        while segment < 8 && pcm > (0x20 << segment) - 1 { segment += 1 }
        if segment >= 8 { return UInt8(0x7F ^ mask) }
        var code = segment << 4
        code |= segment < 2 ? (pcm >> 1) & 0x0F : (pcm >> segment) & 0x0F
        return UInt8(code ^ mask)
    }

    public static func computeALawDecode(_ code: UInt8) -> Int16 {
        let a = Int(code ^ 0x55)
        var t = (a & 0x0F) << 4
        let segment = (a & 0x70) >> 4
        switch segment {
        case 0: t += 8
        case 1: t += 0x108
        default:
            t += 0x108
            t <<= segment - 1
        }
        return Int16((a & 0x80) != 0 ? t : -t)
    }

    /// The precomputed tables. `static let` gives thread-safe one-time initialisation.
    public enum Tables {
        public static let muLawDecode: [Int16] = (0...255).map { computeMuLawDecode(UInt8($0)) }
        public static let aLawDecode: [Int16] = (0...255).map { computeALawDecode(UInt8($0)) }
        public static let muLawEncode: [UInt8] = (0...65535).map {
            computeMuLaw(Int16(bitPattern: UInt16($0)))
        }
        public static let aLawEncode: [UInt8] = (0...65535).map {
            computeALaw(Int16(bitPattern: UInt16($0)))
        }
        public static let muToA: [UInt8] = (0...255).map { computeALaw(computeMuLawDecode(UInt8($0))) }
        public static let aToMu: [UInt8] = (0...255).map { computeMuLaw(computeALawDecode(UInt8($0))) }
    }
}
