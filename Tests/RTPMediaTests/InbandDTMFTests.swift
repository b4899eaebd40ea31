import Foundation
import NIOCore
import Testing
@testable import RTPMedia

/// In-band DTMF through spandsp: dual tones in G.711 RTP packets, as a phone with
/// `dtmfmode=inband` sends them.
@Suite struct InbandDTMFTests {
    static let rows: [Character: (Double, Double)] = {
        let low = [697.0, 770, 852, 941], high = [1209.0, 1336, 1477, 1633]
        let keypad: [[Character]] = [["1", "2", "3", "A"], ["4", "5", "6", "B"], ["7", "8", "9", "C"], ["*", "0", "#", "D"]]
        var map: [Character: (Double, Double)] = [:]
        for r in 0..<4 { for c in 0..<4 { map[keypad[r][c]] = (low[r], high[c]) } }
        return map
    }()

    /// A phone's outgoing stream: 20 ms G.711 packets, consecutive headers.
    struct Stream {
        let codec: Codec
        var header = RTPHeader(payloadType: 0, sequenceNumber: 100, timestamp: 1000, ssrc: 0x1234)
        var packets: [ByteBuffer] = []
        init(codec: Codec) {
            self.codec = codec
            self.header.payloadType = codec.payloadType
        }

        mutating func add(_ source: inout some RTPPayloadSource, frames: Int) {
            for _ in 0..<frames {
                var b = ByteBuffer()
                self.header.write(into: &b)
                #expect(source.nextPayload(into: &b, codec: self.codec))
                self.packets.append(b)
                self.header.advance(samples: 160)
            }
        }

        mutating func digit(_ key: Character, ms: Int, amplitude: Double = 6000) {
            let (f1, f2) = InbandDTMFTests.rows[key]!
            var tone = ToneSource(frequencies: [f1, f2], amplitude: amplitude)
            self.add(&tone, frames: ms / 20)
        }

        mutating func silence(ms: Int) {
            var s = SampleSource { _ in 0 }
            self.add(&s, frames: ms / 20)
        }
    }

    /// Samples from a closure (of the sample index), G.711-encoded.
    struct SampleSource: RTPPayloadSource {
        var index = 0
        let sample: (Int) -> Int16
        mutating func nextPayload(into buffer: inout ByteBuffer, codec: Codec) -> Bool {
            let aLaw = codec.payloadType == 8
            for _ in 0..<160 {
                let s = self.sample(self.index)
                buffer.writeInteger(aLaw ? G711.aLawEncode(s) : G711.muLawEncode(s))
                self.index += 1
            }
            return true
        }
    }

    /// Runs `packets` through an in-band handler; returns its events and the packet indices
    /// that asked to interrupt playback.
    static func detect(_ packets: [ByteBuffer]) -> (events: [DTMFEvent], interrupts: [Int]) {
        var events: [DTMFEvent] = []
        let handler = InbandDTMFHandler { events.append($0) }
        var interrupts: [Int] = []
        for (i, p) in packets.enumerated() where handler.receive(RTPHeaderView(p)!) == .interruptPlayback {
            interrupts.append(i)
        }
        return (events, interrupts)
    }

    static func begins(_ events: [DTMFEvent]) -> String {
        String(events.compactMap { if case .begin(let b) = $0 { b.digit.character } else { nil } })
    }

    static func ends(_ events: [DTMFEvent]) -> String {
        String(events.compactMap { if case .end(let e) = $0 { e.digit.character } else { nil } })
    }

