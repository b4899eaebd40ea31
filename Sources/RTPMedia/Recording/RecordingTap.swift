import Dispatch
import NIOConcurrencyHelpers
import NIOCore

/// The disk side of a recording: a `RecordingFileWriter` (WAV, or Ogg/Opus for `.ogg`/`.opus`
/// names) on its own serial queue, fed with chunks of
/// samples. The event loop only hands chunks over (`enqueue` never blocks on disk); at most
/// `maxPendingChunks` may wait, beyond that a chunk is dropped and counted (a stalled disk must
/// not grow memory without bound).
public final class RecordingSink: @unchecked Sendable {
    // @unchecked: `writer` and `failure` are only touched on `queue` (enqueue, finish and the
    // initialiser's synchronous hop); the counters are behind `state`'s lock.
    private let queue: DispatchQueue
    private var writer: (any RecordingFileWriter)?
    private var failure: (any Error)?
    private let state = NIOLockedValueBox((pending: 0, dropped: 0))
    public let path: String
    public let maxPendingChunks: Int

    /// Creates the file now (so a bad path fails here) with its header.
    public init(path: String, sampleRate: Int = 8000, maxPendingChunks: Int = 32) throws {
        self.path = path
        self.maxPendingChunks = maxPendingChunks
        self.queue = DispatchQueue(label: "pbxd.recording")
        self.writer = try RecordingFormat.writer(path: path, sampleRate: sampleRate)
    }

    /// Hands a chunk to the writer; false when it was dropped (too many pending).
    @discardableResult
    public func enqueue(_ chunk: [Int16]) -> Bool {
        let accepted = self.state.withLockedValue { s -> Bool in
            guard s.pending < self.maxPendingChunks else {
                s.dropped += 1
                return false
            }
            s.pending += 1
            return true
        }
        guard accepted else { return false }
        self.queue.async {
            defer { self.state.withLockedValue { $0.pending -= 1 } }
            guard self.failure == nil else { return }
            do { try self.writer?.append(chunk) } catch { self.failure = error }
        }
        return true
    }

    /// Chunks dropped because the writer fell behind.
    public var droppedChunks: Int { self.state.withLockedValue { $0.dropped } }

