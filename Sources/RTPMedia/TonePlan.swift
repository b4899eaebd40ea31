import Foundation
import NIOCore

/// A tone list in Asterisk's `indications.conf` / `Playtones` syntax, parsed:
///
///     tonelist = element[,element]*
///     element  = [!]freq[+freq2|*freq2][/duration_ms]
///
/// `350+440` is a continuous dual tone, `440+480/2000,0/4000` a cadence (2 s tone, 4 s silence,
/// repeated), `0` silence, `425*25` 425 Hz amplitude-modulated by 25 Hz (90 % depth). Elements
/// marked `!` are played once; after the last element the list repeats from the first unmarked
/// element, and a list whose elements are all marked ends after one pass. An element without a
/// duration lasts until the tone is stopped.
public struct TonePlan: Equatable, Sendable, CustomStringConvertible {
    public struct Element: Equatable, Sendable {
        public enum Mix: Equatable, Sendable {
            /// One frequency (or silence when 0).
            case single
            /// Sum of two frequencies (`f1+f2`).
            case sum
            /// `f1` modulated by `f2` (`f1*f2`), depth 90 % as in Asterisk.
            case modulated
        }
        public var frequency1: Double
        public var frequency2: Double
        public var mix: Mix
        /// Milliseconds; nil = until stopped.
        public var durationMs: Int?
        /// `!`: not repeated.
        public var once: Bool

        public init(_ frequency1: Double, _ frequency2: Double = 0, mix: Mix = .single, durationMs: Int? = nil, once: Bool = false) {
            self.frequency1 = frequency1
            self.frequency2 = frequency2
            self.mix = mix
            self.durationMs = durationMs
            self.once = once
        }

        public var isSilence: Bool { self.frequency1 == 0 && (self.mix != .sum || self.frequency2 == 0) }
    }

    public var elements: [Element]
    /// Where playback continues after the last element; nil when every element is `!` (the plan
    /// ends after one pass).
    public var repeatIndex: Int? { self.elements.firstIndex { !$0.once } }

    public init(elements: [Element]) {
        self.elements = elements
    }

    public var description: String {
        self.elements.map { e in
            var s = e.once ? "!" : ""
            s += Self.format(e.frequency1)
            switch e.mix {
            case .single: break
            case .sum: s += "+" + Self.format(e.frequency2)
            case .modulated: s += "*" + Self.format(e.frequency2)
            }
            if let d = e.durationMs { s += "/\(d)" }
            return s
        }.joined(separator: ",")
    }

    private static func format(_ f: Double) -> String {
        f == f.rounded() ? String(Int(f)) : String(f)
    }

    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The offending element as written ("" for an empty list or element).
        public var element: String
        public var reason: String
        public var description: String { "bad tone element '\(self.element)': \(self.reason)" }
    }

    /// The highest frequency at 8 kHz sampling (Nyquist).
    public static let maxFrequency = 4000.0

    /// Parses a tone list (whitespace around elements is ignored).
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ParseError(element: "", reason: "empty tone list") }
        var elements: [Element] = []
        for raw in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            elements.append(try Self.parseElement(raw.trimmingCharacters(in: .whitespaces)))
        }
        self.elements = elements
    }

    private static func parseElement(_ text: String) throws(ParseError) -> Element {
        func fail(_ reason: String) -> ParseError { ParseError(element: text, reason: reason) }
        var rest = Substring(text)
        guard !rest.isEmpty else { throw fail("empty element") }
        let once = rest.hasPrefix("!")
        if once { rest = rest.dropFirst() }
        var duration: Int?
        if let slash = rest.firstIndex(of: "/") {
            let d = rest[rest.index(after: slash)...]
            guard let ms = Int(d), d.allSatisfy(\.isASCII) else { throw fail("duration '\(d)' is not a number of milliseconds") }
            guard ms > 0 else { throw fail("duration must be positive") }
            duration = ms
            rest = rest[..<slash]
        }
        if rest.hasPrefix("M") || rest.hasPrefix("m") { throw fail("MIDI note tones are not supported") }
        var mix = Element.Mix.single
        var parts = [rest]
        if let plus = rest.firstIndex(of: "+") {
            mix = .sum
            parts = [rest[..<plus], rest[rest.index(after: plus)...]]
        } else if let star = rest.firstIndex(of: "*") {
            mix = .modulated
            parts = [rest[..<star], rest[rest.index(after: star)...]]
        }
        var freqs: [Double] = []
        for p in parts {
            guard !p.isEmpty else { throw fail("missing frequency") }
            guard p.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let f = Double(p) else {
                throw fail("frequency '\(p)' is not a number")
            }
            guard f < Self.maxFrequency else { throw fail("frequency \(p) Hz is not below 4000 Hz") }
            freqs.append(f)
        }
        return Element(freqs[0], freqs.count > 1 ? freqs[1] : 0, mix: mix, durationMs: duration, once: once)
    }
}

