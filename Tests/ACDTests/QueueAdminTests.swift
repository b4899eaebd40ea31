import Dialplan
import Foundation
import PBXCore
import Testing
@testable import ACD

/// QueueReset, QueueReload, QueueMemberRingInUse and their console commands.
@Suite struct QueueAdminTests {
    static func config(_ text: String) throws(ConfigError) -> QueuesConfig {
        try QueuesConfig(ConfigFile.parse(text, fileName: "queues.conf"))
    }

    struct Surfaces {
        let actions = ManagerActionRegistry()
        let commands = CLICommandRegistry()

        init(_ engine: QueueEngine, reload: (@Sendable () throws(ConfigError) -> QueuesConfig)? = nil) {
            var applications = ApplicationRegistry()
            var functions = FunctionRegistry()
            ACD.register(engine: engine, musicOnHold: MusicOnHoldConfig(), queueLog: nil, applications: &applications, functions: &functions,
                         managerActions: actions, commands: commands, reloadConfig: reload)
        }

        /// `Success: <message>` or `Error: <message>`.
        func run(_ headers: [(String, String)]) async throws -> String {
            let request = ManagerRequest(headers: headers.map { ManagerEvent.Field($0.0, $0.1) })
            switch await try #require(actions.action(named: request.action)).handler(request) {
            case .success(let message, _): return "Success: \(message ?? "")"
            case .error(let message): return "Error: \(message)"
            default: return "other"
            }
        }
    }

    @Test func queueResetForgetsTheQueuesAndItsMembersFigures() async throws {
        let f = try EngineFixture("[600]\nmember => SIP/811\n\n[601]\nmember => SIP/811\n")
        let surfaces = Surfaces(f.engine)
        var c = try await f.join(1)
        _ = await c.ring()
        await f.serve(1, by: "SIP/811")
        #expect(await f.engine.reports(queue: "600").first?.statistics.completed == 1)
        #expect(try await surfaces.run([("Action", "QueueReset"), ("Queue", "nope")]) == "Error: Error encountered while resetting queue stats: no such queue 'nope'")
        #expect(try await surfaces.run([("Action", "QueueReset"), ("Queue", "600")]) == "Success: Queue stats reset successfully")
        let report = try #require(await f.engine.reports(queue: "600").first)
        #expect(report.statistics == QueueStatistics())
        #expect(report.members[0].member.callsTaken == 0 && report.members[0].member.lastCall == nil)
        #expect(await surfaces.commands.run("queue reset stats").lines == ["Queue stats reset successfully"])
        #expect(await surfaces.commands.run("queue reset stats 999") == .failure("No such queue: '999'"))
    }

    @Test func queueMemberRingInUseLetsAMemberInUseBeRung() async throws {
        let f = try EngineFixture("[600]\nringinuse = no\nmember => SIP/811\n")
        let surfaces = Surfaces(f.engine)
        await f.engine.deviceStateChanged("SIP/811", to: .inUse)
        _ = try await f.join(1)
        #expect(await f.ringing() == [])
        #expect(try await surfaces.run([("Action", "QueueMemberRingInUse"), ("Interface", "SIP/811")]) == "Error: 'Interface' and 'RingInUse' must be provided.")
        #expect(try await surfaces.run([("Action", "QueueMemberRingInUse"), ("Interface", "SIP/811"), ("RingInUse", "maybe")]) == "Error: 'RingInUse' parameter must be a truth value (yes/no, on/off, 0/1, etc)")
        #expect(try await surfaces.run([("Action", "QueueMemberRingInUse"), ("Interface", "SIP/999"), ("RingInUse", "yes")]) == "Error: Invalid interface, queuename, or ringinuse value")
        #expect(try await surfaces.run([("Action", "QueueMemberRingInUse"), ("Interface", "SIP/811"), ("RingInUse", "yes"), ("Queue", "600")])
            == "Success: Interface ringinuse set successfully")
        #expect(await f.ringing() == ["SIP/811"])
        let event = try #require(await f.events().first { $0.name == "QueueMemberRinginuse" })
        #expect(event["Interface"] == "SIP/811" && event["Ringinuse"] == "1" && event["Queue"] == "600")
        #expect(await surfaces.commands.run("queue set ringinuse off on SIP/811 in 600").lines == ["Set ringinuse on interface 'SIP/811' in queue '600'"])
        #expect(await f.engine.member(queue: "600", interface: "SIP/811")?.member.ringInUse == false)
        #expect(await surfaces.commands.run("queue set ringinuse maybe on SIP/811").succeeded == false)
        #expect(await surfaces.commands.run("queue set penalty 3 on SIP/811").lines == ["Set penalty on interface 'SIP/811'"])
        #expect(await f.engine.member(queue: "600", interface: "SIP/811")?.member.penalty == 3)
    }

    @Test func queueReloadAppliesTheChosenParts() async throws {
        let before = "[600]\nstrategy = linear\ntimeout = 15\nmember => SIP/811\nmember => SIP/812\n"
        let after = "[600]\nstrategy = rrmemory\ntimeout = 30\nmember => SIP/811,4\nmember => SIP/813\n\n[601]\nmember => SIP/811\n"
        let f = try EngineFixture(before)
        _ = await f.engine.addMember(queue: "600", interface: "SIP/1002")
        let text = Text(before)
        let surfaces = Surfaces(f.engine, reload: { () throws(ConfigError) in try Self.config(text.value) })
        text.value = after
        // Members only: the timeout stays, members follow the file, the dynamic one stays.
        #expect(try await surfaces.run([("Action", "QueueReload"), ("Members", "yes")]) == "Success: Queue reloaded successfully")
        var report = try #require(await f.engine.reports(queue: "600").first)
        #expect(report.settings.memberTimeout == 15 && report.settings.strategy == .linear)
        #expect(report.members.map(\.member.interface) == ["SIP/811", "SIP/1002", "SIP/813"])
        #expect(report.members[0].member.penalty == 4)
        // New queues come with any reload.
        #expect(await f.engine.names == ["600", "601"])
        #expect(await surfaces.commands.run("queue reload parameters 600").lines == ["Queue parameters reloaded successfully"])
        report = try #require(await f.engine.reports(queue: "600").first)
        #expect(report.settings.memberTimeout == 30 && report.settings.strategy == .rrmemory)
        // A file that no longer parses changes nothing and says why.
        text.value = "[600]\ntimeout = soon\n"
        let why = try await surfaces.run([("Action", "QueueReload")])
        #expect(why.hasPrefix("Error: Error encountered while reloading queue: queues.conf:2: timeout"))
        #expect(await f.engine.settings(of: "600")?.memberTimeout == 30)
        // Without a way to read the file again, it says so.
        let plain = Surfaces(f.engine)
        #expect(try await plain.run([("Action", "QueueReload")]) == "Error: Error encountered while reloading queue: this server cannot read queues.conf again")
    }
}

/// The queues.conf text a test's reload reads.
///
/// `@unchecked Sendable`: `value` is only read and written under `lock`.
final class Text: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String
    init(_ text: String) { self.text = text }
    var value: String {
        get { lock.withLock { text } }
        set { lock.withLock { text = newValue } }
    }
}
