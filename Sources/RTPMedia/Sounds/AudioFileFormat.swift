/// The sound file formats pbxd plays, named by the file extension Asterisk uses for them.
///
/// All are 8 kHz except WAV, which may also be 16 kHz (downsampled on load). Not supported, on
/// purpose: `.gsm` and `.WAV` (Asterisk's GSM-6.10-in-WAV; note the upper case), `.g722`,
/// `.sln16` and other wideband raw formats, and compressed WAV (format tags other than PCM).
/// Lookup skips files in those formats, so a directory holding only `.gsm` prompts finds nothing.
public enum AudioFileFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Raw G.711 µ-law, 8 kHz, one byte per sample, no header (Asterisk's `.ulaw`).
    case ulaw
    /// Raw G.711 A-law, 8 kHz, one byte per sample, no header (Asterisk's `.alaw`).
    case alaw
    /// RIFF/WAVE, PCM 16-bit mono, 8000 or 16000 Hz.
    case wav
    /// Raw signed 16-bit little-endian linear PCM, 8 kHz (Asterisk's `.sln`).
    case sln

    /// The file extension, without the dot.
    public var fileExtension: String { self.rawValue }

    public var description: String { ".\(self.rawValue)" }

    /// The formats to try, best first, when a channel sends `self`:
    /// the file already in the channel's encoding is copied into packets as is; otherwise linear
    /// (WAV, then SLN) needs one encode; the other G.711 law last, since converting between the
    /// two laws re-quantises.
    ///
    /// For a linear channel (`.wav`/`.sln`, e.g. a future wideband codec) WAV comes first because
    /// it may carry 16 kHz.
    public var preferenceOrder: [AudioFileFormat] {
        switch self {
        case .ulaw: [.ulaw, .wav, .sln, .alaw]
        case .alaw: [.alaw, .wav, .sln, .ulaw]
        case .wav, .sln: [.wav, .sln, .ulaw, .alaw]
        }
    }

    /// The file format that matches a negotiated codec without transcoding: `.ulaw` for PCMU,
    /// `.alaw` for PCMA, nil for anything else (callers then prefer `.wav`).
    public init?(channelCodec codec: Codec) {
        switch codec.name.uppercased() {
        case "PCMU" where codec.clockRate == 8000: self = .ulaw
        case "PCMA" where codec.clockRate == 8000: self = .alaw
        default: return nil
        }
    }
}

/// The two G.711 laws a played frame can be encoded in (RTP payload types 0 and 8).
public enum G711Law: Sendable, Hashable, CustomStringConvertible {
    /// PCMU.
    case muLaw
    /// PCMA.
    case aLaw

    /// The code for a zero sample: what a frame is padded with.
    public var silence: UInt8 {
        switch self {
        case .muLaw: 0xFF
        case .aLaw: 0xD5
        }
    }

    /// The file format holding this law's bytes as they go on the wire.
    public var fileFormat: AudioFileFormat {
        switch self {
        case .muLaw: .ulaw
        case .aLaw: .alaw
        }
    }

    /// PCMU → `.muLaw`, PCMA → `.aLaw`, anything else nil.
    public init?(codec: Codec) {
        switch AudioFileFormat(channelCodec: codec) {
        case .ulaw: self = .muLaw
        case .alaw: self = .aLaw
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .muLaw: "PCMU"
        case .aLaw: "PCMA"
        }
    }
}
