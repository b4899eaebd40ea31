/// One direction's decoded samples between the packets that bring them and the media clock that
/// takes them (`MixRecorder`): a fixed ring of 16-bit samples, allocated once.
///
/// It plays out only once `primeSamples` are buffered (and again after running dry), so packets
/// arriving a little late or in bursts still land in their own frame; a backlog beyond
/// `maxBacklog` (the phone's clock runs fast, or a burst after a stall) is cut back to
/// `primeSamples` by dropping the oldest samples.
struct SampleJitterBuffer {
    private var ring: [Int16]
    private var start = 0
    private(set) var count = 0
    private var primed = false
    let primeSamples: Int
    let maxBacklog: Int
    /// Samples dropped to cut a backlog, and frames made of silence because nothing was there.
    private(set) var droppedSamples = 0

    init(capacity: Int = 8000, primeSamples: Int = 320, maxBacklog: Int = 1600) {
        precondition(capacity >= maxBacklog && maxBacklog >= primeSamples)
        ring = [Int16](repeating: 0, count: capacity)
        self.primeSamples = primeSamples
        self.maxBacklog = maxBacklog
    }

    /// Appends samples; the oldest go when the ring is full.
    mutating func push(_ samples: UnsafeBufferPointer<Int16>) {
        let capacity = ring.count
        ring.withUnsafeMutableBufferPointer { ring in
            for sample in samples {
                if count == capacity {
                    start = (start + 1) % capacity
                    count -= 1
                    droppedSamples += 1
                }
                ring[(start + count) % capacity] = sample
                count += 1
            }
        }
        if count > maxBacklog {
            let excess = count - primeSamples
            start = (start + excess) % capacity
            count -= excess
            droppedSamples += excess
        }
    }

    /// Fills `out` with the next samples, silence where there are none (not primed, or dry).
    mutating func pop(into out: UnsafeMutableBufferPointer<Int16>) {
        if !primed, count >= primeSamples { primed = true }
        let capacity = ring.count
        var taken = 0
        if primed {
            taken = min(out.count, count)
            ring.withUnsafeBufferPointer { ring in
                for i in 0..<taken { out[i] = ring[(start + i) % capacity] }
            }
            start = (start + taken) % capacity
            count -= taken
            if count == 0 { primed = false }
        }
        for i in taken..<out.count { out[i] = 0 }
    }
}
