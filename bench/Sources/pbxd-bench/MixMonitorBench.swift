import Foundation
import NIOCore
import RTPMedia

/// `pbxd-bench mixmonitor [recordings] [seconds]`: the CPU that MixMonitor's recorder costs per
/// call, on one thread, with the files really written. Each recording gets 50 µ-law packets/s
/// from each phone and 50 clock ticks/s (mixing and chunking), for `seconds` of simulated call
/// time, all recordings interleaved as one event loop would run them; the WAV writers run on
/// their own queues and their CPU is included (process CPU time, getrusage).
func runMixMonitorBench(arguments: [String]) {
    let recordings = arguments.first.flatMap(Int.init) ?? 200
    let seconds = arguments.dropFirst().first.flatMap(Int.init) ?? 20
    let directory = NSTemporaryDirectory() + "pbxd-mixbench-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }

    var recorders: [MixRecorder] = []
    for index in 0..<recordings {
        let sink = try! RecordingSink(path: "\(directory)/call-\(index).wav", maxPendingChunks: 1024)
        recorders.append(MixRecorder(sinks: .init(mixed: sink), receiveLeg: .a))
    }
    func packet(fill: UInt8, seq: UInt16) -> RTPHeaderView {
        var buffer = ByteBuffer()
        RTPHeader(marker: false, payloadType: 0, sequenceNumber: seq, timestamp: UInt32(seq) * 160, ssrc: 1).write(into: &buffer)
        buffer.writeRepeatingByte(fill, count: 160)
        return RTPHeaderView(buffer)!
    }
    let fromA = packet(fill: 0x9A, seq: 1), fromB = packet(fill: 0x1B, seq: 1)

    let cpuStart = processCPUSeconds()
    let wallStart = ContinuousClock.now
    for _ in 0..<(seconds * 50) {
        for recorder in recorders {
            recorder.record(fromA, from: .a)
            recorder.record(fromB, from: .b)
            recorder.tick(frames: 1)
        }
    }
    let loopCPU = processCPUSeconds() - cpuStart
    let group = DispatchGroup()
    for recorder in recorders {
        recorder.stop()
        let sink = recorder.sinks.mixed
        group.enter()
        Task {
            _ = try? await sink.finish()
            group.leave()
        }
    }
    group.wait()
    let cpu = processCPUSeconds() - cpuStart
    let wall = ContinuousClock.now - wallStart
    let audioSeconds = Double(recordings * seconds)
    let perRecordingSecond = cpu / audioSeconds * 1e6
    print("command: .build/release/pbxd-bench mixmonitor \(recordings) \(seconds)")
    print("recordings: \(recordings), simulated call time: \(seconds) s each (\(Int(audioSeconds)) recording-seconds)")
    print(String(format: "CPU: %.3f s total (%.3f s while feeding; the rest closing the files), wall %.2f s", cpu, loopCPU, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18))
    print(String(format: "per recording: %.1f µs CPU per second of call → about %.0f concurrent recordings per core", perRecordingSecond, 1e6 / perRecordingSecond))
    let dropped = recorders.reduce(0) { $0 + $1.sinks.mixed.droppedChunks }
    print("chunks dropped by the writers: \(dropped)")
}

private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
