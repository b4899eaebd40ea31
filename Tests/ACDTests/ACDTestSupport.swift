import Foundation
import PBXCore
@testable import ACD

/// A clock tests move by hand.
///
/// `@unchecked Sendable`: `now` is only read and written under `lock`.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_795_306_651)

    var read: @Sendable () -> Date { { self.lock.withLock { self.now } } }

    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}

/// queue_log lines written, in order.
///
/// `@unchecked Sendable`: `entries` is only touched under `lock`.
final class CapturedQueueLog: QueueLogSink, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [QueueLogEntry] = []

    func write(_ entry: QueueLogEntry) { lock.withLock { entries.append(entry) } }

    var lines: [String] { lock.withLock { entries.map(\.line) } }
    var events: [String] { lock.withLock { entries.map(\.event) } }
}

/// An engine over `text` (queues.conf) with a fixed clock, captured queue_log and events.
struct EngineFixture {
    let engine: QueueEngine
    let clock = TestClock()
    let log = CapturedQueueLog()
    let bus = EventBus()
    let subscription: EventSubscription

    /// `queueLog` gets the engine's entries too, after `log`.
    init(_ text: String, store: QueueStateStore? = nil, queueLog: (any QueueLogSink)? = nil,
         random: @escaping @Sendable (Int) -> Int = { _ in 0 }) throws {
        self.init(config: try QueuesConfig(ConfigFile.parse(text, fileName: "queues.conf")), store: store, queueLog: queueLog, random: random)
    }

    init(config: QueuesConfig, store: QueueStateStore? = nil, queueLog: (any QueueLogSink)? = nil,
         random: @escaping @Sendable (Int) -> Int = { _ in 0 }) {
        subscription = bus.subscribe(label: "test")
        engine = QueueEngine(config: config, bus: bus, queueLog: QueueLogSinks([log] + (queueLog.map { [$0] } ?? [])), store: store,
                             clock: clock.read, random: random)
    }

    /// Events published so far (ends the subscription).
    func events() async -> [ManagerEvent] {
        subscription.cancel()
        var all: [ManagerEvent] = []
        for await event in subscription.events { all.append(event) }
        return all
    }

    static func caller(_ n: Int, number: String? = nil) -> ChannelSnapshot {
        ChannelSnapshot(name: "SIP/1001-0000000\(n)", state: .up, callerIDNumber: number ?? "555010\(n)",
                        context: "queues", exten: "600", priority: 2, uniqueID: "1795306679.\(n)", linkedID: "1795306679.\(n)")
    }

    static func agentLeg(_ interface: String, _ n: Int) -> ChannelSnapshot {
        ChannelSnapshot(name: "\(interface)-0000010\(n)", state: .up, uniqueID: "1795306680.\(n)", linkedID: "1795306679.\(n)")
    }

    /// Joins and returns the instruction stream's iterator.
    func join(_ n: Int, queue: String = "600", priority: Int = 0) async throws -> AsyncStream<QueueInstruction>.Iterator {
        guard case .joined(_, let stream)? = await engine.join(queue: queue, caller: Self.caller(n), priority: priority) else {
            throw FixtureError("caller \(n) was not admitted")
        }
        return stream.makeAsyncIterator()
    }

    /// Answers, connects and completes a call for caller `n` with `interface`.
    func serve(_ n: Int, by interface: String, talk seconds: TimeInterval = 30, reason: CompletionReason = .caller) async {
        _ = await engine.answered(queue: "600", caller: Self.caller(n).uniqueID, interface: interface)
        await engine.connected(queue: "600", caller: Self.caller(n), interface: interface, agent: Self.agentLeg(interface, n), ringTime: .seconds(2))
        clock.advance(seconds)
        await engine.completed(caller: Self.caller(n), agent: Self.agentLeg(interface, n), by: reason)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension AsyncStream<QueueInstruction>.Iterator {
    /// The interface of the next ring instruction (call only when one is due: the engine
    /// yields before its method returns, so it is already buffered).
    mutating func ring() async -> String? {
        guard case .ring(let assignment)? = await next() else { return nil }
        return assignment.interface
    }
}

extension EngineFixture {
    /// Members ringing now, in config order.
    func ringing(_ queue: String = "600") async -> [String] {
        await engine.reports(queue: queue).first?.members.filter {
            if case .ringing = $0.member.state { return true }
            return false
        }.map(\.member.interface) ?? []
    }

    func state(of interface: String, in queue: String = "600") async -> AgentState? {
        await engine.reports(queue: queue).first?.members.first { $0.member.interface == interface }?.member.state
    }
}

extension Result where Failure == MemberChangeError {
    /// The refusal, or nil when the change was made.
    var error: MemberChangeError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
