import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
@testable import RTPMedia

/// µ-law RTP packets of a sine tone (or silence), as a phone sends them.
func tonePackets(frequency: Double?, count: Int, firstSeq: UInt16 = 1, pt: UInt8 = 0, amplitude: Double = 8000) -> [[UInt8]] {
    var out: [[UInt8]] = []
    for k in 0..<count {
        var b = ByteBuffer()
        let seq = firstSeq &+ UInt16(k)
        RTPHeader(marker: k == 0, payloadType: pt, sequenceNumber: seq, timestamp: UInt32(seq) * 160, ssrc: 0xCAFE).write(
            into: &b)
        for i in 0..<160 {
            let n = Double(k * 160 + i)
            let v = frequency.map { Int16((sin(2 * Double.pi * $0 * n / 8000) * amplitude).rounded()) } ?? 0
            b.writeInteger(pt == 8 ? G711.aLawEncode(v) : G711.muLawEncode(v))
        }
        out.append(Array(b.readableBytesView))
    }
    return out
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-mediaapps-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

@Suite struct WAVStreamWriterTests {
    /// After every append the file on disk is a complete, valid WAV with all samples so far.
    @Test func headerValidAfterEachAppend() throws {
        let path = temporaryPath("rec.wav")
        let writer = try WAVStreamWriter(path: path)
        let empty = try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(empty.sampleRate == 8000 && empty.samples.isEmpty)
        var all: [Int16] = []
        for chunk in 0..<4 {
            let samples = (0..<(1000 + chunk * 37)).map { Int16(truncatingIfNeeded: $0 * 91 - 20000 + chunk) }
            try writer.append(samples)
            all += samples
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.count == 44 + 2 * all.count)
            let file = try WAVFile(parsing: bytes)
            #expect(file.sampleRate == 8000)
            #expect(file.samples == all)
            // RIFF size = file size - 8.
            #expect(Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24 == bytes.count - 8)
        }
        try writer.close()
        try writer.append([1, 2, 3])  // ignored after close
        #expect(try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path))).samples == all)
        #expect(writer.sampleCount == all.count)
    }

    @Test func truncateDropsTheTail() throws {
        let path = temporaryPath("trim.wav")
        let writer = try WAVStreamWriter(path: path)
        try writer.append((0..<1000).map { Int16($0) })
        try writer.truncate(droppingLast: 400)
        #expect(try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path))).samples == (0..<600).map { Int16($0) })
        try writer.truncate(droppingLast: 5000)
        try writer.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let emptied = try WAVFile(parsing: bytes)
        #expect(bytes.count == 44 && emptied.samples.isEmpty)
    }

    @Test func unwritablePathThrows() {
        #expect(throws: (any Error).self) { try WAVStreamWriter(path: "/nonexistent-dir-pbxd/x.wav") }
    }
}

@Suite struct SilenceDetectorTests {
    @Test func countsSilenceAndResetsOnVoice() {
        var vad = SilenceDetector()
        let loud = [Int16](repeating: 2000, count: 160), quiet = [Int16](repeating: 100, count: 160)
        let low = (0..<160).map { Int16($0 % 2 == 0 ? 300 : -200) }  // mean |x| 250 < 256
        quiet.withUnsafeBufferPointer { for _ in 0..<10 { vad.feed($0) } }
        #expect(vad.silenceMilliseconds == 200 && !vad.heardVoice)
        loud.withUnsafeBufferPointer { _ = vad.feed($0) }
        #expect(vad.silenceMilliseconds == 0 && vad.heardVoice)
        low.withUnsafeBufferPointer { for _ in 0..<3 { vad.feed($0) } }
        #expect(vad.silenceMilliseconds == 60)
        let edge = [Int16](repeating: -256, count: 160)  // mean exactly at the threshold: voice
        #expect(edge.withUnsafeBufferPointer { vad.feed($0) } == 0)
    }
}

