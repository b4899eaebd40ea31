/// Energy-based voice activity detection for Record's `silence` argument, as Asterisk's DSP
/// does it: a 20 ms frame is silent when the mean absolute value of its samples is below
/// `threshold` (Asterisk's default silence threshold is 256, `dsp.conf`); the detector reports
/// how long the caller has been silent without a break.
public struct SilenceDetector: Sendable, Equatable {
    public let threshold: Int
    public let sampleRate: Int
    /// Consecutive silent samples up to now.
    public private(set) var silentSamples = 0
    /// Whether any non-silent frame has been seen.
    public private(set) var heardVoice = false

    public init(threshold: Int = 256, sampleRate: Int = 8000) {
        self.threshold = threshold
        self.sampleRate = sampleRate
    }

    /// Feeds one frame; returns the silence so far in milliseconds.
    @discardableResult
    public mutating func feed(_ frame: UnsafeBufferPointer<Int16>) -> Int {
        guard !frame.isEmpty else { return self.silenceMilliseconds }
        var sum = 0
        for s in frame { sum += abs(Int(s)) }
        if sum / frame.count < self.threshold {
            self.silentSamples += frame.count
        } else {
            self.silentSamples = 0
            self.heardVoice = true
        }
        return self.silenceMilliseconds
    }

    public var silenceMilliseconds: Int { self.silentSamples * 1000 / self.sampleRate }
}
