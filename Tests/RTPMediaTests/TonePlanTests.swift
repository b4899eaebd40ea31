import NIOCore
import Testing
@testable import RTPMedia

@Suite struct TonePlanTests {
    typealias E = TonePlan.Element

    static let valid: [(String, [E])] = [
        ("350+440", [E(350, 440, mix: .sum)]),
        ("425", [E(425)]),
        ("440+480/2000,0/4000", [E(440, 480, mix: .sum, durationMs: 2000), E(0, durationMs: 4000)]),
        (" 480+620/500 , 0/500 ", [E(480, 620, mix: .sum, durationMs: 500), E(0, durationMs: 500)]),
        ("!425/100,!0/100,425", [E(425, durationMs: 100, once: true), E(0, durationMs: 100, once: true), E(425)]),
        ("400*25/400,0/200", [E(400, 25, mix: .modulated, durationMs: 400), E(0, durationMs: 200)]),
        ("950/330,1400/330,1800/330,0/1000",
         [E(950, durationMs: 330), E(1400, durationMs: 330), E(1800, durationMs: 330), E(0, durationMs: 1000)]),
        ("1004.5", [E(1004.5)]),
    ]

    @Test func parsesValidLists() throws {
        for (text, elements) in Self.valid {
            let plan = try TonePlan(parsing: text)
            #expect(plan.elements == elements, "\(text)")
            // The description is the canonical form and parses back to the same plan.
            #expect(try TonePlan(parsing: plan.description) == plan, "\(text) -> \(plan.description)")
        }
        #expect(try TonePlan(parsing: "!425/100,!0/100,425/200,0/200").repeatIndex == 2)
        #expect(try TonePlan(parsing: "!950/330,!1400/330").repeatIndex == nil)
        #expect(try TonePlan(parsing: "440+480/2000,0/4000").description == "440+480/2000,0/4000")
    }

    static let invalid: [(String, String, String)] = [
        ("", "", "empty tone list"),
        ("   ", "", "empty tone list"),
        ("440,,0", "", "empty element"),
        ("350+", "350+", "missing frequency"),
        ("*25", "*25", "missing frequency"),
        ("abc", "abc", "frequency 'abc' is not a number"),
        ("440/0", "440/0", "duration must be positive"),
        ("440/-5", "440/-5", "duration must be positive"),
        ("440/abc", "440/abc", "duration 'abc' is not a number of milliseconds"),
        ("440/", "440/", "duration '' is not a number of milliseconds"),
        ("5000", "5000", "frequency 5000 Hz is not below 4000 Hz"),
        ("350+4400/100", "350+4400/100", "frequency 4400 Hz is not below 4000 Hz"),
        ("M60/100", "M60/100", "MIDI note tones are not supported"),
        ("425,-1", "-1", "frequency '-1' is not a number"),
    ]