@Suite struct RecordingTapTests {
    /// 1 s of tone, then silence: the tap writes every sample to the WAV and calls onSilence once
    /// the silence reached the limit; telephone-event packets are not audio.
    @Test func recordsToneAndDetectsSilence() async throws {
        let path = temporaryPath("tap.wav")
        let sink = try RecordingSink(path: path)
        let fired = NIOLockedValueBox<[Int]>([])
        var packetIndex = 0
        let tap = RecordingTap(sink: sink, silenceMilliseconds: 500) { fired.withLockedValue { $0.append(packetIndex) } }
        let tone = tonePackets(frequency: 1000, count: 50), silence = tonePackets(frequency: nil, count: 40, firstSeq: 51)
        for bytes in tone + silence {
            packetIndex += 1
            #expect(tap.receive(RTPHeaderView(ByteBuffer(bytes: bytes))!) == .continue)
        }
        _ = tap.receive(RTPHeaderView(ByteBuffer(bytes: rtpPacket(pt: 101, seq: 99, payload: 4)))!)
        // 25 silent packets (500 ms) after the 50 tone packets.
        #expect(fired.withLockedValue { $0 } == [75])
        tap.tapRemoved()
        let samples = try await sink.finish()
        #expect(samples == 90 * 160)
        let file = try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(file.samples.count == 90 * 160)
        let head = Array(file.samples[0..<8000])
        #expect(goertzelPower(head, frequency: 1000) > 1000 * goertzelPower(head, frequency: 1400))
        #expect(file.samples[8000...].allSatisfy { abs(Int($0)) < 8 })
        #expect(sink.droppedChunks == 0)
    }

    /// A-law packets decode with A-law; the partial chunk is written only at removal.
    @Test func aLawAndPartialChunk() async throws {
        let path = temporaryPath("alaw.wav")
        let sink = try RecordingSink(path: path)
        let tap = RecordingTap(sink: sink, silenceMilliseconds: nil) {}
        for bytes in tonePackets(frequency: 400, count: 10, pt: 8) { _ = tap.receive(RTPHeaderView(ByteBuffer(bytes: bytes))!) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path))).samples.isEmpty)  // < one chunk
        tap.tapRemoved()
        #expect(try await sink.finish() == 1600)
        let samples = try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path))).samples
        #expect(goertzelPower(samples, frequency: 400) > 1000 * goertzelPower(samples, frequency: 1000))
    }

    /// A phone that stops sending (VAD/DTX): after the 200 ms of slack, clock ticks without
    /// packets are recorded as silence, which ends the recording; while packets keep up with
    /// the clock nothing is inserted.
    @Test func clockFillsGapsWithSilence() async throws {
        let path = temporaryPath("dtx.wav")
        let sink = try RecordingSink(path: path)
        let fired = NIOLockedValueBox(0)
        var tick = 0
        let tap = RecordingTap(sink: sink, silenceMilliseconds: 1000) { fired.withLockedValue { $0 = tick } }
        for bytes in tonePackets(frequency: 1000, count: 25) {
            tick += 1
            _ = tap.receive(RTPHeaderView(ByteBuffer(bytes: bytes))!)
            tap.tick(frames: 1)
        }
        #expect(tap.insertedFrames == 0 && tap.recordedSamples == 25 * 160)
        // The phone goes quiet: real time goes on.
        for _ in 0..<100 {
            tick += 1
            tap.tick(frames: 1)
        }
        // 10 ticks of slack, then 50 inserted silent frames reach the 1 s limit.
        #expect(fired.withLockedValue { $0 } == 25 + 10 + 50)
        #expect(tap.insertedFrames == 100 - 10)
        tap.tapRemoved()
        tap.tick(frames: 5)
        #expect(tap.insertedFrames == 90)
        #expect(try await sink.finish() == (25 + 90) * 160)
        let samples = try WAVFile(parsing: try Data(contentsOf: URL(fileURLWithPath: path))).samples
        #expect(samples[(25 * 160)...].allSatisfy { $0 == 0 })
    }

    /// A writer that falls behind drops chunks (counted) instead of queueing without bound.
    @Test func sinkIsBounded() async throws {
        let sink = try RecordingSink(path: temporaryPath("bounded.wav"), maxPendingChunks: 2)
        var accepted = 0
        for _ in 0..<200 where sink.enqueue([Int16](repeating: 1, count: 4000)) { accepted += 1 }
        #expect(accepted + sink.droppedChunks == 200)
        #expect(try await sink.finish() == accepted * 4000)
    }
}

@Suite struct MusicSourceTests {
    static func file(_ byte: UInt8, frames: Int) -> FrameSource {
        FrameSource(.muLaw([UInt8](repeating: byte, count: frames * 160)), law: .muLaw)
    }

