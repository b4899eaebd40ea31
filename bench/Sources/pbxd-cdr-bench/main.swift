import CDRBackends
import Foundation
import Logging
import PBXCore
import Storage

/// pbxd-cdr-bench: CDR rows per second under a call burst. Publishes the bus events of N
/// answered calls (12 events each, the shapes pbxd's channels, Dial and bridges publish) into
/// a real CDRService and measures until every record is committed to pbxd.sqlite (WAL,
/// synchronous=FULL) — and, with --pg, until PostgreSQL has them all (spool drained).
///
///   pbxd-cdr-bench [--calls N] [--csv] [--pg PORT] [--dir DIR]
struct Options {
    var calls = 20_000
    var csv = false
    var pgPort: Int?
    var directory = NSTemporaryDirectory() + "pbxd-cdr-bench-\(getpid())"

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--calls": calls = Int(iterator.next() ?? "") ?? calls
            case "--csv": csv = true
            case "--pg": pgPort = Int(iterator.next() ?? "")
            case "--dir": directory = iterator.next() ?? directory
            default:
                print("unknown option \(argument); usage: pbxd-cdr-bench [--calls N] [--csv] [--pg PORT] [--dir DIR]")
                exit(2)
            }
        }
    }
}

/// The 12 events of answered call `n`: caller and callee created, Dial, answer, bridge, hangup.
func callEvents(_ n: Int, at time: Double) -> [ManagerEvent] {
    let id = "1795300000.\(2 * n)", calleeID = "1795300000.\(2 * n + 1)"
    var caller = ChannelSnapshot(name: "SIP/1001-\(String(2 * n, radix: 16))", state: .ring, callerIDNumber: "1001",
                                 callerIDName: "Alice", context: "internal", exten: "1002", uniqueID: id, linkedID: id)
    var callee = ChannelSnapshot(name: "SIP/1002-\(String(2 * n + 1, radix: 16))", state: .down, callerIDNumber: "1002",
                                 context: "internal", exten: "1002", uniqueID: calleeID, linkedID: id)
    var events: [ManagerEvent] = []
    func emit(_ name: String, _ fields: [ManagerEvent.Field], _ offset: Double) {
        events.append(ManagerEvent(name: name, class: .call, fields: fields, timestamp: time + offset))
    }
    let bridge = [ManagerEvent.Field("BridgeUniqueid", "b\(n)")]
    emit("Newchannel", caller.fields(), 0)
    emit("Newexten", caller.fields() + [.init("Extension", "1002"), .init("Application", "Dial"), .init("AppData", "SIP/1002,30")], 0)
    emit("Newchannel", callee.fields(), 0)
    emit("DialBegin", caller.fields() + callee.fields(prefix: "Dest") + [.init("DialString", "1002")], 0)
    callee.state = .up
    emit("Newstate", callee.fields(), 2)
    emit("DialEnd", caller.fields() + callee.fields(prefix: "Dest") + [.init("DialStatus", "ANSWER")], 2)
    caller.state = .up
    emit("Newstate", caller.fields(), 2)
    emit("BridgeEnter", bridge + callee.fields(), 2)
    emit("BridgeEnter", bridge + caller.fields(), 2)
    emit("BridgeLeave", bridge + caller.fields(), 30)
    emit("BridgeLeave", bridge + callee.fields(), 30)
    emit("Hangup", callee.fields() + [.init("Cause", "16")], 30)
    emit("Hangup", caller.fields() + [.init("Cause", "16")], 30)
    return events
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
print("command: \(CommandLine.arguments.joined(separator: " "))")

// 1. The engine alone (no I/O): events in, records out.
do {
    var engine = CDREngine()
    let calls = (0..<options.calls).map { callEvents($0, at: 1_795_300_000 + Double($0)) }
    let start = ContinuousClock.now
    var records = 0
    for events in calls { for event in events { records += engine.handle(event).count } }
    let elapsed = seconds(since: start)
    print(String(format: "engine only: %d records from %d events in %.3f s = %.0f records/s", records, options.calls * 12, elapsed, Double(records) / elapsed))
}

// 2. The whole service: bus → engine → batched SQLite commits (+ CSV, + PostgreSQL spool).
try? FileManager.default.removeItem(atPath: options.directory)
let storage = try Storage(directory: options.directory)
var config = CDRConfig()
if options.csv { config.csv = CDRConfig.CSVOptions() }
if let port = options.pgPort {
    var postgres = CDRConfig.PostgresOptions()
    postgres.hostname = "127.0.0.1"
    postgres.port = port
    postgres.database = "postgres"
    postgres.user = "postgres"
    config.postgres = postgres
}
var logger = Logger(label: "bench.cdr")
logger.logLevel = .warning
let bus = EventBus()
let service = try CDRService(config: config, storage: storage, dataDirectory: options.directory, bus: bus, logger: logger)
let running = Task { await service.run() }
let start = ContinuousClock.now
var published = 0
// Paced like a burst of real calls: never more than 2,000 calls ahead of the writer, so the
// bus's subscriber buffer (100,000 events) is not what is measured.
while published < options.calls {
    let chunk = min(500, options.calls - published)
    for n in published..<(published + chunk) {
        for event in callEvents(n, at: 1_795_300_000 + Double(n)) { bus.publish(event) }
    }
    published += chunk
    while service.recordsWritten < published - 2_000 { try await Task.sleep(for: .milliseconds(1)) }
}
while service.recordsWritten < options.calls { try await Task.sleep(for: .milliseconds(1)) }
let written = seconds(since: start)
print(String(format: "SQLite%@ (WAL, synchronous=FULL): %d rows committed in %.3f s = %.0f rows/s",
             options.csv ? " + Master.csv" : "", options.calls, written, Double(options.calls) / written))
if options.pgPort != nil {
    while try storage.readNow({ db in try PostgresCDRBackend.spool.count(in: db) }) > 0 {
        try await Task.sleep(for: .milliseconds(5))
    }
    let delivered = seconds(since: start)
    print(String(format: "PostgreSQL: all %d rows delivered %.3f s after the first event = %.0f rows/s end to end",
                 options.calls, delivered, Double(options.calls) / delivered))
}
service.shutdown()
await running.value
let rows = try storage.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cdr") ?? 0 }
print("rows in cdr: \(rows)")
try? FileManager.default.removeItem(atPath: options.directory)
