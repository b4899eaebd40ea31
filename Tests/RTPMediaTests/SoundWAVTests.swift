import Foundation
import Testing
@testable import RTPMedia

@Suite struct SoundWAVTests {
    typealias T = SoundTestSupport

    @Test(arguments: [8000, 16000])
    func writtenWAVParsesBack(rate: Int) throws {
        let samples: [Int16] = [0, 1, -1, 32767, -32768, 1234, -4321]
        let bytes = WAVFile(sampleRate: rate, samples: samples).encoded()
        #expect(bytes.count == 44 + samples.count * 2)
        #expect(Array(bytes[0 ..< 4]) == Array("RIFF".utf8))
        #expect(Array(bytes[4 ..< 8]) == T.le32(36 + samples.count * 2))
        #expect(Array(bytes[24 ..< 28]) == T.le32(rate))
        let parsed = try WAVFile(parsing: bytes)
        #expect(parsed.sampleRate == rate)
        #expect(parsed.samples == samples)
    }

    /// LIST before fmt, an odd-sized chunk (with its pad byte) between fmt and data, a trailing
    /// chunk after data: all skipped.
    @Test func unknownChunksAreSkipped() throws {
        let samples: [Int16] = [100, -200, 300]
        let bytes = T.riff([
            ("LIST", Array("INFOISFT\u{5}\0\0\0sox!\0".utf8)),
            ("fmt ", T.fmt()),
            ("odd ", [1, 2, 3]),
            ("data", T.pcm(samples)),
            ("id3 ", [9, 9]),
        ])
        let parsed = try WAVFile(parsing: bytes)
        #expect(parsed.samples == samples)
        #expect(parsed.sampleRate == 8000)
    }

    /// WAVE_FORMAT_EXTENSIBLE whose subformat GUID is PCM, as some editors write mono 16-bit.
    @Test func extensibleWithPCMSubformatIsAccepted() throws {
        let pcmGUID: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let extra = T.le16(22) + T.le16(16) + T.le32(4) + pcmGUID
        let bytes = T.riff([("fmt ", T.fmt(tag: 0xFFFE, rate: 16000, extra: extra)), ("data", T.pcm([7, 8]))])
        let parsed = try WAVFile(parsing: bytes)
        #expect(parsed.sampleRate == 16000)
        #expect(parsed.samples == [7, 8])

        var floatGUID = pcmGUID
        floatGUID[0] = 3
        let floatBytes = T.riff([("fmt ", T.fmt(tag: 0xFFFE, extra: T.le16(22) + T.le16(16) + T.le32(4) + floatGUID)),
                                 ("data", T.pcm([7, 8]))])
        #expect(throws: SoundFileError.unsupportedEncoding(formatTag: 0xFFFE)) { try WAVFile(parsing: floatBytes) }
    }

    struct BadWAV: Sendable, CustomTestStringConvertible {
        var label: String
        var bytes: [UInt8]
        var error: SoundFileError
        /// A word the log line must contain.
        var reason: String
        var testDescription: String { self.label }
    }

