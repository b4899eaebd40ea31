import Dispatch
import NIOCore
import NIOPosix
import RTPMedia
#if canImport(Glibc)
import Glibc
#endif

/// `pbxd-bench relay`: the in-process RTP relay under load from `bench/rtp-loadgen`.
///
/// Creates K relay sessions on ONE event loop (run the process under `taskset -c <cpu>` to pin
/// it to one core), writes their ports to `--ports-file` ("portA portB" per line), then waits for
/// the load generator: SIGUSR1 starts the measurement window, SIGUSR2 ends it. Over the window it
/// reports packets relayed (sum of the sessions' out-counters), CPU (getrusage user+sys) per
/// relayed packet, and mallocs per packet when bench/malloc-count.c is preloaded.
/// bench/run-relay-bench.sh drives the whole thing.
func runRelayBench(arguments: [String]) {
    var sessions = 500
    var portStart = 30000
    var portsFile = "/tmp/pbxd-relay-ports.txt"
    var bindHost = "127.0.0.1"
    var configuration = RTPRelay.Configuration()
    var i = 0
    while i < arguments.count {
        let value = i + 1 < arguments.count ? arguments[i + 1] : ""
        switch arguments[i] {
        case "--sessions": sessions = Int(value) ?? sessions
        case "--port-start": portStart = Int(value) ?? portStart
        case "--ports-file": portsFile = value
        case "--bind": bindHost = value
        case "--vector": configuration.vectorReadMessageCount = Int(value) ?? configuration.vectorReadMessageCount
        case "--reads": configuration.maxMessagesPerRead = Int(value) ?? configuration.maxMessagesPerRead
        default:
            print("usage: pbxd-bench relay [--sessions K] [--port-start P] [--ports-file F] [--bind H] [--vector N] [--reads N]")
            return
        }
        i += 2
    }
    let done = DispatchSemaphore(value: 0)
    let config = (sessions, portStart, portsFile, bindHost, configuration)
    Task {
        do {
            try await relayBench(sessions: config.0, portStart: config.1, portsFile: config.2, bindHost: config.3,
                                 configuration: config.4)
        } catch {
            print("relay bench failed: \(error)")
        }
        done.signal()
    }
    done.wait()
}

private enum BenchSignal { case start, stop }

private struct Snapshot {
    var cpuMicros: Double
    var packets: Int
    var mallocs: UInt64?
}

private func cpuMicros() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func us(_ t: timeval) -> Double { Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
    return us(usage.ru_utime) + us(usage.ru_stime)
}

private let mallocCount: (@convention(c) () -> UInt64)? = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pbxd_malloc_count") else { return nil }
    return unsafeBitCast(sym, to: (@convention(c) () -> UInt64).self)
}()

private func relayBench(
    sessions count: Int, portStart: Int, portsFile: String, bindHost: String, configuration: RTPRelay.Configuration
) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let pool = try RTPPortPool(range: portStart...(portStart + count * 4 + 200))
    let relay = RTPRelay(group: group, portPool: pool, bindHost: bindHost, configuration: configuration)
    var sessions: [RelaySession] = []
    var lines = ""
    for _ in 0..<count {
        let s = try await relay.makeSession()
        // No setRemote: both legs latch onto the load generator's sockets (symmetric RTP).
        await s.start()
        sessions.append(s)
        lines += "\(s.localPort(.a)) \(s.localPort(.b))\n"
    }
    let tmp = portsFile + ".tmp"
    guard let f = fopen(tmp, "w") else { throw RelayBenchError.cannotWrite(portsFile) }
    fputs(lines, f)
    fclose(f)
    rename(tmp, portsFile)  // atomic: the load generator never reads half a file
    print("relay: \(count) sessions on 1 event loop, vector read \(configuration.vectorReadMessageCount), reads/event \(configuration.maxMessagesPerRead), ports \(portStart)..., pid \(getpid()), ports in \(portsFile)")
    fflush(nil)

    let (signals, continuation) = AsyncStream<BenchSignal>.makeStream()
    signal(SIGUSR1, SIG_IGN)
    signal(SIGUSR2, SIG_IGN)
    let startSource = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
    startSource.setEventHandler { continuation.yield(.start) }
    startSource.resume()
    let stopSource = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
    stopSource.setEventHandler { continuation.yield(.stop) }
    stopSource.resume()

    func snapshot() async -> Snapshot {
        var packets = 0
        for s in sessions {
            packets += await s.counters(.a).packetsOut
            packets += await s.counters(.b).packetsOut
        }
        return Snapshot(cpuMicros: cpuMicros(), packets: packets, mallocs: mallocCount?())
    }

    var start: Snapshot?
    for await signal in signals {
        switch signal {
        case .start:
            start = await snapshot()
        case .stop:
            let end = await snapshot()
            guard let start else { continue }
            let packets = end.packets - start.packets
            let cpu = end.cpuMicros - start.cpuMicros
            let perPacket = packets > 0 ? fixed(cpu / Double(packets), 2) : "n/a"
            var line = "RESULT relay sessions=\(count) packets=\(packets) cpu_s=\(fixed(cpu / 1e6, 3))"
            line += " cpu_us_per_packet=\(perPacket)"
            if let m0 = start.mallocs, let m1 = end.mallocs, packets > 0 {
                line += " mallocs_per_packet=\(fixed(Double(m1 - m0) / Double(packets), 3))"
            }
            print(line)
            let drops = await totalDrops(sessions)
            print("relay drops: \(drops)")
            fflush(nil)
            continuation.finish()
        }
    }
    startSource.cancel()
    stopSource.cancel()
    for s in sessions { await s.close() }
    try await group.shutdownGracefully()
}

private func totalDrops(_ sessions: [RelaySession]) async -> String {
    var wrong = 0, invalid = 0, notForwarded = 0
    for s in sessions {
        for leg in RelayLeg.allCases {
            let c = await s.counters(leg)
            wrong += c.droppedWrongSource
            invalid += c.droppedInvalid
            notForwarded += c.droppedNotForwarded
        }
    }
    return "wrongSource=\(wrong) invalid=\(invalid) notForwarded=\(notForwarded)"
}

private enum RelayBenchError: Error { case cannotWrite(String) }

/// `x` with `digits` decimals (no Foundation in this target).
private func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((x * scale).rounded())
    let whole = scaled / Int(scale), frac = abs(scaled % Int(scale))
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    return digits > 0 ? "\(x < 0 && whole == 0 ? "-" : "")\(whole).\(f)" : String(whole)
}