    @Test(arguments: [Codec.pcmu, Codec.pcma])
    func allSixteenDigitsOnceEach(codec: Codec) {
        let keys = Array("0123456789*#ABCD")
        var stream = Stream(codec: codec)
        stream.silence(ms: 200)
        for key in keys {
            stream.digit(key, ms: 100)
            stream.silence(ms: 100)
        }
        let (events, interrupts) = Self.detect(stream.packets)
        #expect(Self.begins(events) == String(keys))
        #expect(Self.ends(events) == String(keys))
        #expect(interrupts.count == 16)
        // Each begin lands inside its tone burst: packet 10 + 10k ... 14 + 10k (silence 200 ms = 10 packets).
        for (k, i) in interrupts.enumerated() {
            #expect(i >= 10 + 10 * k && i < 15 + 10 * k, "digit \(keys[k]) reported at packet \(i)")
        }
        // Begin timestamps are within the burst, in RTP timestamp units.
        let stamps = events.compactMap { if case .begin(let b) = $0 { b.timestamp } else { nil } }
        for (k, ts) in stamps.enumerated() {
            let burstStart = UInt32(1000 + 1600 + 1600 * k)
            #expect(ts >= burstStart && ts < burstStart + 800)
        }
    }

    /// A key held for a second is one digit; the same key pressed again after a pause is a second.
    @Test func heldKeyIsOneDigitAndRepeatsAfterAPause() {
        var stream = Stream(codec: .pcmu)
        stream.digit("5", ms: 1000)
        stream.silence(ms: 100)
        stream.digit("5", ms: 80)
        stream.silence(ms: 100)
        #expect(Self.begins(Self.detect(stream.packets).events) == "55")
    }

    /// Too short to be a key (20 ms) is ignored; 60 ms is a key.
    @Test func minimumDurationIsRespected() {
        var short = Stream(codec: .pcma)
        for key in Array("123") {
            short.silence(ms: 100)
            short.digit(key, ms: 20)
        }
        short.silence(ms: 100)
        #expect(Self.detect(short.packets).events.isEmpty)

        var long = Stream(codec: .pcma)
        long.silence(ms: 100)
        long.digit("9", ms: 60)
        long.silence(ms: 100)
        #expect(Self.begins(Self.detect(long.packets).events) == "9")
    }

    @Test(arguments: [Codec.pcmu, Codec.pcma])
    func nothingOnSilenceNoiseSpeechOrATestTone(codec: Codec) {
        var stream = Stream(codec: codec)
        stream.silence(ms: 2000)
        // White noise (a fixed LCG so the test is repeatable), about -15 dBm0.
        var seed: UInt32 = 12345
        var noise = SampleSource { _ in
            seed = seed &* 1_103_515_245 &+ 12345
            return Int16(truncatingIfNeeded: Int32(seed >> 16) % 6000 - 3000)
        }
        stream.add(&noise, frames: 100)
        // Voiced speech-like sound: a harmonic series on a pitch gliding over 100-220 Hz, amplitude 1/n,
        // with a syllable envelope (4 Hz).
        var voice = SampleSource { i in
            let t = Double(i) / 8000
            let w: Double = 2 * Double.pi * 0.7
            let glide: Double = 60 / w * cos(w * t)
            let phase: Double = 2 * Double.pi * (160 * t - glide)
            var v = 0.0
            for n in 1...25 { v += sin(Double(n) * phase) / Double(n) }
            let envelope = 0.5 + 0.5 * sin(2 * Double.pi * 4 * t)
            return Int16(clamping: Int(v * 4000 * envelope))
        }
        stream.add(&voice, frames: 250)
        // A 1 kHz test tone (milliwatt), 2 s.
        var mw = ToneSource(frequency: 1000, amplitude: 8000)
        stream.add(&mw, frames: 100)
        // And dial tone (350+440), which a detector must not confuse with a key.
        var dial = ToneSource(frequencies: [350, 440])
        stream.add(&dial, frames: 100)
        let (events, interrupts) = Self.detect(stream.packets)
        #expect(events.isEmpty, "false digits: \(Self.begins(events))")
        #expect(interrupts.isEmpty)
    }

    /// Telephone-event and other payload types are not audio: ignored, even if the bytes would
    /// decode to a tone.
    @Test func otherPayloadTypesAreIgnored() {
        var stream = Stream(codec: .pcmu)
        stream.digit("7", ms: 200)
        let rewritten = stream.packets.map { p -> ByteBuffer in
            var b = p
            b.setInteger(UInt8(101), at: 1)
            return b
        }
        #expect(Self.detect(rewritten).events.isEmpty)
        #expect(Self.begins(Self.detect(stream.packets).events) == "7")
    }