    @Test func rejectsBadListsWithReasons() {
        for (text, element, reason) in Self.invalid {
            #expect(throws: TonePlan.ParseError(element: element, reason: reason), "\(text)") {
                try TonePlan(parsing: text)
            }
        }
    }

    /// Frame energies (mean |sample|) of `frames` frames of `plan`.
    static func frameLevels(_ plan: TonePlan, frames: Int, codec: Codec = .pcmu) -> [Int] {
        var source = TonePlanSource(plan: plan)
        var levels: [Int] = []
        for _ in 0..<frames {
            var b = ByteBuffer()
            #expect(source.nextPayload(into: &b, codec: codec))
            let samples = b.readableBytesView.map { codec.payloadType == 8 ? G711.aLawDecode($0) : G711.muLawDecode($0) }
            levels.append(samples.map { abs(Int($0)) }.reduce(0, +) / samples.count)
        }
        return levels
    }

    /// US ringback: 2 s of 440+480 then 4 s of silence (100 frames on, 200 off), repeated.
    @Test(arguments: [Codec.pcmu, Codec.pcma])
    func usRingCadenceCountsFrames(codec: Codec) throws {
        let plan = try #require(ToneSet.builtIn["us"]?.plan("ring"))
        let levels = Self.frameLevels(plan, frames: 900, codec: codec)
        let on = levels.map { $0 > 1000 }
        for cycle in 0..<3 {
            let base = cycle * 300
            #expect(on[base..<(base + 100)].allSatisfy { $0 }, "cycle \(cycle) on")
            #expect(on[(base + 100)..<(base + 300)].allSatisfy { !$0 }, "cycle \(cycle) off")
        }
        // Silence is exact digital silence, not noise.
        #expect(levels[150] <= 8)
    }

    /// The tone itself: 440 and 480 Hz present in the "on" part, nothing at 620 Hz.
    @Test func ringIsTheRightFrequencies() throws {
        var source = TonePlanSource(plan: try TonePlan(parsing: "440+480/2000,0/4000"))
        var b = ByteBuffer()
        for _ in 0..<50 { _ = source.nextPayload(into: &b, codec: .pcma) }
        let samples = b.readableBytesView.map(G711.aLawDecode)
        let p440 = goertzelPower(samples, frequency: 440), p480 = goertzelPower(samples, frequency: 480)
        let p620 = goertzelPower(samples, frequency: 620)
        #expect(p440 > 1000 * p620 && p480 > 1000 * p620)
    }

    /// Cadence changes at sample precision, also mid-frame: UK busy 375 ms on/off = 3000 samples.
    @Test func cadenceBoundaryInsideAFrame() throws {
        var source = TonePlanSource(plan: try TonePlan(parsing: "400/375,0/375"))
        var b = ByteBuffer()
        for _ in 0..<38 { _ = source.nextPayload(into: &b, codec: .pcmu) }  // 6080 samples
        let samples = b.readableBytesView.map(G711.muLawDecode)
        // Samples 3000..<6000 silent; around them tone.
        #expect(samples[3000..<6000].allSatisfy { $0 == 0 })
        #expect(samples[2900..<3000].contains { abs(Int($0)) > 1000 })
        #expect(samples[6000..<6080].contains { abs(Int($0)) > 1000 })
        #expect(source.cursor.element == 0 && source.cursor.sample == 80)
    }

    /// `!` elements play once: the repeat starts at the first unmarked element; an all-`!` list
    /// ends (the rest of the last frame is silence) and the source reports the end.
    @Test func playOnceElements() throws {
        let levels = Self.frameLevels(try TonePlan(parsing: "!1000/100,!0/100,425/100,0/100"), frames: 30)
        let on = levels.map { $0 > 1000 }
        let expected = (0..<30).map { f -> Bool in
            if f < 10 { return f < 5 }  // the once part: 5 frames tone, 5 silence
            return (f - 10) % 10 < 5  // then 425/100,0/100 forever
        }
        #expect(on == expected)

        var once = TonePlanSource(plan: try TonePlan(parsing: "!950/330,!1400/330"))
        var frames = 0
        var b = ByteBuffer()
        while once.nextPayload(into: &b, codec: .pcmu) { frames += 1 }
        #expect(frames == 33)  // 660 ms = 5280 samples: 33 frames exactly
        var partial = TonePlanSource(plan: try TonePlan(parsing: "!440/30"))
        frames = 0
        b = ByteBuffer()
        while partial.nextPayload(into: &b, codec: .pcma) { frames += 1 }
        #expect(frames == 2 && b.readableBytes == 320)
        let tail = b.readableBytesView.dropFirst(240).map(G711.aLawDecode)
        #expect(tail.allSatisfy { abs(Int($0)) <= 8 })
    }

    /// A continuous tone never ends; non-G.711 codecs get nothing.
    @Test func continuousAndUnsupportedCodec() throws {
        var source = TonePlanSource(plan: try TonePlan(parsing: "350+440"))
        var b = ByteBuffer()
        for _ in 0..<500 { #expect(source.nextPayload(into: &b, codec: .pcmu)) }
        #expect(!source.nextPayload(into: &b, codec: .g722))
    }

    @Test func builtInSetsAreCompleteAndParse() throws {
        #expect(Set(ToneSet.builtIn.keys) == ["us", "uk", "de", "fr", "ru", "nl", "it"])
        for (code, set) in ToneSet.builtIn {
            for name in ["dial", "ring", "busy", "congestion"] {
                let plan = try #require(set.plan(name), "\(code) \(name)")
                #expect(plan.repeatIndex == 0, "\(code) \(name) repeats from its start")
            }
            #expect(set.ringCadence.reduce(0, +) > 0)
        }
        #expect(try ToneSet.resolve("busy", country: "de").description == "425/480,0/480")
        #expect(try ToneSet.resolve("BUSY", country: "US").description == "480+620/500,0/500")
        #expect(try ToneSet.resolve("congestion", country: "uk").description == "400/400,0/350,400/225,0/525")
        #expect(try ToneSet.resolve("ring", country: "xx").description == "440+480/2000,0/4000")  // falls back to us
        #expect(try ToneSet.resolve("697+1209/100,0/100", country: "fr").description == "697+1209/100,0/100")
        #expect(throws: TonePlan.ParseError.self) { try ToneSet.resolve("ringing", country: "us") }
    }
}
