import Dialplan
import Foundation
import Logging
import PBXCore
import Testing
@testable import ACD

/// Queue() run by the dialplan executor on fake channels, with a fake dialer.
@Suite struct QueueApplicationTests {
    /// Runs `extensions` from `[queues]` 600 for one caller and returns what happened plus the
    /// queue_log events and the variables the probe saw.
    struct Run {
        var log: [String]
        var queueLog: [String]
        var probes: [String]
    }

    static func run(queues: String, members: [String: MemberBehaviour], dialplan: String = "exten => 600,1,Queue(600,,,,3)\n same => n,ACDProbe(${QUEUESTATUS})\n",
                    agentHangsUp: Bool = false, extra: [Application] = [],
                    caller configure: @escaping @Sendable (FakeQueueChannel) async -> Void = { _ in }) async throws -> Run {
        let config = try QueuesConfig(ConfigFile.parse(queues, fileName: "queues.conf"))
        let queueLog = CapturedQueueLog()
        let engine = QueueEngine(config: config, queueLog: queueLog)
        let log = CallLog()
        var applications = ApplicationRegistry.standard
        var functions = FunctionRegistry.standard
        ACD.register(engine: engine, musicOnHold: MusicOnHoldConfig(classes: ["default": .init(name: "default", directory: "/moh", files: ["/moh/a"], random: false)]),
                     queueLog: queueLog, applications: &applications, functions: &functions, managerActions: nil, commands: nil)
        applications.register(Application(name: "ACDProbe", isInstant: true) { execution, data in
            await log.add("probe \(data)")
            return .proceed
        })
        for application in extra { applications.register(application) }
        let dialer = FakeQueueDialer(log: log, members: members, agentHangsUp: agentHangsUp)
        let executor = DialplanExecutor(dialplan: try Dialplan.parse("[queues]\n" + dialplan).dialplan, dialer: dialer,
                                        applications: applications, functions: functions)
        let caller = FakeQueueChannel(name: "SIP/loadgen-00000002", uniqueID: "1795306679.2", label: "caller", log: log)
        await configure(caller)
        await executor.run(channel: caller, context: "queues", exten: "600")
        let lines = await log.lines
        return Run(log: lines, queueLog: queueLog.events, probes: lines.filter { $0.hasPrefix("probe ") })
    }

    static let announcing = """
        [600]
        strategy = linear
        timeout = 1
        retry = 0
        announce = queue-sales
        reportholdtime = yes
        announce-agent-id = yes
        agent-id-prompt = agent-id
        member => SIP/811
        member => SIP/812
        """

    @Test func theCallerHearsTheAgentsNumberBeforeTheBridge() async throws {
        let run = try await Self.run(queues: Self.announcing, members: ["SIP/811": .answer(after: .milliseconds(50))])
        let toCaller = try #require(run.log.firstIndex(of: "caller: play agent-id digits/8 digits/1 digits/1"))
        // The hold time said to the agent is whole seconds: 0, or 1 on a slow machine.
        let toAgent = try #require(run.log.firstIndex { $0.hasPrefix("SIP/811: play queue-sales queue-reporthold digits/") && $0.hasSuffix(" queue-seconds") })
        let bridge = try #require(run.log.firstIndex(of: "bridge SIP/loadgen-00000002 with SIP/811-00000001"))
        let answered = try #require(run.log.firstIndex(of: "SIP/811: answered"))
        #expect(answered < toCaller && toCaller < bridge && toAgent < bridge)
        // Nothing else reaches the caller between the answer and the bridge (no music over it).
        #expect(run.log[answered..<bridge].filter { $0.hasPrefix("caller:") } == ["caller: play agent-id digits/8 digits/1 digits/1"])
        #expect(run.queueLog == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"])
    }

    @Test func optionsTAndHGiveTheBridgeItsFeatures() async throws {
        let run = try await Self.run(queues: Self.announcing, members: ["SIP/811": .answer(after: .milliseconds(20))],
                                     dialplan: "exten => 600,1,Queue(600,tH,,,3)\n")
        #expect(run.log.contains("features caller [\"disconnect\"] callee [\"atxfer\", \"blindxfer\"]"))
        let plain = try await Self.run(queues: Self.announcing, members: ["SIP/811": .answer(after: .milliseconds(20))])
        #expect(!plain.log.contains { $0.hasPrefix("features ") })
        #expect(plain.log.contains("bridge SIP/loadgen-00000002 with SIP/811-00000001"))
    }

    @Test func anUnansweredMemberTimesOutTheNextRingsThenTheQueueTimesOut() async throws {
        let run = try await Self.run(queues: Self.announcing, members: ["SIP/811": .noAnswer, "SIP/812": .noAnswer],
                                     dialplan: "exten => 600,1,Queue(600,,,,2)\n same => n,ACDProbe(${QUEUESTATUS})\n")
        let rung = run.log.filter { $0.hasSuffix(": ringing") }
        #expect(Array(rung.prefix(2)) == ["SIP/811: ringing", "SIP/812: ringing"])
        #expect(run.probes == ["probe TIMEOUT"])
        #expect(run.queueLog.first == "ENTERQUEUE" && run.queueLog.last == "EXITWITHTIMEOUT")
        #expect(run.queueLog.filter { $0 == "RINGNOANSWER" }.count >= 1)
    }

