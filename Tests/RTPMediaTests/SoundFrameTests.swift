import Foundation
import Testing
@testable import RTPMedia

@Suite struct SoundFrameTests {
    typealias T = SoundTestSupport

    @Test(arguments: [(0, 0), (1, 1), (159, 1), (160, 1), (161, 2), (8000, 50), (8001, 51)])
    func frameCounts(samples: Int, frames: Int) {
        var source = FrameSource(.linear([Int16](repeating: 1000, count: samples), sampleRate: 8000), law: .muLaw)
        #expect(source.frameCount == frames)
        var n = 0
        while let frame = source.next() {
            #expect(frame.count == 160)
            n += 1
        }
        #expect(n == frames)
        #expect(source.next() == nil)
        #expect(source.remainingFrames == 0)
    }

    @Test(arguments: [G711Law.muLaw, .aLaw])
    func lastFrameIsPaddedWithSilence(law: G711Law) {
        let samples = [Int16](repeating: 8000, count: 161)
        let frames = Array(FrameSource(.linear(samples, sampleRate: 8000), law: law))
        #expect(frames.count == 2)
        let loud = law == .muLaw ? G711.muLawEncode(8000) : G711.aLawEncode(8000)
        #expect(frames[0].allSatisfy { $0 == loud })
        #expect(frames[1].first == loud)
        #expect(frames[1].dropFirst().allSatisfy { $0 == law.silence })
        #expect(frames[1].count == 160)
        // The padding decodes to (near) zero.
        let decoded = law == .muLaw ? G711.muLawDecode(law.silence) : G711.aLawDecode(law.silence)
        #expect(abs(Int(decoded)) <= 8)
    }

    /// A .ulaw file on a PCMU channel (and .alaw on PCMA) goes out byte for byte: every code,
    /// including µ-law's negative zero 0x7F which a decode/encode round trip would change.
    @Test(arguments: [G711Law.muLaw, .aLaw])
    func sameLawIsPassedThroughByteIdentical(law: G711Law) throws {
        let root = try T.makeTemporaryDirectory()
        defer { T.removeTemporaryDirectory(root) }
        let bytes = (0 ..< 1000).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        try T.write(bytes, to: "en/p.\(law.fileFormat.fileExtension)", in: root)
        let file = try #require(SoundLibrary(searchPath: [root]).find("p", language: "en", preferring: law.fileFormat))
        #expect(file.format == law.fileFormat)
        let frames = Array(try FrameSource(file, law: law))
        #expect(frames.count == 7)
        let sent = frames.flatMap { $0 }
        #expect(Array(sent.prefix(1000)) == bytes)
        #expect(sent.dropFirst(1000).allSatisfy { $0 == law.silence })
    }

    @Test func otherLawAndLinearAreTranscodedThroughTheTables() {
        let codes = (0 ... 255).map { UInt8($0) }
        #expect(SoundData.aLaw(codes).encoded(as: .muLaw) == codes.map { G711.Tables.aToMu[Int($0)] })
        #expect(SoundData.muLaw(codes).encoded(as: .aLaw) == codes.map { G711.Tables.muToA[Int($0)] })
        let samples = T.sine(frequency: 700, rate: 8000, count: 400)
        #expect(SoundData.linear(samples, sampleRate: 8000).encoded(as: .muLaw) == samples.map(G711.muLawEncode))
        #expect(SoundData.linear(samples, sampleRate: 8000).encoded(as: .aLaw) == samples.map(G711.aLawEncode))
        #expect(SoundData.muLaw(codes).samples8k() == codes.map(G711.muLawDecode))
        #expect(SoundData.aLaw(codes).samples8k() == codes.map(G711.aLawDecode))
    }

    @Test func sixteenKilohertzCountsAsHalfTheSamples() {
        let data = SoundData.linear([Int16](repeating: 0, count: 16000 + 321), sampleRate: 16000)
        #expect(data.sampleCount8k == 8160)
        #expect(data.samples8k().count == 8160)
        #expect(FrameSource(data, law: .muLaw).frameCount == 51)
        #expect(SoundData.muLaw([UInt8](repeating: 0xFF, count: 4000)).duration == 0.5)
    }

    @Test func rewindReplaysTheSameFrames() {
        let samples = T.sine(frequency: 400, rate: 8000, count: 500)
        var source = FrameSource(.linear(samples, sampleRate: 8000), law: .aLaw)
        let first = Array(source.next()!)
        _ = source.next()
        #expect(source.position == 2)
        #expect(source.remainingFrames == 2)
        source.rewind()
        #expect(source.remainingFrames == 4)
        #expect(Array(source.next()!) == first)
    }
}