    /// The wrapper alone: a block of any size, the digit reported once from spandsp's buffer.
    @Test func detectorOverOddBlockSizes() {
        var digits: [Character] = []
        let detector = InbandDTMFDetector { digits.append($0.character) }
        var samples: [Int16] = Array(repeating: 0, count: 800)
        for i in 0..<960 {
            let t = Double(i) / 8000
            let low: Double = sin(2 * Double.pi * 941 * t), high: Double = sin(2 * Double.pi * 1477 * t)
            samples.append(Int16(6000 * low + 6000 * high))
        }
        samples += Array(repeating: 0, count: 800)
        var offset = 0
        for size in [7, 333, 1, 1024, 90].cycled(until: samples.count) {
            let end = min(samples.count, offset + size)
            samples[offset..<end].withUnsafeBufferPointer { detector.process($0) }
            offset = end
            if offset == samples.count { break }
        }
        #expect(digits == ["#"])
        #expect(detector.digitsDetected == 1)
    }

    /// `dtmfmode=auto`: RFC 4733 events and in-band tones on one leg, through one handler.
    @Test func compositeRunsRFC4733AndInband() {
        var events: [DTMFEvent] = []
        let composite = CompositeMediaHandler([
            DTMFDetector(payloadType: 101) { events.append($0) },
            InbandDTMFHandler { events.append($0) },
        ])
        var stream = Stream(codec: .pcmu)
        stream.silence(ms: 100)
        stream.digit("3", ms: 100)
        stream.silence(ms: 100)
        var interrupts = 0
        for p in stream.packets where composite.receive(RTPHeaderView(p)!) == .interruptPlayback { interrupts += 1 }
        var encoder = DTMFEventEncoder(digit: DTMFDigit("8")!, payloadType: 101, ssrc: 0x1234, sequenceNumber: 500, timestamp: 90000)
        for p in encoder.allPackets() where composite.receive(RTPHeaderView(p)!) == .interruptPlayback { interrupts += 1 }
        #expect(Self.begins(events) == "38")
        #expect(Self.ends(events) == "38")
        #expect(interrupts == 2)
    }
}

extension InbandDTMFTests {
    /// What each dtmfmode mapping hears of an in-band "4" then an RFC 4733 "9".
    @Test func detectionFactoryPerMode() {
        func heard(pt: UInt8?, inband: Bool) -> String {
            var events: [DTMFEvent] = []
            let handler = DTMFDetection.handler(telephoneEventPayloadType: pt, inband: inband) { events.append($0) }
            var stream = Stream(codec: .pcma)
            stream.silence(ms: 100)
            stream.digit("4", ms: 100)
            stream.silence(ms: 100)
            for p in stream.packets { _ = handler.receive(RTPHeaderView(p)!) }
            var encoder = DTMFEventEncoder(digit: DTMFDigit("9")!, payloadType: 101, ssrc: 0x1234, sequenceNumber: 500, timestamp: 90000)
            for p in encoder.allPackets() { _ = handler.receive(RTPHeaderView(p)!) }
            return InbandDTMFTests.ends(events)
        }
        #expect(heard(pt: 101, inband: false) == "9")  // rfc2833, or auto with telephone-event
        #expect(heard(pt: nil, inband: true) == "4")  // inband, or auto without
        #expect(heard(pt: 101, inband: true) == "49")  // both
        #expect(heard(pt: nil, inband: false) == "")  // info
        #expect(heard(pt: 96, inband: false) == "")  // another negotiated type: 101 is not it
    }
}

extension Array {
    /// The elements repeated in order, enough times to sum past `total` (block sizes for tests).
    fileprivate func cycled(until total: Int) -> [Element] where Element == Int {
        var out: [Int] = []
        var sum = 0
        while sum < total {
            for e in self { out.append(e); sum += e }
        }
        return out
    }
}
