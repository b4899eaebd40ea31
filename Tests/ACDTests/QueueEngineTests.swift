import Foundation
import PBXCore
import Testing
@testable import ACD

@Suite struct QueueEngineTests {
    static func queue(_ strategy: String, extra: String = "", members: [String] = ["811", "812", "813"]) -> String {
        "[600]\nstrategy = \(strategy)\nretry = 5\n\(extra)\n" + members.map { "member => SIP/\($0)\n" }.joined()
    }

    @Test func leastrecentRingsTheMemberIdleLongest() async throws {
        let f = try EngineFixture(Self.queue("leastrecent"))
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/811")
        await f.serve(1, by: "SIP/811")
        var c2 = try await f.join(2)
        #expect(await c2.ring() == "SIP/812")
        await f.serve(2, by: "SIP/812")
        var c3 = try await f.join(3)
        #expect(await c3.ring() == "SIP/813")
        await f.serve(3, by: "SIP/813")
        // Everyone has taken a call now: 811's ended longest ago.
        var c4 = try await f.join(4)
        #expect(await c4.ring() == "SIP/811")
    }

    @Test func rrmemoryGoesRoundFromWhereItStopped() async throws {
        let f = try EngineFixture(Self.queue("rrmemory"))
        var picks: [String?] = []
        for n in 1...4 {
            var c = try await f.join(n)
            picks.append(await c.ring())
            await f.serve(n, by: picks.last!!, talk: 1)
        }
        #expect(picks == ["SIP/811", "SIP/812", "SIP/813", "SIP/811"])
    }

    @Test func fewestcallsAndLinear() async throws {
        let fewest = try EngineFixture(Self.queue("fewestcalls"))
        var a = try await fewest.join(1)
        #expect(await a.ring() == "SIP/811")
        await fewest.serve(1, by: "SIP/811")
        var b = try await fewest.join(2)
        #expect(await b.ring() == "SIP/812")

        let linear = try EngineFixture(Self.queue("linear"))
        var c = try await linear.join(1)
        #expect(await c.ring() == "SIP/811")
        await linear.serve(1, by: "SIP/811")
        var d = try await linear.join(2)
        #expect(await d.ring() == "SIP/811")
    }

    @Test func randomUsesTheInjectedDraw() async throws {
        let f = try EngineFixture(Self.queue("random"), random: { $0 - 1 })
        var c = try await f.join(1)
        #expect(await c.ring() == "SIP/813")
    }

    @Test func ringallRingsEveryFreeMemberAndStopsTheOthersOnlyAtTheBridge() async throws {
        let f = try EngineFixture(Self.queue("ringall"))
        var c = try await f.join(1)
        let rung = [await c.ring(), await c.ring(), await c.ring()]
        #expect(Set(rung.compactMap { $0 }) == ["SIP/811", "SIP/812", "SIP/813"])
        #expect(await f.engine.answered(queue: "600", caller: EngineFixture.caller(1).uniqueID, interface: "SIP/812"))
        #expect(await !f.engine.answered(queue: "600", caller: EngineFixture.caller(1).uniqueID, interface: "SIP/811"))
        // Answered but not bridged: everybody is still ringing for the caller.
        #expect(await f.ringing() == ["SIP/811", "SIP/812", "SIP/813"])
        // The answering agent drops before the bridge: the others keep ringing.
        await f.engine.agentDumped(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/812", agent: nil)
        #expect(await f.ringing() == ["SIP/811", "SIP/813"])
        #expect(await f.engine.answered(queue: "600", caller: EngineFixture.caller(1).uniqueID, interface: "SIP/813"))
        await f.engine.connected(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/813",
                                 agent: EngineFixture.agentLeg("SIP/813", 1), ringTime: .seconds(3))
        #expect(await c.next() == .cancelRing(interface: "SIP/811"))
        #expect(await f.ringing() == [])
        // The member still ringing when the other is bridged: RINGCANCELED, before CONNECT.
        #expect(f.log.events == ["ENTERQUEUE", "AGENTDUMP", "RINGCANCELED", "CONNECT"])
        #expect(f.log.lines.contains { $0.contains("|SIP/811|RINGCANCELED|") })
    }

    @Test func lowerPenaltyFirstHigherOnlyWhenTheyAreBusy() async throws {
        let f = try EngineFixture("[600]\nstrategy = linear\nmember => SIP/811,2\nmember => SIP/812,0\n")
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/812")
        var c2 = try await f.join(2)
        #expect(await c2.ring() == "SIP/811")
    }

    @Test func callersAreServedInArrivalOrderAndPriorityGoesFirst() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/811")
        var c2 = try await f.join(2)
        var c3 = try await f.join(3, priority: 5)
        // Ahead even of caller 1, whose member is still ringing (it leaves the line when connected).
        #expect(await f.engine.position(queue: "600", caller: EngineFixture.caller(3).uniqueID)?.position == 1)
        await f.serve(1, by: "SIP/811")
        #expect(await c3.ring() == "SIP/811")
        await f.serve(3, by: "SIP/811")
        #expect(await c2.ring() == "SIP/811")
    }

