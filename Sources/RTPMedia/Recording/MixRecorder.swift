/// Records a relayed call as Asterisk's MixMonitor does: the audio of both phones mixed into one
/// 8 kHz 16-bit WAV, optionally each direction into its own file too (MixMonitor's `r()` and
/// `t()`). Installed into a `RelaySession` with `startMonitor`; lives on the session's loop.
///
/// Packets from each phone (G.711; other payload types such as telephone-event are ignored) are
/// decoded into that direction's `SampleJitterBuffer`; on every tick of the loop's media clock
/// one 20 ms frame per direction is taken (silence if none came), summed with clipping and
/// gathered into 0.5 s chunks for the `RecordingSink`s, which write off the loop. The files
/// therefore follow real time, and on disk they are at most about half a second behind
/// (the sinks keep the WAV header's sizes current, so a crash leaves a playable file).
///
/// Per packet and per tick nothing is allocated: decode and mix buffers are made once; a new
/// chunk array is made only per hand-over (every 0.5 s).
public final class MixRecorder: MediaClockSubscriber {
    /// Where each mix goes.
    public struct Sinks: Sendable {
        public var mixed: RecordingSink
        /// What the monitored channel's phone sends (`r()`).
        public var receive: RecordingSink?
        /// What the monitored channel's phone hears from the other one (`t()`).
        public var transmit: RecordingSink?

        public init(mixed: RecordingSink, receive: RecordingSink? = nil, transmit: RecordingSink? = nil) {
            self.mixed = mixed
            self.receive = receive
            self.transmit = transmit
        }

        public var all: [RecordingSink] { [mixed] + [receive, transmit].compactMap { $0 } }
    }

    /// One direction's entry point: the relay hands it every RTP packet from that leg's phone.
    /// The relay endpoints' taps are what keep the recorder alive while it records.
    final class DirectionTap: LocalMediaHandler {
        let recorder: MixRecorder
        let direction: Int

        init(recorder: MixRecorder, direction: Int) {
            self.recorder = recorder
            self.direction = direction
        }

        func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
            recorder.decode(packet, direction: direction)
            return .continue
        }
    }

    public let sinks: Sinks
    /// The leg whose phone is the monitored channel's (its audio is the "receive" feed).
    public let receiveLeg: RelayLeg
    private var buffers = [SampleJitterBuffer(), SampleJitterBuffer()]
    private var decoded = [Int16](repeating: 0, count: 1500)
    /// One tick's worth of each direction (the clock delivers at most `maxFramesPerTick` frames).
    private var frames: [[Int16]]
    private var chunks: [[Int16]] = [[], [], []]
    private let chunkSamples: Int
    private var clock: MediaClock?
    private var stopped = false
    /// Samples written to the mixed file so far.
    public private(set) var mixedSamples = 0

    public init(sinks: Sinks, receiveLeg: RelayLeg, chunkSamples: Int = 4000, maxFramesPerTick: Int = 10) {
        self.sinks = sinks
        self.receiveLeg = receiveLeg
        self.chunkSamples = chunkSamples
        self.frames = [[Int16](repeating: 0, count: 160 * maxFramesPerTick), [Int16](repeating: 0, count: 160 * maxFramesPerTick)]
        for index in chunks.indices { chunks[index].reserveCapacity(chunkSamples) }
    }

    /// The tap for RTP from `leg`'s phone.
    func tap(for leg: RelayLeg) -> DirectionTap { DirectionTap(recorder: self, direction: leg == receiveLeg ? 0 : 1) }

    /// Starts taking frames from `clock` (on its loop).
    func follow(_ clock: MediaClock) {
        guard !stopped, self.clock == nil else { return }
        self.clock = clock
        clock.subscribe(self)
    }

    /// Records one RTP packet from `leg`'s phone (what the relay's tap does; benchmarks call it
    /// directly). On the recorder's loop.
    public func record(_ packet: RTPHeaderView, from leg: RelayLeg) {
        decode(packet, direction: leg == receiveLeg ? 0 : 1)
    }

    fileprivate func decode(_ packet: RTPHeaderView, direction: Int) {
        guard !stopped else { return }
        let pt = packet.payloadType
        guard pt == 0 || pt == 8, let offset = packet.payloadOffset, let length = packet.payloadLength, length > 0 else { return }
        let count = min(length, decoded.count)
        packet.buffer.withUnsafeReadableBytes { raw in
            let codes = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[offset..<offset + count])
            decoded.withUnsafeMutableBufferPointer { out in
                let target = UnsafeMutableBufferPointer(rebasing: out[0..<count])
                if pt == 0 { G711.muLawDecode(codes, into: target) } else { G711.aLawDecode(codes, into: target) }
            }
        }
        decoded.withUnsafeBufferPointer { buffers[direction].push(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }

    public func tick(frames count: Int) {
        guard !stopped else { return }
        let samples = min(count * 160, frames[0].count)
        for direction in 0..<2 {
            frames[direction].withUnsafeMutableBufferPointer { out in
                buffers[direction].pop(into: UnsafeMutableBufferPointer(rebasing: out[0..<samples]))
            }
        }
        for i in 0..<samples {
            let sum = Int32(frames[0][i]) + Int32(frames[1][i])
            chunks[0].append(Int16(clamping: sum))
        }
        if sinks.receive != nil { chunks[1].append(contentsOf: frames[0][0..<samples]) }
        if sinks.transmit != nil { chunks[2].append(contentsOf: frames[1][0..<samples]) }
        mixedSamples += samples
        if chunks[0].count >= chunkSamples { handOver() }
    }

    /// Hands the partial chunks to the sinks and stops following the clock. Call on the loop,
    /// then `finish()` each sink.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        clock?.unsubscribe(self)
        clock = nil
        handOver()
    }

    private func handOver() {
        let targets: [RecordingSink?] = [sinks.mixed, sinks.receive, sinks.transmit]
        for (index, sink) in targets.enumerated() {
            guard let sink, !chunks[index].isEmpty else { continue }
            sink.enqueue(chunks[index])
            chunks[index] = []
            chunks[index].reserveCapacity(chunkSamples)
        }
    }
}