    /// Waits for the queued chunks, drops the last `trimSamples` samples, closes the file and
    /// returns the samples kept, or the first write error.
    public func finish(trimSamples: Int = 0) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            self.queue.async {
                if let failure = self.failure { return continuation.resume(throwing: failure) }
                guard let writer = self.writer else { return continuation.resume(returning: 0) }
                do {
                    try writer.truncate(droppingLast: trimSamples)
                    try writer.close()
                    continuation.resume(returning: writer.sampleCount)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// Records what a leg's phone sends: a `LocalMediaHandler` (installed with
/// `LocalMediaEndpoint.setTap`) that decodes each G.711 packet into a preallocated sample
/// buffer, runs the silence detector on it and gathers samples into chunks of `chunkSamples`
/// handed to a `RecordingSink` (written off the loop). Packets of other payload types
/// (telephone-event, comfort noise) are ignored.
///
/// `onSilence` runs once, on the loop, when the caller has been silent for `silence`.
///
/// Installed with `setTap`, it also follows the media clock: a phone that stops sending while
/// its user is silent (VAD/DTX) would otherwise never reach the silence limit, so when fewer
/// samples than real time arrived (beyond `gapSlack` of jitter) the missing 20 ms frames are
/// recorded as silence.
public final class RecordingTap: LocalMediaTapEnding, MediaClockSubscriber {
    public let sink: RecordingSink
    /// Samples of real time since the clock started feeding this tap, and samples recorded.
    public private(set) var clockSamples = 0
    public private(set) var recordedSamples = 0
    /// Frames recorded as silence because no packet came (see the type's description).
    public private(set) var insertedFrames = 0
    /// How far the packets may lag real time before silence is inserted (200 ms).
    public static let gapSlack = 1600
    private var clock: MediaClock?
    private let silentFrame = [Int16](repeating: 0, count: 160)
    private let silenceLimit: Int?
    private var detector: SilenceDetector
    private var onSilence: (() -> Void)?
    /// One packet's decoded samples (up to 1500 bytes of G.711).
    private var frame: [Int16]
    private var chunk: [Int16]
    private let chunkSamples: Int
    private var stopped = false

    /// - Parameters:
    ///   - silenceMilliseconds: nil: no silence detection.
    ///   - chunkSamples: how many samples go to the sink at once (4000 = 0.5 s, so the file on
    ///     disk is at most about half a second behind).
    public init(
        sink: RecordingSink, silenceMilliseconds: Int?, threshold: Int = 256, chunkSamples: Int = 4000,
        onSilence: @escaping () -> Void
    ) {
        self.sink = sink
        self.silenceLimit = silenceMilliseconds
        self.detector = SilenceDetector(threshold: threshold)
        self.onSilence = onSilence
        self.frame = [Int16](repeating: 0, count: 1500)
        self.chunkSamples = chunkSamples
        self.chunk = []
        self.chunk.reserveCapacity(chunkSamples)
    }

    public func receive(_ packet: RTPHeaderView) -> LocalMediaReceiveResult {
        guard !self.stopped else { return .continue }
        let pt = packet.payloadType
        guard pt == 0 || pt == 8, let offset = packet.payloadOffset, let length = packet.payloadLength, length > 0 else {
            return .continue
        }
        let count = min(length, self.frame.count)
        packet.buffer.withUnsafeReadableBytes { raw in
            let codes = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[offset..<offset + count])
            self.frame.withUnsafeMutableBufferPointer { out in
                let target = UnsafeMutableBufferPointer(rebasing: out[0..<count])
                if pt == 0 { G711.muLawDecode(codes, into: target) } else { G711.aLawDecode(codes, into: target) }
            }
        }
        self.frame.withUnsafeBufferPointer { samples in
            self.record(UnsafeBufferPointer(rebasing: samples[0..<count]))
        }
        return .continue
    }

    private func record(_ decoded: UnsafeBufferPointer<Int16>) {
        let silent = self.detector.feed(decoded)
        let count = decoded.count
        var index = 0
        while index < count {
            let n = min(count - index, self.chunkSamples - self.chunk.count)
            self.chunk.append(contentsOf: decoded[index..<index + n])
            index += n
            if self.chunk.count >= self.chunkSamples { self.handOver() }
        }
        self.recordedSamples += count
        if let limit = self.silenceLimit, silent >= limit, let callback = self.onSilence {
            self.onSilence = nil
            callback()
        }
    }

    /// Starts following `clock` (on its loop); `tapRemoved` stops.
    func follow(_ clock: MediaClock) {
        guard !self.stopped, self.clock == nil else { return }
        self.clock = clock
        clock.subscribe(self)
    }

    /// Per clock tick: inserts silent frames for the real time no packet covered.
    public func tick(frames: Int) {
        guard !self.stopped else { return }
        self.clockSamples += frames * 160
        while !self.stopped, self.clockSamples - self.recordedSamples > Self.gapSlack {
            self.insertedFrames += 1
            self.silentFrame.withUnsafeBufferPointer { self.record($0) }
        }
    }

    /// Removing the tap (`setTap`, detach) hands the last partial chunk to the sink.
    public func tapRemoved() { self.stop() }

    /// Sends the partial chunk to the sink and ignores later packets. Call on the loop before
    /// `sink.finish()`.
    public func stop() {
        guard !self.stopped else { return }
        self.stopped = true
        self.onSilence = nil
        self.clock?.unsubscribe(self)
        self.clock = nil
        if !self.chunk.isEmpty { self.handOver() }
    }

    private func handOver() {
        self.sink.enqueue(self.chunk)
        // A new chunk per hand-over (every `chunkSamples`, not per packet).
        self.chunk = []
        self.chunk.reserveCapacity(self.chunkSamples)
    }
}