    static func firstBytes(_ source: inout MusicSource, count: Int, codec: Codec = .pcmu) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<count {
            var b = ByteBuffer()
            guard source.nextPayload(into: &b, codec: codec) else { break }
            #expect(b.readableBytes == 160)
            out.append(b.readableBytesView.first!)
        }
        return out
    }

    /// Files play in order and start over after the last, for ever.
    @Test func loopsInOrder() {
        var music = MusicSource(files: [Self.file(1, frames: 3), Self.file(2, frames: 2)])!
        #expect(Self.firstBytes(&music, count: 12) == [1, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 1])
        #expect(music.filesStarted == 5)
    }

    /// Random order never repeats a file twice in a row (with several) and plays each file whole.
    @Test func randomOrder() {
        var music = MusicSource(
            files: [Self.file(1, frames: 2), Self.file(2, frames: 2), Self.file(3, frames: 2)], order: .random)!
        let bytes = Self.firstBytes(&music, count: 200)
        #expect(bytes.count == 200)
        let runs = stride(from: 0, to: 200, by: 2).map { bytes[$0] }
        #expect(stride(from: 0, to: 200, by: 2).allSatisfy { bytes[$0] == bytes[$0 + 1] })
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $0 != $1 })
        #expect(Set(runs) == [1, 2, 3])
    }

    @Test func emptyOrWrongCodec() {
        #expect(MusicSource(files: []) == nil)
        #expect(MusicSource(files: [Self.file(1, frames: 0)]) == nil)
        var music = MusicSource(files: [Self.file(1, frames: 0), Self.file(5, frames: 1)])!
        #expect(Self.firstBytes(&music, count: 3) == [5, 5, 5])
        #expect(Self.firstBytes(&music, count: 3, codec: .pcma).isEmpty)  // a µ-law file can't play as PCMA
    }
}

/// Echo and SendDTMF on a real leg, with a UDP "phone".
@Suite struct LocalMediaAppsTests {
    /// The phone's packets come back with their payloads, in pbxd's own stream; after the tap
    /// is removed nothing more is echoed.
    @Test func echoSendsPacketsBack() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: LocalMediaTests.Ignore())
        #expect(await local.startEcho())
        let sent = tonePackets(frequency: 1000, count: 10)
        for p in sent { try await phone.send(p, toPort: session.localPort(.a)) }
        let got = try await phone.waitFor(10)
        #expect(got.count == 10)
        let views = got.map { RTPHeaderView($0.data)! }
        #expect(views.allSatisfy { $0.ssrc != 0xCAFE && $0.ssrc == views[0].ssrc && $0.payloadType == 0 })
        for i in 1..<views.count {
            #expect(views[i].sequenceNumber == views[i - 1].sequenceNumber &+ 1)
            #expect(views[i].timestamp == views[i - 1].timestamp &+ 160)
        }
        #expect(views[0].marker)
        #expect(got.map { Array($0.data.readableBytesView.dropFirst(12)) } == sent.map { Array($0.dropFirst(12)) })
        #expect(await local.setTap(nil))
        for p in tonePackets(frequency: 1000, count: 5, firstSeq: 11) { try await phone.send(p, toPort: session.localPort(.a)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await phone.received.count == 10)
        await session.close()
        await phone.close()
    }

    /// One key: RFC 4733 packets paced on the clock, decoded by the phone as that key; the
    /// stream then goes on with the next sequence number.
    @Test func sendDTMFThenPlay() async throws {
        let relay = try TestRelay.make()
        let session = try await relay.makeSession()
        let phone = try await TestPhone.make()
        await session.setRemote(.a, phone.address)
        let local = try await session.attachLocal(.a, handler: LocalMediaTests.Ignore())
        let started = ContinuousClock.now
        #expect(await local.sendDTMF(DTMFDigit("5")!, payloadType: 101, duration: .milliseconds(100)) == .finished)
        #expect(ContinuousClock.now - started > .milliseconds(100))
        let events = try await phone.waitFor(7)
        #expect(events.count == 7)
        var decoder = DTMFEventDecoder(payloadType: 101)
        var ends: [DTMFEnd] = []
        for e in events {
            for report in decoder.receive(RTPHeaderView(e.data)!) { if case .end(let end) = report { ends.append(end) } }
        }
        #expect(ends.map(\.digit.character) == ["5"])
        let player = await local.play(ToneSource(frequency: 1000, duration: .milliseconds(40)), codec: .pcmu)
        #expect(try await player.outcome.get() == .finished)
        let all = try await phone.waitFor(9)
        let views = all.map { RTPHeaderView($0.data)! }
        #expect(views.count == 9)
        #expect(views[7].sequenceNumber == views[6].sequenceNumber &+ 1 && views[7].payloadType == 0 && views[7].marker)
        #expect(views[7].ssrc == views[0].ssrc)
        await session.close()
        await phone.close()
    }
}
