import Foundation
import Testing
@testable import RTPMedia

/// Decoded audio is measured, not assumed: tone frequency by Goertzel, levels, aliasing.
@Suite struct SoundDecodeTests {
    typealias T = SoundTestSupport

    /// Power at `f` relative to the strongest of a set of other frequencies, in dB.
    func dominance(_ samples: [Int16], at f: Double, over others: [Double]) -> Double {
        let p = T.goertzelPower(samples, frequency: f, rate: 8000)
        let worst = others.map { T.goertzelPower(samples, frequency: $0, rate: 8000) }.max()!
        return 10 * log10(p / worst)
    }

    @Test(arguments: [8000, 16000])
    func oneKilohertzSineWAVDecodesToOneKilohertz(rate: Int) throws {
        let root = try T.makeTemporaryDirectory()
        defer { T.removeTemporaryDirectory(root) }
        let tone = T.sine(frequency: 1000, rate: rate, count: rate / 2)  // 500 ms
        try T.write(WAVFile(sampleRate: rate, samples: tone).encoded(), to: "en/tone.wav", in: root)
        let file = try #require(SoundLibrary(searchPath: [root]).find("tone", language: "en", preferring: .ulaw))
        let samples = try file.read().samples8k()
        #expect(samples.count == 4000)
        #expect(dominance(samples, at: 1000, over: [500, 800, 1200, 1500, 2000, 3000]) > 30)
        // Amplitude kept (the low-pass is flat at 1 kHz): power of a 16000-peak sine is 16000²/4.
        let power = T.goertzelPower(samples, frequency: 1000, rate: 8000)
        let expected = 16000.0 * 16000.0 / 4
        #expect(abs(10 * log10(power / expected)) < 0.5)
        // And it survives G.711 framing: decode what a PCMU channel would receive.
        let sent = FrameSource(try file.read(), law: .muLaw).flatMap { $0 }.map(G711.muLawDecode)
        #expect(dominance(Array(sent.prefix(4000)), at: 1000, over: [500, 1500, 2000, 3000]) > 25)
    }

    /// A 6 kHz tone in a 16 kHz file would alias to 2 kHz if samples were merely dropped; the
    /// low-pass removes it.
    @Test func downsamplingSuppressesContentAboveFourKilohertz() {
        let high = T.sine(frequency: 6000, rate: 16000, count: 8000)
        let low = T.sine(frequency: 1000, rate: 16000, count: 8000)
        let aliased = T.goertzelPower(SoundData.linear(high, sampleRate: 16000).samples8k(), frequency: 2000, rate: 8000)
        let kept = T.goertzelPower(SoundData.linear(low, sampleRate: 16000).samples8k(), frequency: 1000, rate: 8000)
        #expect(10 * log10(kept / aliased) > 40)
        // Naive decimation, for contrast, keeps the alias at full strength.
        let naive = stride(from: 0, to: high.count, by: 2).map { high[$0] }
        #expect(10 * log10(kept / T.goertzelPower(naive, frequency: 2000, rate: 8000)) < 1)
    }

    @Test func downsamplerHasUnityGainAtDC() {
        #expect(abs(Downsampler.taps.reduce(0, +) - 1) < 1e-12)
        #expect(Downsampler.taps.count == 31)
        let dc = Downsampler.halve([Int16](repeating: 10000, count: 200))
        #expect(dc[20 ..< 80].allSatisfy { $0 == 10000 })
    }
}
