import Foundation
import PBXCore
import Testing
@testable import ACD

/// queuerules.conf: a caller's reachable member penalties widen as it waits.
@Suite struct PenaltyRuleTests {
    static let queues = """
        [600]
        strategy = linear
        defaultrule = escalate
        member => SIP/811,0
        member => SIP/812,1
        member => SIP/813,5
        """
    static let rules = """
        [escalate]
        penaltychange => 30,+1
        penaltychange => 60,5,2
        """

    static func fixture() throws -> EngineFixture {
        var config = try QueuesConfig(ConfigFile.parse(queues, fileName: "queues.conf"))
        try config.attach(PenaltyRules(ConfigFile.parse(rules, fileName: "queuerules.conf")))
        return try EngineFixture(config: config)
    }

    @Test func rulesParseAbsoluteAndRelativeSteps() throws {
        let parsed = try PenaltyRules(ConfigFile.parse(Self.rules, fileName: "queuerules.conf"))
        #expect(parsed.rules["escalate"] == [
            PenaltyChange(after: 30, max: .relative(1)),
            PenaltyChange(after: 60, max: .absolute(5), min: .absolute(2)),
        ])
        #expect(throws: ConfigError.self) { try PenaltyRules(ConfigFile.parse("[r]\npenaltychange => soon,+1\n", fileName: "queuerules.conf")) }
    }

    @Test func defaultruleNamingNoRuleStopsStartUpWithItsLine() throws {
        var config = try QueuesConfig(ConfigFile.parse("[600]\ndefaultrule = nope\n", fileName: "queues.conf"))
        #expect {
            try config.attach(PenaltyRules())
        } throws: { error in
            "\(error)".contains("queues.conf:2") && "\(error)".contains("nope")
        }
    }

    @Test func maxPenaltyZeroThenOneAfterThirtySecondsThenOnlyTwoToFive() async throws {
        let f = try Self.fixture()
        // 811 (penalty 0) is busy with another caller first.
        guard case .joined(_, let first)? = await f.engine.join(queue: "600", caller: EngineFixture.caller(1), priority: 0) else {
            throw FixtureError("caller 1 not admitted")
        }
        var c1 = first.makeAsyncIterator()
        #expect(await c1.ring() == "SIP/811")
        let rule = try #require(await f.engine.penaltyRule(named: "escalate"))
        guard case .joined(_, let second)? = await f.engine.join(
            queue: "600", caller: EngineFixture.caller(2), priority: 0, penalties: CallerPenalties(max: 0, rule: rule))
        else { throw FixtureError("caller 2 not admitted") }
        var c2 = second.makeAsyncIterator()
        // Within penalty 0 only 811 would do, and it is ringing for caller 1: nobody rings.
        #expect(await f.ringing() == ["SIP/811"])
        f.clock.advance(30)
        await f.engine.refresh()
        #expect(await c2.ring() == "SIP/812")  // max is now 1
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(2), interface: "SIP/812", agent: nil, ringTime: .seconds(15))
        f.clock.advance(30)
        await f.engine.refresh()
        // After 60 s: penalties 2…5, so 813 (5) and never 811/812 again.
        #expect(await c2.ring() == "SIP/813")
    }
}
