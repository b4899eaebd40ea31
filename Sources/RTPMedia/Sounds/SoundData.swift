import Foundation

/// A prompt's audio, as read from its file, before it is cut into frames.
///
/// G.711 files stay as their bytes, so a µ-law file played to a PCMU channel goes out exactly as
/// stored; linear audio keeps its rate until asked for 8 kHz.
public enum SoundData: Equatable, Sendable {
    /// 8 kHz G.711 µ-law bytes (`.ulaw`).
    case muLaw([UInt8])
    /// 8 kHz G.711 A-law bytes (`.alaw`).
    case aLaw([UInt8])
    /// Linear 16-bit samples at `sampleRate` (8000 from `.sln` or WAV, 16000 from WAV).
    case linear([Int16], sampleRate: Int)

    /// Parses a file's bytes in the given format.
    public init(parsing bytes: [UInt8], format: AudioFileFormat) throws(SoundFileError) {
        switch format {
        case .ulaw: self = .muLaw(bytes)
        case .alaw: self = .aLaw(bytes)
        case .sln: self = .linear(try decodeLinear16(bytes[...]), sampleRate: 8000)
        case .wav:
            let wav = try WAVFile(parsing: bytes)
            self = .linear(wav.samples, sampleRate: wav.sampleRate)
        }
    }

    /// Number of samples once at 8 kHz (= the RTP timestamp span of the whole prompt).
    public var sampleCount8k: Int {
        switch self {
        case let .muLaw(b), let .aLaw(b): b.count
        case let .linear(s, rate): rate == 16000 ? s.count / 2 : s.count
        }
    }

    /// Duration in seconds.
    public var duration: Double { Double(self.sampleCount8k) / 8000 }

    /// The audio as 8 kHz linear samples: G.711 expanded through the `G711` tables, 16 kHz
    /// downsampled by `Downsampler.halve`.
    public func samples8k() -> [Int16] {
        switch self {
        case let .muLaw(b): b.map(G711.muLawDecode)
        case let .aLaw(b): b.map(G711.aLawDecode)
        case let .linear(s, rate): rate == 16000 ? Downsampler.halve(s) : s
        }
    }

    /// The audio encoded for a channel, one byte per 8 kHz sample. A file already in `law` is
    /// returned as is (no decode/encode round trip); the other law goes through the direct
    /// µ-law↔A-law table; linear is encoded once.
    public func encoded(as law: G711Law) -> [UInt8] {
        switch (self, law) {
        case let (.muLaw(b), .muLaw), let (.aLaw(b), .aLaw): b
        case let (.aLaw(b), .muLaw): b.map(G711.aLawToMuLaw)
        case let (.muLaw(b), .aLaw): b.map(G711.muLawToALaw)
        case (.linear, .muLaw): self.samples8k().map(G711.muLawEncode)
        case (.linear, .aLaw): self.samples8k().map(G711.aLawEncode)
        }
    }
}

/// 16 kHz → 8 kHz decimation for wideband WAV prompts.
///
/// A 31-tap half-band low-pass FIR (windowed sinc, cutoff at a quarter of the input rate = 4 kHz,
/// Hamming window), then every second sample is kept. The half-band shape makes every other tap
/// zero, so each output sample costs 16 multiplies. The stop band begins near 4.9 kHz, so content
/// above it (which would alias into 0–3 kHz) is suppressed by more than 40 dB; the pass band is
/// flat to about 3.1 kHz, enough for telephony. It runs once, when a prompt is loaded, never per
/// packet. Samples before the start of the signal count as zero.
public enum Downsampler {
    /// Filter taps h[-15...15], normalised to unity gain at DC.
    public static let taps: [Double] = {
        let half = 15
        var h = (-half ... half).map { n -> Double in
            let x = Double(n)
            let sinc = n == 0 ? 0.5 : sin(Double.pi * x / 2) / (Double.pi * x)
            let window = 0.54 + 0.46 * cos(Double.pi * x / Double(half + 1))
            return sinc * window
        }
        let sum = h.reduce(0, +)
        for i in h.indices { h[i] /= sum }
        return h
    }()

    /// Low-pass then keep every second sample: `input.count / 2` samples out.
    public static func halve(_ input: [Int16]) -> [Int16] {
        let h = taps
        let half = h.count / 2
        var out = [Int16](repeating: 0, count: input.count / 2)
        for m in out.indices {
            let centre = 2 * m
            var acc = 0.0
            for k in -half ... half {
                let tap = h[k + half]
                if tap == 0 { continue }
                let i = centre - k
                if i >= 0 && i < input.count { acc += tap * Double(input[i]) }
            }
            out[m] = Int16(clamping: Int(acc.rounded()))
        }
        return out
    }
}
