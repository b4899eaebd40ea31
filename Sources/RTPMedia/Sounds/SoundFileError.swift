/// Why a sound file could not be read. Every case says what was found, so a log line names the
/// problem ("WAV is stereo", not "bad file").
public enum SoundFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// Larger than `SoundFile.maximumFileSize`.
    case tooLarge(bytes: Int, limit: Int)
    /// Shorter than the 12-byte RIFF/WAVE header, or not starting with `RIFF`.
    case notRIFF
    /// A RIFF file whose form type is not `WAVE` (e.g. AVI).
    case notWAVE(formType: String)
    /// A chunk header announces more bytes than the file holds.
    case truncatedChunk(id: String, declared: Int, available: Int)
    /// The `fmt ` chunk is shorter than the 16 bytes of a PCM format.
    case malformedFormatChunk(size: Int)
    /// No `fmt ` chunk before the `data` chunk (or none at all).
    case missingFormatChunk
    /// No `data` chunk.
    case missingDataChunk
    /// Not PCM: the WAV format tag (6 A-law, 7 µ-law, 49 GSM 6.10, 85 MP3, ...).
    case unsupportedEncoding(formatTag: Int)
    case unsupportedChannelCount(Int)
    case unsupportedBitsPerSample(Int)
    case unsupportedSampleRate(Int)
    /// `blockAlign` inconsistent with 16-bit mono (must be 2).
    case inconsistentBlockAlign(Int)
    /// 16-bit data (WAV or `.sln`) with an odd number of bytes.
    case oddSampleDataLength(Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .tooLarge(bytes, limit): "sound file is \(bytes) bytes, over the \(limit)-byte limit"
        case .notRIFF: "not a WAV file: no RIFF header"
        case let .notWAVE(formType): "RIFF file of type '\(formType)', not WAVE"
        case let .truncatedChunk(id, declared, available):
            "WAV chunk '\(id)' declares \(declared) bytes but only \(available) remain (truncated file)"
        case let .malformedFormatChunk(size): "WAV fmt chunk is \(size) bytes, needs at least 16"
        case .missingFormatChunk: "WAV has no fmt chunk before its data"
        case .missingDataChunk: "WAV has no data chunk"
        case let .unsupportedEncoding(tag):
            "WAV format tag \(tag) (\(Self.formatTagName(tag))) is not supported; use 16-bit PCM, or raw .ulaw/.alaw"
        case let .unsupportedChannelCount(n): "WAV has \(n) channels; only mono is supported"
        case let .unsupportedBitsPerSample(n): "WAV has \(n) bits per sample; only 16 is supported"
        case let .unsupportedSampleRate(r): "WAV sample rate \(r) Hz; only 8000 and 16000 are supported"
        case let .inconsistentBlockAlign(n): "WAV block align \(n) does not match 16-bit mono (2)"
        case let .oddSampleDataLength(n): "16-bit sample data of odd length \(n) bytes"
        }
    }

    static func formatTagName(_ tag: Int) -> String {
        switch tag {
        case 1: "PCM"
        case 2: "MS ADPCM"
        case 3: "IEEE float"
        case 6: "A-law"
        case 7: "µ-law"
        case 17: "IMA ADPCM"
        case 49: "GSM 6.10"
        case 85: "MP3"
        case 0xFFFE: "extensible, non-PCM subformat"
        default: "unknown"
        }
    }
}
