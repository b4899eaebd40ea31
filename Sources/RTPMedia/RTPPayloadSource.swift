import Foundation
import NIOCore

/// Where a playback gets its frames: one 20 ms payload per call, already in the codec's format
/// (G.711 bytes for PCMU/PCMA: 160 per frame at 8 kHz). Sound files, tones and music on hold
/// conform; `RTPPlayer` sends what they write, paced by the media clock.
public protocol RTPPayloadSource {
    /// Appends the next frame's payload (for 20 ms of `codec`) to `buffer`; returns false, having
    /// written nothing, when there are no more frames. Called on the session's event loop; it
    /// should not block and, per frame, not allocate.
    mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool
}

/// A sine tone, or the sum of two (dial, ring, busy tones: 350+440 Hz, 425 Hz, ...), encoded as
/// µ-law (PCMU) or A-law (PCMA) for a given length or forever. For `Playtones` and tests.
public struct ToneSource: RTPPayloadSource, Sendable {
    public let frequencies: [Double]
    /// Peak amplitude of each component, in linear 16-bit units.
    public let amplitude: Double
    public let sampleRate: Double
    /// Frames left; nil = endless.
    public private(set) var framesLeft: Int?
    private var sampleIndex: Int = 0
    /// Per-component phase step, computed once.
    private let steps: [Double]

    /// - Parameters:
    ///   - duration: rounded down to whole 20 ms frames; nil plays until stopped.
    ///   - amplitude: per component; the default (about −10 dBm0 each) leaves room for two.
    public init(frequencies: [Double], duration: Duration? = nil, amplitude: Double = 5000, sampleRate: Double = 8000) {
        precondition(!frequencies.isEmpty)
        self.frequencies = frequencies
        self.amplitude = amplitude
        self.sampleRate = sampleRate
        self.steps = frequencies.map { 2 * Double.pi * $0 / sampleRate }
        if let duration {
            let (s, atto) = duration.components
            self.framesLeft = Int(s) * 50 + Int(atto / 20_000_000_000_000_000)
        }
    }

    public init(frequency: Double, duration: Duration? = nil, amplitude: Double = 8000) {
        self.init(frequencies: [frequency], duration: duration, amplitude: amplitude)
    }

    public mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool {
        let aLaw: Bool
        switch codec.payloadType {
        case 0: aLaw = false
        case 8: aLaw = true
        default: return false  // not G.711: this source can only write PCMU/PCMA
        }
        if let left = self.framesLeft {
            guard left > 0 else { return false }
            self.framesLeft = left - 1
        }
        let samples = max(1, codec.clockRate / 50)
        let start = self.sampleIndex
        let steps = self.steps, amplitude = self.amplitude
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: samples) { out in
            for i in 0..<samples {
                var v = 0.0
                // Indexed, not `for step in steps`: no iterator, nothing to allocate in a debug build.
                for c in 0..<steps.count { v += sin(steps[c] * Double(start + i)) }
                let sample = Int16(clamping: Int((v * amplitude).rounded()))
                out[i] = aLaw ? G711.aLawEncode(sample) : G711.muLawEncode(sample)
            }
            return samples
        }
        // Wrap the index on a whole number of seconds so the phase argument stays small.
        self.sampleIndex = (start + samples) % (Int(self.sampleRate) * 3600)
        return true
    }
}
