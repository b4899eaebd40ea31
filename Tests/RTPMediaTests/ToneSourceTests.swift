import NIOCore
import Testing
@testable import RTPMedia

@Suite struct ToneSourceTests {
    /// Dial tone (350 + 440 Hz) in A-law: 50 frames of 160 bytes for 1 s, then the end; both
    /// components present, nothing at 600 Hz.
    @Test func dualToneALawForOneSecond() {
        var tone = ToneSource(frequencies: [350, 440], duration: .seconds(1))
        var buffer = ByteBuffer()
        var frames = 0
        while tone.nextPayload(into: &buffer, codec: .pcma) { frames += 1 }
        #expect(frames == 50 && buffer.readableBytes == 50 * 160)
        let before = buffer.readableBytes
        #expect(!tone.nextPayload(into: &buffer, codec: .pcma) && buffer.readableBytes == before)
        let samples = buffer.readableBytesView.map(G711.aLawDecode)
        let p350 = goertzelPower(samples, frequency: 350), p440 = goertzelPower(samples, frequency: 440)
        let p600 = goertzelPower(samples, frequency: 600)
        #expect(p350 > 1_000 * p600 && p440 > 1_000 * p600, "350: \(p350) 440: \(p440) 600: \(p600)")
        // Equal amplitudes: equal powers within 10 %.
        #expect(abs(p350 - p440) < 0.1 * p440)
    }

    /// The phase runs on across frames: the concatenation of µ-law frames is one clean tone.
    @Test func endlessMuLawToneIsContinuousAcrossFrames() {
        var tone = ToneSource(frequency: 1000)
        var buffer = ByteBuffer()
        for _ in 0..<200 { #expect(tone.nextPayload(into: &buffer, codec: .pcmu)) }
        #expect(tone.framesLeft == nil)
        let samples = buffer.readableBytesView.map(G711.muLawDecode)
        // Peak close to the requested amplitude (µ-law quantisation ≈ 3 %).
        let peak = samples.map { abs(Int($0)) }.max()!
        #expect(peak > 7_600 && peak < 8_400, "peak \(peak)")
        #expect(goertzelPower(samples, frequency: 1000) > 1_000 * goertzelPower(samples, frequency: 1020))
    }

    @Test func otherCodecsGetNothing() {
        var tone = ToneSource(frequency: 1000, duration: .seconds(1))
        var buffer = ByteBuffer()
        #expect(!tone.nextPayload(into: &buffer, codec: .g722))
        #expect(buffer.readableBytes == 0)
        #expect(tone.framesLeft == 50)  // nothing consumed
    }
}
