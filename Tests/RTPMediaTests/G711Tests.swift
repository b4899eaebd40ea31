import Testing
@testable import RTPMedia

@Suite struct G711Tests {
    /// Reference points of G.711 (end points and the zero codes).
    @Test func muLawKnownValues() {
        #expect(G711.muLawEncode(0) == 0xFF)
        #expect(G711.muLawEncode(-1) == 0x7F)
        #expect(G711.muLawEncode(32767) == 0x80)
        #expect(G711.muLawEncode(-32768) == 0x00)
        #expect(G711.muLawDecode(0xFF) == 0)
        #expect(G711.muLawDecode(0x7F) == 0)
        #expect(G711.muLawDecode(0x80) == 32124)
        #expect(G711.muLawDecode(0x00) == -32124)
        #expect(G711.muLawDecode(0xF0) == 120)
    }

    @Test func aLawKnownValues() {
        #expect(G711.aLawEncode(0) == 0xD5)
        #expect(G711.aLawEncode(-1) == 0x55)
        #expect(G711.aLawEncode(32767) == 0xAA)
        #expect(G711.aLawEncode(-32768) == 0x2A)
        #expect(G711.aLawDecode(0xD5) == 8)
        #expect(G711.aLawDecode(0x55) == -8)
        #expect(G711.aLawDecode(0xAA) == 32256)
        #expect(G711.aLawDecode(0x2A) == -32256)
    }

    /// decode → encode is the identity on every code (except µ-law's negative zero 0x7F, which
    /// decodes to 0 and re-encodes as positive zero 0xFF).
    @Test func codesRoundTrip() {
        for code in UInt8.min...UInt8.max {
            let mu = G711.muLawEncode(G711.muLawDecode(code))
            #expect(mu == (code == 0x7F ? 0xFF : code))
            #expect(G711.aLawEncode(G711.aLawDecode(code)) == code)
        }
    }

    /// encode → decode stays within a quantisation step of the segment, and is monotonic.
    @Test func samplesRoundTripWithinStep() {
        var previousMu = Int16.min, previousA = Int16.min
        for s in stride(from: -32768, through: 32767, by: 7) {
            let sample = Int16(s)
            let mu = G711.muLawDecode(G711.muLawEncode(sample))
            let a = G711.aLawDecode(G711.aLawEncode(sample))
            let magnitude = abs(Int(sample))
            let muTolerance = magnitude > 32124 ? magnitude - 32124 + 512 : max(8, magnitude / 16)
            #expect(abs(Int(mu) - Int(sample)) <= muTolerance, "µ-law \(sample) → \(mu)")
            #expect(abs(Int(a) - Int(sample)) <= max(16, magnitude / 16), "A-law \(sample) → \(a)")
            #expect(mu >= previousMu && a >= previousA)
            previousMu = mu
            previousA = a
        }
    }

    @Test func tablesMatchArithmetic() {
        for s in Int(Int16.min)...Int(Int16.max) {
            let sample = Int16(s)
            if G711.muLawEncode(sample) != G711.computeMuLaw(sample) { Issue.record("µ \(s)"); return }
            if G711.aLawEncode(sample) != G711.computeALaw(sample) { Issue.record("A \(s)"); return }
        }
        #expect(G711.muLawToALaw(0xFF) == 0xD5)
        #expect(G711.aLawToMuLaw(0xAA) == G711.muLawEncode(32256))
    }

    @Test func bufferAPI() {
        let pcm: [Int16] = [0, 1000, -1000, 32767]
        var mu = [UInt8](repeating: 0, count: 4)
        var back = [Int16](repeating: 0, count: 4)
        pcm.withUnsafeBufferPointer { p in mu.withUnsafeMutableBufferPointer { G711.muLawEncode(p, into: $0) } }
        mu.withUnsafeBufferPointer { p in back.withUnsafeMutableBufferPointer { G711.muLawDecode(p, into: $0) } }
        #expect(mu == pcm.map(G711.muLawEncode))
        #expect(back == mu.map(G711.muLawDecode))
    }
}
