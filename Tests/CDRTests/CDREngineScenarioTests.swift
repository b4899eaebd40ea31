import PBXCore
import Testing

@Suite("CDR engine scenarios")
struct CDREngineScenarioTests {
    let alice = CallScript.Leg(name: "SIP/1001-00000001", uniqueID: "100.1", linkedID: "100.1", number: "1001", callerName: "Alice")
    func callee(_ n: Int, _ peer: String) -> CallScript.Leg {
        CallScript.Leg(name: "SIP/\(peer)-0000000\(n)", uniqueID: "100.\(n)", linkedID: "100.1", number: peer, callerName: "", state: .down)
    }

    /// 1001 dials `peers` with ringall; `answering` (index) answers at 3 s, or none; caller hangs up at 10 s.
    func ringall(_ peers: [String], answering: Int?, finalStatus: String = "CANCEL", options: CDREngine.Options = .init()) -> [CallDetailRecord] {
        var script = CallScript()
        var caller = alice
        script.newChannel(caller)
        script.exten(&caller, exten: "700", application: "Dial", data: peers.map { "SIP/\($0)" }.joined(separator: "&") + ",20")
        var legs = peers.enumerated().map { callee($0.offset + 2, $0.element) }
        for leg in legs { script.newChannel(leg) }
        for leg in legs { script.dialBegin(caller, leg, dialString: leg.number) }
        script.at(1)
        for i in legs.indices { script.state(&legs[i], .ringing) }
        script.at(3)
        if let answering {
            script.state(&legs[answering], .up)
            script.dialEnd(caller, legs[answering], status: "ANSWER")
            for i in legs.indices where i != answering {
                script.dialEnd(caller, legs[i], status: "CANCEL")
                script.hangup(legs[i], cause: .normalClearing)
            }
            script.state(&caller, .up)
            script.bridge("BridgeEnter", legs[answering])
            script.bridge("BridgeEnter", caller)
            script.at(10)
            script.bridge("BridgeLeave", caller)
            script.hangup(caller, cause: .normalClearing)
            script.bridge("BridgeLeave", legs[answering])
            script.hangup(legs[answering], cause: .normalClearing)
        } else {
            script.at(8)
            for leg in legs {
                script.dialEnd(caller, leg, status: finalStatus)
                script.hangup(leg, cause: finalStatus == "BUSY" ? .userBusy : .normalClearing)
            }
            script.hangup(caller, cause: finalStatus == "BUSY" ? .userBusy : .normalClearing)
        }
        var engine = CDREngine(options: options)
        let records = script.events.flatMap { engine.handle($0) }
        #expect(engine.trackedChannelCount == 0)
        return records
    }

    @Test("Dial to two phones, the second answers: one ANSWERED row and one NO ANSWER row, in sequence order")
    func ringallAnswered() {
        let records = ringall(["1002", "1003"], answering: 1)
        #expect(records.count == 2)
        #expect(records.map(\.destinationChannel) == ["SIP/1002-00000002", "SIP/1003-00000003"])
        #expect(records.map(\.disposition) == [.noAnswer, .answered])
        #expect(records[0].billableSeconds == 0 && records[0].answer == nil)
        #expect(records[1].duration == 10 && records[1].billableSeconds == 7)
        #expect(records[0].sequence < records[1].sequence)
        #expect(Set(records.map(\.linkedID)) == ["100.1"])
        #expect(records.allSatisfy { $0.source == "1001" && $0.destination == "700" && $0.lastApplication == "Dial" })
        #expect(records[1].callerID == "\"Alice\" <1001>")
    }

    @Test("busy callee: BUSY; ring timeout: NO ANSWER; caller cancels: NO ANSWER; unreachable: FAILED")
    func unansweredDispositions() {
        #expect(ringall(["1002"], answering: nil, finalStatus: "BUSY").map(\.disposition) == [.busy])
        #expect(ringall(["1002"], answering: nil, finalStatus: "NOANSWER").map(\.disposition) == [.noAnswer])
        #expect(ringall(["1002"], answering: nil, finalStatus: "CANCEL").map(\.disposition) == [.noAnswer])
        #expect(ringall(["1002"], answering: nil, finalStatus: "CHANUNAVAIL").map(\.disposition) == [.failed])
        #expect(ringall(["1002"], answering: nil, finalStatus: "CONGESTION").map(\.disposition) == [.failed])
        #expect(ringall(["1002"], answering: nil, finalStatus: "CONGESTION", options: .init(reportCongestion: true)).map(\.disposition) == [.congestion])
        let busy = ringall(["1002"], answering: nil, finalStatus: "BUSY")[0]
        #expect(busy.duration == 8 && busy.billableSeconds == 0 && busy.destinationChannel == "SIP/1002-00000002")
    }

