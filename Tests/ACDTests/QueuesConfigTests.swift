import PBXCore
import Testing
@testable import ACD

@Suite struct QueuesConfigTests {
    static let sample = """
        [general]
        persistentmembers = yes

        [600]
        strategy = leastrecent
        timeout = 20
        retry = 3
        wrapuptime = 10
        maxlen = 5
        weight = 2
        servicelevel = 60
        joinempty = no
        leavewhenempty = strict
        ringinuse = no
        autopause = yes
        musicclass = jazz
        announce = queue-sales
        reportholdtime = yes
        timeoutrestart = yes
        announce-frequency = 30
        min-announce-frequency = 20
        announce-position = limit
        announce-position-limit = 3
        announce-holdtime = once
        periodic-announce = queue-periodic-announce,queue-thankyou
        periodic-announce-frequency = 45
        context = queue-exit
        announce-agent-id = yes
        agent-id-prompt = agent-id
        member => SIP/811,0,Agent 811
        member => SIP/812,2,,SIP/812b

        [agents]
        agent => 701,1234,Alice,600
        """

    @Test func readsEveryOption() throws {
        let config = try QueuesConfig(ConfigFile.parse(Self.sample, fileName: "queues.conf"))
        #expect(config.warnings.isEmpty)
        let q = try #require(config.queues.first)
        #expect(q.name == "600" && q.strategy == .leastrecent && q.memberTimeout == 20 && q.retry == 3)
        #expect(q.wrapupTime == 10 && q.maxLength == 5 && q.weight == 2 && q.serviceLevel == 60)
        #expect(q.joinEmpty == .plainNo && q.leaveWhenEmpty == .strict)
        #expect(!q.ringInUse && q.autoPause && q.musicClass == "jazz" && q.announce == "queue-sales")
        #expect(q.reportHoldTime && q.timeoutRestart && q.announceFrequency == 30 && q.minAnnounceFrequency == 20)
        #expect(q.announcePosition == .limit && q.announcePositionLimit == 3 && q.announceHoldTime == .once)
        #expect(q.periodicAnnounce == ["queue-periodic-announce", "queue-thankyou"] && q.periodicAnnounceFrequency == 45)
        #expect(q.context == "queue-exit" && q.announceAgentID && q.agentIDPrompt == "agent-id")
        #expect(q.members == [
            MemberDefinition(interface: "SIP/811", penalty: 0, name: "Agent 811"),
            MemberDefinition(interface: "SIP/812", penalty: 2, stateInterface: "SIP/812b"),
        ])
        #expect(config.agents == [AgentDefinition(number: "701", pin: "1234", name: "Alice", queues: ["600"])])
    }

    @Test(arguments: [
        ("strategy = roundrobin", "queues.conf:2: strategy: expected one of"),
        ("timeout = soon", "queues.conf:2: timeout: expected a whole number"),
        ("member => 811", "queues.conf:2: member: expected an interface such as SIP/811"),
        ("member => SIP/811,-1", "queues.conf:2: member: penalty must be a whole number"),
        ("member => SIP/811,0,,,sometimes", "queues.conf:2: member: ringinuse (fifth field) must be yes or no"),
        ("joinempty = sometimes", "queues.conf:2: joinempty: unknown condition 'sometimes'"),
        ("announce-holdtime = maybe", "queues.conf:2: announce-holdtime: expected yes, no or once"),
    ])
    func invalidValuesFailWithTheirLine(line: String, message: String) {
        #expect {
            _ = try QueuesConfig(ConfigFile.parse("[600]\n\(line)\n", fileName: "queues.conf"))
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func unknownKeysWarnWithTheirLine() throws {
        let config = try QueuesConfig(ConfigFile.parse("[600]\nstrategy = linear\ncolour = blue\n", fileName: "queues.conf"))
        #expect(config.warnings.map(\.description) == ["queues.conf:3: unknown option 'colour' in queue '600'; ignored"])
    }

    @Test func agentsMustNameKnownQueues() {
        #expect(throws: ConfigError.self) {
            _ = try QueuesConfig(ConfigFile.parse("[600]\n[agents]\nagent => 701,1234,Alice,999\n", fileName: "queues.conf"))
        }
        #expect(throws: ConfigError.self) {
            _ = try QueuesConfig(ConfigFile.parse("[600]\n[agents]\nagent => 701,pin,Alice,600\n", fileName: "queues.conf"))
        }
    }
}
