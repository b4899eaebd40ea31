import Foundation
import NIOCore
import Testing
@testable import RTPMedia

/// MixMonitor's recorder, driven by hand: packets into the two direction taps, clock ticks,
/// then the WAV files read back.
@Suite struct MixRecorderTests {
    static let phone = try! SocketAddress(ipAddress: "192.0.2.10", port: 4000)

    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "mix-\(UUID().uuidString)-\(name).wav"
    }

    /// The 16-bit samples of a WAV written by `WAVStreamWriter`.
    private func samples(_ path: String) throws -> [Int16] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.count >= 44)
        let declared = data[40..<44].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(declared == data.count - 44, "the header's data size matches the file")
        return stride(from: 44, to: data.count - 1, by: 2).map { Int16(bitPattern: UInt16(data[$0]) | UInt16(data[$0 + 1]) << 8) }
    }

    private func view(fill: UInt8, pt: UInt8 = 0, seq: UInt16 = 1) -> RTPHeaderView {
        RTPHeaderView(ByteBuffer(bytes: rtpPacket(pt: pt, seq: seq, fill: fill)))!
    }

    @Test func mixesBothDirectionsAndWritesEachLegOnRequest() async throws {
        let sinks = MixRecorder.Sinks(
            mixed: try RecordingSink(path: temporaryPath("mixed")), receive: try RecordingSink(path: temporaryPath("rx")),
            transmit: try RecordingSink(path: temporaryPath("tx")))
        // The monitored channel is on leg b: its phone's packets are the "receive" feed.
        let recorder = MixRecorder(sinks: sinks, receiveLeg: .b, chunkSamples: 800)
        let fromA = recorder.tap(for: .a), fromB = recorder.tap(for: .b)
        let a: UInt8 = 0xB0, b: UInt8 = 0x40  // µ-law codes of two different levels
        for seq in 0..<10 {
            _ = fromA.receive(view(fill: a, seq: UInt16(seq)))
            _ = fromB.receive(view(fill: b, seq: UInt16(seq)))
            _ = fromB.receive(view(fill: 0x55, pt: 101, seq: UInt16(seq)))  // telephone-event: not audio
            recorder.tick(frames: 1)
        }
        recorder.stop()
        for sink in sinks.all { _ = try await sink.finish() }
        let mixed = try samples(sinks.mixed.path), rx = try samples(sinks.receive!.path), tx = try samples(sinks.transmit!.path)
        #expect(mixed.count == 1600 && rx.count == 1600 && tx.count == 1600)
        // The first frame is silence (each direction waits for 40 ms of audio), then steady mix.
        #expect(mixed.prefix(160).allSatisfy { $0 == 0 })
        let sum = Int16(clamping: Int32(G711.muLawDecode(a)) + Int32(G711.muLawDecode(b)))
        #expect(mixed[320..<1600].allSatisfy { $0 == sum })
        #expect(rx[320..<1600].allSatisfy { $0 == G711.muLawDecode(b) })
        #expect(tx[320..<1600].allSatisfy { $0 == G711.muLawDecode(a) })
        #expect(recorder.mixedSamples == 1600)
    }

    @Test func silentDirectionIsRecordedAsSilenceAndLoudSumsClip() async throws {
        let sink = try RecordingSink(path: temporaryPath("clip"))
        let recorder = MixRecorder(sinks: .init(mixed: sink), receiveLeg: .a)
        let tap = recorder.tap(for: .a), other = recorder.tap(for: .b)
        for seq in 0..<5 {
            _ = tap.receive(view(fill: 0x80, seq: UInt16(seq)))  // +32124
            recorder.tick(frames: 1)
        }
        for seq in 5..<10 {
            _ = tap.receive(view(fill: 0x80, seq: UInt16(seq)))
            _ = other.receive(view(fill: 0x80, seq: UInt16(seq)))
            recorder.tick(frames: 1)
        }
        recorder.stop()
        _ = try await sink.finish()
        let mixed = try samples(sink.path)
        #expect(mixed.count == 1600)
        #expect(mixed[160..<800].allSatisfy { $0 == 32124 })
        #expect(mixed[1280..<1600].allSatisfy { $0 == Int16.max })
    }

    @Test func jitterBufferPrimesThenCutsBacklog() {
        var buffer = SampleJitterBuffer(capacity: 1000, primeSamples: 320, maxBacklog: 640)
        var out = [Int16](repeating: 7, count: 160)
        let frame = [Int16](repeating: 1, count: 160)
        frame.withUnsafeBufferPointer { buffer.push($0) }
        out.withUnsafeMutableBufferPointer { buffer.pop(into: $0) }
        #expect(out.allSatisfy { $0 == 0 }, "not primed: silence")
        frame.withUnsafeBufferPointer { buffer.push($0) }
        out.withUnsafeMutableBufferPointer { buffer.pop(into: $0) }
        #expect(out.allSatisfy { $0 == 1 })
        // 160 left; the fourth of five more frames makes 800 > 640: cut back to 320, then +160.
        for _ in 0..<5 { frame.withUnsafeBufferPointer { buffer.push($0) } }
        #expect(buffer.count == 480)
        #expect(buffer.droppedSamples == 480)
    }
}

#if os(Linux)
/// The recording tap stage in the relay path: with a MixMonitor installed, forwarding and
/// recording a packet and mixing a frame allocate nothing (between chunk hand-overs).
@Suite(.enabled(if: MallocCounter.isAvailable, "needs LD_PRELOAD=libmalloc-count.so (bench/malloc-count.c)"))
struct MixRecorderAllocationTests {
    @Test func recordingTapAddsNoAllocation() throws {
        let a = RelayEndpoint(isRTCP: false), b = RelayEndpoint(isRTCP: false)
        a.peer = b
        b.peer = a
        a.remote = RelayAllocationTests.other
        b.remote = RelayAllocationTests.phone
        let sink = try RecordingSink(path: NSTemporaryDirectory() + "mix-alloc-\(UUID().uuidString).wav")
        let recorder = MixRecorder(sinks: .init(mixed: sink), receiveLeg: .a, chunkSamples: 2_000_000)
        a.monitor = recorder.tap(for: .a)
        b.monitor = recorder.tap(for: .b)
        let fromA = AddressedEnvelope(remoteAddress: RelayAllocationTests.phone, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1, fill: 0x90)))
        let fromB = AddressedEnvelope(remoteAddress: RelayAllocationTests.other, data: ByteBuffer(bytes: rtpPacket(pt: 0, seq: 1, fill: 0x20)))
        _ = a.process(fromA)
        _ = b.process(fromB)
        var forwarded = 0
        let mallocs = MallocCounter.count {
            for _ in 0..<5_000 {
                if a.process(fromA) != nil { forwarded += 1 }
                if b.process(fromB) != nil { forwarded += 1 }
                recorder.tick(frames: 1)
            }
        }
        #expect(forwarded == 10_000)
        #expect(recorder.mixedSamples == 800_000)
        #expect(mallocs == 0, "\(mallocs) mallocs for 10,000 packets and 5,000 mixed frames")
        recorder.stop()
    }
}
#endif