    static let badWAVs: [BadWAV] = {
        let data = ("data", T.pcm([1, 2, 3, 4]))
        var truncated = T.riff([("fmt ", T.fmt()), data])
        truncated.removeLast(3)
        var shortData = T.riff([("fmt ", T.fmt()), ("data", [1, 2, 3])])
        shortData.removeLast()  // drop the pad byte so the file ends right after the data
        return [
            BadWAV(label: "empty", bytes: [], error: .notRIFF, reason: "RIFF"),
            BadWAV(label: "raw audio", bytes: T.pcm([1, 2, 3, 4, 5, 6, 7, 8]), error: .notRIFF, reason: "RIFF"),
            BadWAV(label: "AVI", bytes: T.riff(formType: "AVI ", []), error: .notWAVE(formType: "AVI "), reason: "AVI"),
            BadWAV(label: "stereo", bytes: T.riff([("fmt ", T.fmt(channels: 2)), data]),
                   error: .unsupportedChannelCount(2), reason: "mono"),
            BadWAV(label: "8-bit", bytes: T.riff([("fmt ", T.fmt(bits: 8)), data]),
                   error: .unsupportedBitsPerSample(8), reason: "16"),
            BadWAV(label: "44.1 kHz", bytes: T.riff([("fmt ", T.fmt(rate: 44100)), data]),
                   error: .unsupportedSampleRate(44100), reason: "44100"),
            BadWAV(label: "µ-law WAV", bytes: T.riff([("fmt ", T.fmt(tag: 7, bits: 8)), data]),
                   error: .unsupportedEncoding(formatTag: 7), reason: "µ-law"),
            BadWAV(label: "GSM WAV (Asterisk .WAV)", bytes: T.riff([("fmt ", T.fmt(tag: 49, bits: 0, blockAlign: 65)), data]),
                   error: .unsupportedEncoding(formatTag: 49), reason: "GSM"),
            BadWAV(label: "float", bytes: T.riff([("fmt ", T.fmt(tag: 3, bits: 32)), data]),
                   error: .unsupportedEncoding(formatTag: 3), reason: "float"),
            BadWAV(label: "block align", bytes: T.riff([("fmt ", T.fmt(blockAlign: 4)), data]),
                   error: .inconsistentBlockAlign(4), reason: "align"),
            BadWAV(label: "short fmt", bytes: T.riff([("fmt ", Array(T.fmt().prefix(14))), data]),
                   error: .malformedFormatChunk(size: 14), reason: "16"),
            BadWAV(label: "data before fmt", bytes: T.riff([data, ("fmt ", T.fmt())]),
                   error: .missingFormatChunk, reason: "fmt"),
            BadWAV(label: "no fmt", bytes: T.riff([("LIST", [0, 0])]), error: .missingFormatChunk, reason: "fmt"),
            BadWAV(label: "no data", bytes: T.riff([("fmt ", T.fmt())]), error: .missingDataChunk, reason: "data"),
            BadWAV(label: "truncated data", bytes: truncated,
                   error: .truncatedChunk(id: "data", declared: 8, available: 5), reason: "truncated"),
            BadWAV(label: "odd data", bytes: shortData, error: .oddSampleDataLength(3), reason: "odd"),
        ]
    }()

    @Test(arguments: badWAVs)
    func badWAVIsRejectedWithReason(_ bad: BadWAV) {
        #expect(throws: bad.error) { try WAVFile(parsing: bad.bytes) }
        #expect(bad.error.description.contains(bad.reason))
    }

    @Test func slnIsLittleEndian16BitAt8kHz() throws {
        let data = try SoundData(parsing: [0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80], format: .sln)
        #expect(data == .linear([1, -1, -32768], sampleRate: 8000))
        #expect(throws: SoundFileError.oddSampleDataLength(3)) { try SoundData(parsing: [1, 2, 3], format: .sln) }
    }

    @Test func filesAreReadFromDisk() throws {
        let root = try T.makeTemporaryDirectory()
        defer { T.removeTemporaryDirectory(root) }
        let samples = T.sine(frequency: 440, rate: 8000, count: 800)
        try T.write(WAVFile(sampleRate: 8000, samples: samples).encoded(), to: "a.wav", in: root)
        try T.write([0xFF, 0x00, 0x7F], to: "b.ulaw", in: root)
        try T.write([0x01, 0x02, 0x03], to: "bad.wav", in: root)
        #expect(try SoundFile(path: root + "/a.wav", format: .wav).read() == .linear(samples, sampleRate: 8000))
        #expect(try SoundFile(path: root + "/b.ulaw", format: .ulaw).read() == .muLaw([0xFF, 0x00, 0x7F]))
        #expect(throws: SoundFileError.notRIFF) { try SoundFile(path: root + "/bad.wav", format: .wav).read() }
        do {
            _ = try SoundFile(path: root + "/missing.wav", format: .wav).read()
            Issue.record("a missing file was read")
        } catch {
            guard case let .unreadable(path, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == root + "/missing.wav")
        }
    }
}
