import ACD
import Foundation
import PBXCore

/// `pbxd-bench acd [--agents 500] [--queues 20] [--callers 2000]`: the queue engine with every
/// agent in two queues and every agent busy while the callers join; then agents free up one
/// at a time (the time to pick a member and hand the caller its ring), then all the rest at
/// once (calls distributed per second). Memory is the process's resident set before and after.
func runACDBench(arguments: [String]) async {
    func option(_ name: String, _ fallback: Int) -> Int {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let value = Int(arguments[i + 1]) else { return fallback }
        return value
    }
    let agents = option("--agents", 500), queueCount = option("--queues", 20), callers = option("--callers", 2000)
    print("pbxd-bench acd --agents \(agents) --queues \(queueCount) --callers \(callers)")
    var text = ""
    for q in 0..<queueCount {
        text += "[q\(q)]\nstrategy = leastrecent\nringinuse = no\nretry = 0\n"
        for a in 0..<agents where a % queueCount == q || (a + 7) % queueCount == q { text += "member => SIP/a\(a)\n" }
    }
    let config: QueuesConfig
    do {
        config = try QueuesConfig(ConfigFile.parse(text, fileName: "bench-queues.conf"))
    } catch {
        print("bad generated config: \(error)")
        return
    }
    let before = residentBytes()
    let engine = QueueEngine(config: config)
    await engine.seedDeviceStates(Dictionary(uniqueKeysWithValues: (0..<agents).map { ("SIP/a\($0)", DeviceState.inUse) }))

    var streams: [AsyncStream<QueueInstruction>] = []
    let joinStart = ContinuousClock.now
    for c in 0..<callers {
        let snapshot = ChannelSnapshot(name: "SIP/c-\(c)", state: .up, callerIDNumber: "555\(c)", uniqueID: "1.\(c)", linkedID: "1.\(c)")
        if case .joined(_, let stream)? = await engine.join(queue: "q\(c % queueCount)", caller: snapshot, priority: 0) { streams.append(stream) }
    }
    let joinTime = joinStart.duration(to: .now)
    let after = residentBytes()
    print(String(format: "joined %d callers in %.1f ms (%.1f µs each); resident memory %.1f MB → %.1f MB (+%.1f MB)",
                 streams.count, joinTime.milliseconds, joinTime.milliseconds * 1000 / Double(max(1, streams.count)),
                 Double(before) / 1e6, Double(after) / 1e6, Double(after - before) / 1e6))

    // One agent frees up: the engine picks it for the first caller of each of its queues.
    let single = min(100, agents / 2)
    var latencies: [Double] = []
    for a in 0..<single {
        let start = ContinuousClock.now
        await engine.deviceStateChanged("SIP/a\(a)", to: .notInUse)
        latencies.append(start.duration(to: .now).milliseconds * 1000)
    }
    latencies.sort()
    print(String(format: "one agent frees up (%d times): pick + ring handed out in median %.0f µs, p99 %.0f µs, max %.0f µs",
                 single, latencies[latencies.count / 2], latencies[latencies.count * 99 / 100], latencies.last ?? 0))

    // The rest free up at once.
    let ringingBefore = await ringing(engine)
    let burstStart = ContinuousClock.now
    for a in single..<agents { await engine.deviceStateChanged("SIP/a\(a)", to: .notInUse) }
    let burst = burstStart.duration(to: .now)
    let distributed = await ringing(engine) - ringingBefore
    print(String(format: "%d agents free at once: %d calls handed to agents in %.1f ms = %.0f calls/s",
                 agents - single, distributed, burst.milliseconds, Double(distributed) / max(burst.milliseconds / 1000, 1e-9)))
    withExtendedLifetime(streams) {}
}

private func ringing(_ engine: QueueEngine) async -> Int {
    var interfaces = Set<String>()
    for report in await engine.reports() {
        for entry in report.members {
            if case .ringing = entry.member.state { interfaces.insert(entry.member.interface) }
        }
    }
    return interfaces.count
}

/// Resident set size from /proc/self/statm (Linux).
private func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4096 : 0
}

extension Duration {
    fileprivate var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