/// Plays a `TonePlan` as µ-law (PCMU) or A-law (PCMA) frames: the cadence at sample precision,
/// repeating from the plan's first non-`!` element forever (until the playback is stopped), or
/// ending after one pass when every element is `!`. Per frame: no allocation.
public struct TonePlanSource: RTPPayloadSource, Sendable {
    public let plan: TonePlan
    /// Peak amplitude of each component, linear 16-bit (the default is about −10 dBm0 each, as
    /// `ToneSource`).
    public let amplitude: Double
    private let steps: [(Double, Double)]
    private var index = 0
    /// Samples played of the current element.
    private var position = 0
    private var finished: Bool

    public init(plan: TonePlan, amplitude: Double = 5000) {
        self.plan = plan
        self.amplitude = amplitude
        self.steps = plan.elements.map { (2 * Double.pi * $0.frequency1 / 8000, 2 * Double.pi * $0.frequency2 / 8000) }
        self.finished = plan.elements.isEmpty
    }

    /// Where in the plan the source is: the element index and samples played of it.
    public var cursor: (element: Int, sample: Int) { (self.index, self.position) }

    public mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool {
        let aLaw: Bool
        switch codec.payloadType {
        case 0: aLaw = false
        case 8: aLaw = true
        default: return false
        }
        guard !self.finished, codec.clockRate == 8000 else { return false }
        let samples = 160
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: samples) { out in
            for i in 0..<samples {
                let sample = self.finished ? 0 : self.nextSample()
                out[i] = aLaw ? G711.aLawEncode(sample) : G711.muLawEncode(sample)
            }
            return samples
        }
        return true
    }

    /// One sample of the current element, then advances (element change at sample precision).
    private mutating func nextSample() -> Int16 {
        let e = self.plan.elements[self.index]
        let (s1, s2) = self.steps[self.index]
        let t = Double(self.position)
        let v: Double
        switch e.mix {
        case .single: v = e.frequency1 == 0 ? 0 : sin(s1 * t)
        case .sum: v = (e.frequency1 == 0 ? 0 : sin(s1 * t)) + (e.frequency2 == 0 ? 0 : sin(s2 * t))
        // 90 % modulation depth; scaled so the peak stays at `amplitude`.
        case .modulated: v = sin(s1 * t) * (1 + 0.9 * sin(s2 * t)) / 1.9
        }
        self.position += 1
        if let ms = e.durationMs {
            if self.position >= ms * 8 {
                self.position = 0
                self.index += 1
                if self.index == self.plan.elements.count {
                    if let r = self.plan.repeatIndex { self.index = r } else { self.finished = true }
                }
            }
        } else if self.position >= 8000 * 3600 {
            self.position = 0  // endless element: keep the phase argument small (whole seconds)
        }
        return Int16(clamping: Int((v * self.amplitude).rounded()))
    }
}

extension LocalMediaEndpoint {
    /// Starts `plan` playing to the phone in the background (Asterisk's Playtones): not
    /// interruptible, it runs until `stopTones`, another playback on the leg, or the leg's end.
    @discardableResult
    public func playTones(_ plan: TonePlan, codec: Codec) async -> RTPPlayer {
        await self.play(TonePlanSource(plan: plan), codec: codec)
    }

    /// Stops the current playback if it is tones from `playTones` (a prompt keeps playing, as
    /// StopPlaytones leaves a file stream alone). Returns whether tones were stopped.
    @discardableResult
    public func stopTones() async -> Bool {
        let media = self.media
        return (try? await self.eventLoop.submit { () -> Bool in
            guard let tones = media.value.playback as? Playback<TonePlanSource> else { return false }
            tones.end(.stopped)
            return true
        }.get()) ?? false
    }
}
