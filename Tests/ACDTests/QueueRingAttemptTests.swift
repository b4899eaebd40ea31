import Foundation
import PBXCore
import Testing
@testable import ACD

/// One ring attempt's timeout across refusals (`timeoutrestart`) and the RINGCANCELED record,
/// on a fixed clock.
@Suite struct QueueRingAttemptTests {
    static func queue(_ strategy: String, restart: Bool) -> String {
        "[600]\nstrategy = \(strategy)\ntimeout = 15\nretry = 5\ntimeoutrestart = \(restart ? "yes" : "no")\nmember => SIP/811\nmember => SIP/812\nmember => SIP/813\n"
    }

    /// The next ring instruction's member and timeout.
    static func nextRing(_ iterator: inout AsyncStream<QueueInstruction>.Iterator) async -> RingAssignment? {
        guard case .ring(let assignment)? = await iterator.next() else { return nil }
        return assignment
    }

    @Test func aBusyMemberLeavesTheNextOnlyWhatIsLeftOfTheTimeout() async throws {
        let f = try EngineFixture(Self.queue("linear", restart: false))
        var c = try await f.join(1)
        #expect(await Self.nextRing(&c)?.timeout == .seconds(15))
        f.clock.advance(4)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil,
                                    ringTime: .seconds(4), cause: .userBusy)
        let second = await Self.nextRing(&c)
        #expect(second?.interface == "SIP/812" && second?.timeout == .seconds(11))
        f.clock.advance(3)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/812", agent: nil,
                                    ringTime: .seconds(3), cause: .normalCircuitCongestion)
        #expect(await Self.nextRing(&c)?.timeout == .seconds(8))
        #expect(f.log.lines.last?.hasSuffix("|1795306679.1|600|SIP/812|RINGNOANSWER|3000") == true)
    }

    @Test func timeoutrestartGivesTheNextMemberTheWholeTimeout() async throws {
        let f = try EngineFixture(Self.queue("linear", restart: true))
        var c = try await f.join(1)
        #expect(await Self.nextRing(&c)?.timeout == .seconds(15))
        f.clock.advance(4)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil,
                                    ringTime: .seconds(4), cause: .userBusy)
        let second = await Self.nextRing(&c)
        #expect(second?.interface == "SIP/812" && second?.timeout == .seconds(15))
    }

    @Test func aRingTimeoutEndsTheAttemptAndTheNextStartsAfresh() async throws {
        let f = try EngineFixture(Self.queue("rrordered", restart: false))
        var c = try await f.join(1)
        _ = await Self.nextRing(&c)
        f.clock.advance(15)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil, ringTime: .seconds(15))
        #expect(await Self.nextRing(&c)?.timeout == .seconds(15))
    }

    @Test func lessThanHalfASecondLeftStartsANewAttempt() async throws {
        let f = try EngineFixture(Self.queue("linear", restart: false))
        var c = try await f.join(1)
        _ = await Self.nextRing(&c)
        f.clock.advance(14.7)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil,
                                    ringTime: .milliseconds(14_700), cause: .userBusy)
        #expect(await Self.nextRing(&c)?.timeout == .seconds(15))
    }

    @Test func ringallKeepsTheWholeTimeoutForEachRound() async throws {
        let f = try EngineFixture(Self.queue("ringall", restart: false))
        var c = try await f.join(1)
        let first = [await Self.nextRing(&c), await Self.nextRing(&c), await Self.nextRing(&c)]
        #expect(first.allSatisfy { $0?.timeout == .seconds(15) })
    }

    @Test func aCallerHangingUpWhileMembersRingLogsRingcanceledForEach() async throws {
        let f = try EngineFixture(Self.queue("ringall", restart: false))
        var c = try await f.join(1)
        for _ in 0..<3 { _ = await Self.nextRing(&c) }
        f.clock.advance(2.5)
        await f.engine.leave(queue: "600", caller: EngineFixture.caller(1).uniqueID, because: .abandon)
        let lines = f.log.lines
        #expect(lines.filter { $0.contains("|RINGCANCELED|") }.map { $0.split(separator: "|").dropFirst(3).joined(separator: "|") }.sorted()
                    == ["SIP/811|RINGCANCELED|2500", "SIP/812|RINGCANCELED|2500", "SIP/813|RINGCANCELED|2500"])
        // Logged before ABANDON, as app_queue does from wait_for_answer; no AgentRingNoAnswer.
        #expect(f.log.events == ["ENTERQUEUE", "RINGCANCELED", "RINGCANCELED", "RINGCANCELED", "ABANDON"])
        #expect(await !f.events().contains { $0.name == "AgentRingNoAnswer" })
        #expect(await f.ringing() == [])
    }

    @Test func queueTimeoutWhileAMemberRingsIsARingNoAnswerNotRingcanceled() async throws {
        let f = try EngineFixture(Self.queue("linear", restart: false))
        var c = try await f.join(1)
        _ = await Self.nextRing(&c)
        f.clock.advance(1.5)
        await f.engine.leave(queue: "600", caller: EngineFixture.caller(1).uniqueID, because: .timeout)
        #expect(f.log.events == ["ENTERQUEUE", "RINGNOANSWER", "EXITWITHTIMEOUT"])
        #expect(f.log.lines.contains { $0.hasSuffix("|SIP/811|RINGNOANSWER|1500") })
        #expect(await f.events().contains { $0.name == "AgentRingNoAnswer" && $0["RingTime"] == "1500" })
        #expect(await f.ringing() == [])
    }
}