    @Test func joinEmptySetsQueueStatusAndGoesOn() async throws {
        let run = try await Self.run(queues: "[600]\njoinempty = no\n", members: [:])
        #expect(run.probes == ["probe JOINEMPTY"])
        #expect(run.queueLog.isEmpty)
    }

    @Test func aMemberWhoDropsBeforeTheBridgeDoesNotStopTheOthers() async throws {
        let queues = Self.announcing.replacingOccurrences(of: "strategy = linear", with: "strategy = ringall")
        let run = try await Self.run(queues: queues, members: [
            "SIP/811": .answerThenHangUp(after: .milliseconds(30), hangUp: .milliseconds(10)),
            "SIP/812": .answer(after: .milliseconds(200)),
        ])
        #expect(run.log.contains("bridge SIP/loadgen-00000002 with SIP/812-00000001"))
        #expect(run.queueLog == ["ENTERQUEUE", "AGENTDUMP", "CONNECT", "COMPLETECALLER"])
    }

    @Test func optionCContinuesWhenTheAgentHangsUp() async throws {
        let run = try await Self.run(queues: Self.announcing, members: ["SIP/811": .answer(after: .milliseconds(20))],
                                     dialplan: "exten => 600,1,Queue(600,c,,,5)\n same => n,ACDProbe(${QUEUESTATUS})\n", agentHangsUp: true)
        #expect(run.probes == ["probe CONTINUE"])
        #expect(run.queueLog == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"])
    }

    @Test func aKeyOfTheQueueContextLeavesTheQueue() async throws {
        let queues = "[600]\ncontext = queues\nmember => SIP/811\n"
        let run = try await Self.run(queues: queues, members: ["SIP/811": .noAnswer],
                                     dialplan: "exten => 600,1,Queue(600,,,,5)\nexten => 5,1,ACDProbe(pressed 5)\n",
                                     caller: { await $0.press("5") })
        #expect(run.probes == ["probe pressed 5"])
        #expect(run.queueLog == ["ENTERQUEUE", "EXITWITHKEY"])
    }

    @Test func waitingCallersHearTheirPosition() async throws {
        let queues = "[600]\nannounce-frequency = 30\nmember => SIP/811\n"
        let run = try await Self.run(queues: queues, members: ["SIP/811": .noAnswer],
                                     dialplan: "exten => 600,1,Queue(600,,,,1)\n")
        #expect(run.log.contains("caller: play queue-youarenext queue-thankyou"))
        #expect(run.log.contains("caller: moh"))
    }

    /// Two callers, no member: when the first hangs up, the second moves to 1 and hears it as
    /// soon as min-announce-frequency (1 s) has passed — long before announce-frequency (30 s).
    @Test func aCallerWhoMovesUpHearsItsNewPositionAfterTheMinimumGap() async throws {
        let queues = "[600]\nannounce-frequency = 30\nmin-announce-frequency = 1\n"
        let engine = QueueEngine(config: try QueuesConfig(ConfigFile.parse(queues, fileName: "queues.conf")))
        let log = CallLog()
        var applications = ApplicationRegistry.standard
        var functions = FunctionRegistry.standard
        ACD.register(engine: engine, musicOnHold: MusicOnHoldConfig(classes: ["default": .init(name: "default", directory: "/moh", files: ["/moh/a"], random: false)]),
                     queueLog: nil, applications: &applications, functions: &functions, managerActions: nil, commands: nil)
        let executor = DialplanExecutor(dialplan: try Dialplan.parse("[queues]\nexten => 600,1,Queue(600,,,,3)\n").dialplan,
                                        dialer: FakeQueueDialer(log: log, members: [:]), applications: applications, functions: functions)
        let first = FakeQueueChannel(name: "SIP/1001-00000001", uniqueID: "1795306679.1", label: "first", log: log)
        let second = FakeQueueChannel(name: "SIP/1002-00000002", uniqueID: "1795306679.2", label: "second", log: log)
        async let one: Void = executor.run(channel: first, context: "queues", exten: "600")
        try await Task.sleep(for: .milliseconds(100))
        async let two: Void = executor.run(channel: second, context: "queues", exten: "600")
        try await Task.sleep(for: .milliseconds(200))
        await first.hangup(cause: .normalClearing)
        _ = await (one, two)
        let heard = await log.lines.filter { $0.hasPrefix("second: play") }
        #expect(heard == ["second: play queue-thereare digits/2 queue-callswaiting queue-thankyou", "second: play queue-youarenext queue-thankyou"])
    }
}