    @Test("an unanswered call that rang nobody is dropped unless cdr.conf unanswered = yes")
    func unansweredWithoutPartyB() {
        func run(_ options: CDREngine.Options) -> [CallDetailRecord] {
            var script = CallScript()
            var caller = alice
            script.newChannel(caller)
            script.exten(&caller, exten: "999", application: "Congestion", data: "")
            script.at(2)
            script.hangup(caller, cause: .normalCircuitCongestion)
            var engine = CDREngine(options: options)
            return script.events.flatMap { engine.handle($0) }
        }
        #expect(run(.init()).isEmpty)
        let kept = run(.init(logUnanswered: true))
        #expect(kept.map(\.disposition) == [.failed])
        #expect(kept.first?.lastApplication == "Congestion")
    }

    @Test("CDR variables set for either party reach the record; userfields of A and B are joined with ;")
    func variables() {
        var script = CallScript()
        var caller = alice
        var bob = callee(2, "1002")
        script.newChannel(caller)
        script.exten(&caller, exten: "1002", application: "Dial", data: "SIP/1002")
        script.newChannel(bob)
        script.dialBegin(caller, bob, dialString: "1002")
        script.at(2)
        script.state(&bob, .up)
        script.dialEnd(caller, bob, status: "ANSWER")
        script.state(&caller, .up)
        script.bridge("BridgeEnter", bob)
        script.bridge("BridgeEnter", caller)
        script.at(5)
        script.bridge("BridgeLeave", bob)
        script.hangup(bob, cause: .normalClearing)
        script.bridge("BridgeLeave", caller)
        script.hangup(caller, cause: .normalClearing)

        let store = CDRVariableStore()
        var engine = CDREngine(variables: store)
        var records: [CallDetailRecord] = []
        for (index, event) in script.events.enumerated() {
            if index == 2 {
                store.set("userfield", "vip", channel: caller.uniqueID)
                store.set("accountcode", "sales", channel: caller.uniqueID)
                store.set("recordingfile", "out-1002-1001.wav", channel: caller.uniqueID)
                store.set("userfield", "agent-note", channel: bob.uniqueID)
                store.set("accountcode", "support", channel: bob.uniqueID)
            }
            records += engine.handle(event)
        }
        #expect(records.count == 1)
        let record = records[0]
        #expect(record.userField == "vip;agent-note")
        #expect(record.accountCode == "sales" && record.peerAccount == "support")
        #expect(record.recordingFile == "out-1002-1001.wav")
        #expect(record.variables == ["recordingfile": "out-1002-1001.wav"])
        #expect(record.billableSeconds == 3 && record.duration == 5)
        // Entries are gone with the channels, and late writes don't come back.
        #expect(store.count == 0)
        store.set("userfield", "late", channel: caller.uniqueID)
        #expect(store.count == 0)
    }

    @Test("after a failed Dial, a new application on the answered caller starts a new record")
    func newRecordAfterFailedDial() {
        var script = CallScript()
        var caller = alice
        let bob = callee(2, "1002")
        script.newChannel(caller)
        script.state(&caller, .up)
        script.exten(&caller, exten: "1002", application: "Dial", data: "SIP/1002")
        script.newChannel(bob)
        script.dialBegin(caller, bob, dialString: "1002")
        script.at(2)
        script.dialEnd(caller, bob, status: "BUSY")
        script.hangup(bob, cause: .userBusy)
        script.at(3)
        script.exten(&caller, exten: "1002", application: "Playback", data: "vm-nobodyavail")
        script.at(6)
        script.hangup(caller, cause: .normalClearing)
        var engine = CDREngine()
        let records = script.events.flatMap { engine.handle($0) }
        #expect(records.map(\.lastApplication) == ["Dial", "Playback"])
        #expect(records.map(\.disposition) == [.busy, .answered])
        #expect(records[1].start == 1_795_306_003 && records[1].duration == 3)
    }
}