    @Test func pausedMemberNeverRings() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811", "812"]))
        _ = await f.engine.setPaused(true, interface: "SIP/811", queue: "600", reason: "Lunch")
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/812")
        _ = try await f.join(2)
        #expect(await f.ringing() == ["SIP/812"])
        #expect(await f.state(of: "SIP/811") == .paused(reason: "Lunch"))
        _ = await f.engine.setPaused(false, interface: "SIP/811", queue: "600")
        #expect(await f.ringing() == ["SIP/811", "SIP/812"])
        #expect(f.log.lines.contains("1795306651|NONE|600|SIP/811|PAUSE|Lunch"))
        #expect(f.log.lines.contains("1795306651|NONE|600|SIP/811|UNPAUSE|"))
    }

    @Test func wrapUpIsRespectedAndCanEndEarly() async throws {
        let f = try EngineFixture(Self.queue("linear", extra: "wrapuptime = 10", members: ["811"]))
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/811")
        await f.serve(1, by: "SIP/811")
        var c2 = try await f.join(2)
        f.clock.advance(9)
        await f.engine.refresh()
        #expect(await f.ringing() == [])
        guard case .wrapUp? = await f.state(of: "SIP/811") else { Issue.record("811 is not in wrap-up"); return }
        f.clock.advance(1)
        await f.engine.refresh()
        #expect(await c2.ring() == "SIP/811")
        await f.serve(2, by: "SIP/811")
        var c3 = try await f.join(3)
        #expect(await f.engine.endWrapUp(interface: "SIP/811"))
        #expect(await c3.ring() == "SIP/811")
    }

    @Test func unansweredMemberTimesOutAndTheNextRings() async throws {
        let f = try EngineFixture(Self.queue("linear", extra: "autopause = yes", members: ["811", "812"]))
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/811")
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil, ringTime: .milliseconds(15_000))
        #expect(await c1.ring() == "SIP/812")
        #expect(await f.state(of: "SIP/811") == .paused(reason: "Auto-Pause"))
        #expect(f.log.lines.contains("1795306651|1795306679.1|600|SIP/811|RINGNOANSWER|15000"))
        let events = await f.events().map(\.name)
        #expect(events.contains("AgentRingNoAnswer") && events.contains("QueueMemberPause"))
    }

    @Test func retryAfterAFullRoundWithoutAnswer() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/811")
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil, ringTime: .seconds(15))
        #expect(await f.state(of: "SIP/811") == .ringNoAnswer(until: f.clock.read().addingTimeInterval(5)))
        f.clock.advance(5)
        await f.engine.refresh()
        #expect(await c1.ring() == "SIP/811")
    }

    @Test func joinEmptyFullAndLeaveWhenEmpty() async throws {
        let f = try EngineFixture("[600]\njoinempty = no\nmaxlen = 1\nmember => SIP/811\n[601]\njoinempty = no\n[602]\nleavewhenempty = yes\nringinuse = no\nmember => SIP/813\n")
        _ = await f.engine.setPaused(true, interface: "SIP/811", queue: "600")
        guard case .refused(let paused)? = await f.engine.join(queue: "600", caller: EngineFixture.caller(1), priority: 0) else {
            Issue.record("joined a queue whose only member is paused"); return
        }
        #expect(paused == .joinEmpty)
        guard case .refused(let none)? = await f.engine.join(queue: "601", caller: EngineFixture.caller(2), priority: 0) else {
            Issue.record("joined a queue without members"); return
        }
        #expect(none == .joinEmpty)
        _ = await f.engine.setPaused(false, interface: "SIP/811", queue: "600")
        await f.engine.deviceStateChanged("SIP/811", to: .inUse)
        _ = try await f.join(3)
        guard case .refused(let full)? = await f.engine.join(queue: "600", caller: EngineFixture.caller(4), priority: 0) else {
            Issue.record("maxlen ignored"); return
        }
        #expect(full == .full)

        await f.engine.deviceStateChanged("SIP/813", to: .inUse)
        var c5 = try await f.join(5, queue: "602")
        _ = await f.engine.setPaused(true, interface: "SIP/813", queue: "602")
        #expect(await c5.next() == .leave(.leaveEmpty))
    }

    @Test func unavailableAndInUseMembersAreSkipped() async throws {
        let f = try EngineFixture(Self.queue("linear", extra: "ringinuse = no"))
        await f.engine.deviceStateChanged("SIP/811", to: .unavailable)
        await f.engine.deviceStateChanged("SIP/812", to: .inUse)
        var c1 = try await f.join(1)
        #expect(await c1.ring() == "SIP/813")
        await f.engine.deviceStateChanged("SIP/812", to: .notInUse)
        var c2 = try await f.join(2)
        #expect(await c2.ring() == "SIP/812")

        let inUseAllowed = try EngineFixture(Self.queue("linear", extra: "ringinuse = yes", members: ["811"]))
        await inUseAllowed.engine.deviceStateChanged("SIP/811", to: .inUse)
        var c3 = try await inUseAllowed.join(3)
        #expect(await c3.ring() == "SIP/811")
    }

    @Test func queueLogOfAFullCallAnAbandonAndATimeout() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        _ = await c1.ring()
        f.clock.advance(4)
        await f.engine.ringNoAnswer(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: nil, ringTime: .milliseconds(4000))
        f.clock.advance(6)
        await f.engine.refresh()
        _ = await c1.ring()
        f.clock.advance(4)
        await f.serve(1, by: "SIP/811", talk: 95)
        _ = try await f.join(2)
        f.clock.advance(30)
        await f.engine.leave(queue: "600", caller: EngineFixture.caller(2).uniqueID, because: .abandon)
        _ = try await f.join(3)
        f.clock.advance(120)
        await f.engine.leave(queue: "600", caller: EngineFixture.caller(3).uniqueID, because: .timeout)
        #expect(f.log.lines == [
            "1795306651|1795306679.1|600|NONE|ENTERQUEUE||5550101|1",
            "1795306655|1795306679.1|600|SIP/811|RINGNOANSWER|4000",
            "1795306665|1795306679.1|600|SIP/811|CONNECT|14|1795306680.1|2",
            "1795306760|1795306679.1|600|SIP/811|COMPLETECALLER|14|95|1",
            // 811 is in no wrap-up; caller 2 rings it at once but hangs up while it rings.
            "1795306760|1795306679.2|600|NONE|ENTERQUEUE||5550102|1",
            "1795306790|1795306679.2|600|SIP/811|RINGCANCELED|30000",
            "1795306790|1795306679.2|600|NONE|ABANDON|1|1|30",
            "1795306790|1795306679.3|600|NONE|ENTERQUEUE||5550103|1",
            // Caller 3's Queue() timeout ends 811's ring: a missed ring, as app_queue's rna().
            "1795306910|1795306679.3|600|SIP/811|RINGNOANSWER|120000",
            "1795306910|1795306679.3|600|NONE|EXITWITHTIMEOUT|1|1|120",
        ])
        let stats = try #require(await f.engine.reports(queue: "600").first?.statistics)
        #expect(stats.completed == 1 && stats.abandoned == 1)
    }

    @Test func blindTransferOfTheCallerIsLoggedWithItsTarget() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        _ = await c1.ring()
        f.clock.advance(3)
        await f.serve(1, by: "SIP/811", talk: 40, reason: .transfer(exten: "1002", context: "internal"))
        #expect(f.log.lines.last == "1795306694|1795306679.1|600|SIP/811|BLINDTRANSFER|1002|internal|3|40|1")
        let complete = await f.events().last { $0.name == "AgentComplete" }
        #expect(complete?["Reason"] == "transfer")
    }

    @Test func attendedTransferByTheAgentCompletesTheCallWhenItHappens() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        _ = await c1.ring()
        f.clock.advance(3)
        let caller = EngineFixture.caller(1), agent = EngineFixture.agentLeg("SIP/811", 1)
        _ = await f.engine.answered(queue: "600", caller: caller.uniqueID, interface: "SIP/811")
        await f.engine.connected(queue: "600", caller: caller, interface: "SIP/811", agent: agent, ringTime: .seconds(2))
        f.clock.advance(25)
        let target = ChannelSnapshot(name: "SIP/1002-00000009", state: .up, uniqueID: "1795306690.9", linkedID: "1795306690.9")
        func transfer(by transferer: ChannelSnapshot) throws -> CompletedAttendedTransfer {
            try #require(CompletedAttendedTransfer(.attendedTransfer(
                result: "Success", transferer: transferer, bridge: BridgeSnapshot(uniqueID: "b-1", channelCount: 2),
                secondBridge: nil, transferee: caller, target: target)))
        }
        // Another channel's transfer of the caller is not this call's agent's.
        await f.engine.attendedTransfer(try transfer(by: target))
        #expect(f.log.lines.last?.contains("ATTENDEDTRANSFER") == false)
        await f.engine.attendedTransfer(try transfer(by: agent))
        #expect(f.log.lines.last == "1795306679|1795306679.1|600|SIP/811|ATTENDEDTRANSFER|BRIDGE|b-1|3|25|1")
        #expect(await f.events().last { $0.name == "AgentComplete" }?["Reason"] == "transfer")
        // The transferred call's end (caller and target) logs nothing more.
        let lines = f.log.lines.count
        await f.engine.completed(caller: caller, agent: agent, by: .caller)
        #expect(f.log.lines.count == lines)
    }

    @Test func completedAttendedTransferReadsTheEventBack() {
        let caller = EngineFixture.caller(2, number: "")
        let event = ManagerEvent.attendedTransfer(
            result: "Success", transferer: EngineFixture.agentLeg("SIP/811", 2), bridge: BridgeSnapshot(uniqueID: "b-2"),
            secondBridge: BridgeSnapshot(uniqueID: "b-3"), transferee: caller, target: EngineFixture.agentLeg("SIP/1002", 3))
        let read = CompletedAttendedTransfer(event)
        #expect(read?.transferee == caller && read?.bridgeID == "b-2" && read?.target.name == "SIP/1002-00000103")
        let failed = ManagerEvent.attendedTransfer(
            result: "Fail", transferer: caller, bridge: BridgeSnapshot(), secondBridge: nil, transferee: caller, target: caller)
        #expect(CompletedAttendedTransfer(failed) == nil)
    }

    @Test func connectEventsInAsteriskOrderWithBothChannelBlocks() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        var c1 = try await f.join(1)
        _ = await c1.ring()
        await f.engine.agentCalled(queue: "600", caller: EngineFixture.caller(1), interface: "SIP/811", agent: EngineFixture.agentLeg("SIP/811", 1))
        await f.serve(1, by: "SIP/811", reason: .agent)
        let events = await f.events()
        let names = events.map(\.name).filter { $0 != "QueueMemberStatus" }
        #expect(names == ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect", "AgentComplete"])
        let called = try #require(events.first { $0.name == "AgentCalled" })
        #expect(called.fields.first == ManagerEvent.Field("Channel", "SIP/1001-00000001"))
        #expect(called["CallerIDNum"] == "5550101" && called["DestChannel"] == "SIP/811-00000101")
        #expect(Array(called.fields.suffix(3)) == [.init("Queue", "600"), .init("Interface", "SIP/811"), .init("MemberName", "SIP/811")])
        let complete = try #require(events.first { $0.name == "AgentComplete" })
        #expect(complete["Reason"] == "agent" && complete["TalkTime"] == "30" && complete["HoldTime"] == "0")
        let status = try #require(events.last { $0.name == "QueueMemberStatus" })
        #expect(status.fields.map(\.key) == ["Queue", "MemberName", "Interface", "StateInterface", "Membership", "Penalty", "CallsTaken",
                                            "LastCall", "LastPause", "LoginTime", "InCall", "Status", "Paused", "PausedReason",
                                            "Ringinuse", "Wrapuptime"])
        #expect(status["CallsTaken"] == "1" && status["InCall"] == "0")
    }

    @Test func dynamicMembersPausesAndStatisticsSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = Self.queue("linear", members: ["811"])
        let store = QueueStateStore(directory: directory)
        let first = try EngineFixture(text, store: store)
        #expect(await first.engine.addMember(queue: "600", interface: "SIP/1002", memberName: "Bob").error == nil)
        _ = await first.engine.setPaused(true, interface: "SIP/811", queue: "600", reason: "Break")
        var c1 = try await first.join(1)
        #expect(await c1.ring() == "SIP/1002")
        await first.serve(1, by: "SIP/1002")
        await first.engine.saveNow()
        store.flush()

        let second = try EngineFixture(text, store: QueueStateStore(directory: directory))
        let report = try #require(await second.engine.reports(queue: "600").first)
        #expect(report.members.map(\.member.interface) == ["SIP/811", "SIP/1002"])
        #expect(report.members[0].member.state == .paused(reason: "Break"))
        #expect(report.members[1].member.isDynamic && report.members[1].member.callsTaken == 1)
        #expect(report.statistics.completed == 1)
    }

    @Test func hotDeskingLoginLogoutAndPauseToggle() async throws {
        let f = try EngineFixture("[600]\nstrategy = linear\n[601]\n[agents]\nagent => 701,1234,Alice,600&601\nagent => 7011,99,Carol,600\n")
        #expect(await f.engine.agentLogin(digits: "7019999", interface: "SIP/1001", callID: "1.1") == .failure(.wrongPIN))
        #expect(await f.engine.agentLogin(digits: "8001234", interface: "SIP/1001", callID: "1.1") == .failure(.noSuchAgent))
        guard case .success(let alice) = await f.engine.agentLogin(digits: "7011234", interface: "SIP/1001", callID: "1.1") else {
            Issue.record("login refused"); return
        }
        #expect(alice.name == "Alice")
        guard case .success(let carol) = await f.engine.agentLogin(digits: "701199", interface: "SIP/1002", callID: "1.2") else {
            Issue.record("longer agent number not matched"); return
        }
        #expect(carol.number == "7011")
        let members = await f.engine.reports().map { $0.members.map { "\($0.member.name)@\($0.member.interface)" } }
        #expect(members == [["Alice@SIP/1001", "Carol@SIP/1002"], ["Alice@SIP/1001"]])
        #expect(await f.engine.agentNumber(at: "SIP/1001") == "701")
        #expect(await f.engine.togglePause(interface: "SIP/1001") == true)
        #expect(await f.state(of: "SIP/1001", in: "601") == .paused(reason: ""))
        #expect(await f.engine.togglePause(interface: "SIP/1001") == false)
        #expect(await f.engine.agentLogout(interface: "SIP/1001", callID: "1.3"))
        #expect(await f.engine.reports().map(\.members.count) == [1, 0])
        #expect(f.log.lines.contains("1795306651|1.1|600|Alice|ADDMEMBER|"))
        #expect(f.log.lines.contains("1795306651|1.3|601|Alice|REMOVEMEMBER|"))
    }

    @Test func aSharedMemberGoesToTheHeavierQueueFirst() async throws {
        let f = try EngineFixture("[light]\nweight = 0\nringinuse = no\nmember => SIP/811\n[heavy]\nweight = 5\nringinuse = no\nmember => SIP/811\n")
        await f.engine.deviceStateChanged("SIP/811", to: .inUse)
        _ = try await f.join(1, queue: "light")
        var heavy = try await f.join(2, queue: "heavy")
        await f.engine.deviceStateChanged("SIP/811", to: .notInUse)
        #expect(await heavy.ring() == "SIP/811")
        #expect(await f.ringing("light") == [])
    }

    @Test func staticMembersCannotBeRemoved() async throws {
        let f = try EngineFixture(Self.queue("linear", members: ["811"]))
        #expect(await f.engine.removeMember(queue: "600", interface: "SIP/811").error == .notDynamic)
        #expect(await f.engine.addMember(queue: "600", interface: "SIP/811").error == .alreadyMember)
        #expect(await f.engine.addMember(queue: "999", interface: "SIP/811").error == .noSuchQueue)
    }
}
