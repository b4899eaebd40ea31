import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// The dialplan's manager events (Newexten, VarSet, global VarSet) and management's hold on a
/// running channel (Getvar/Setvar, Redirect), against a channel that publishes like SIP's.
@Suite struct DialplanEventTests {
    /// The 14 keys of AMI's channel block, in order (ami.md §10.1).
    static let blockKeys = [
        "Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "ConnectedLineNum",
        "ConnectedLineName", "Language", "AccountCode", "Context", "Exten", "Priority", "Uniqueid", "Linkedid",
    ]

    /// A channel running `plan` from `exten@internal` in the background, everything the bus
    /// carries recorded.
    struct RunningCall {
        let bus = EventBus()
        let recorder: EventRecorder
        let channel: EventedChannel
        let executions = ExecutionRegistry()
        let run: Task<Void, Never>

        init(_ plan: String, exten: String, variables: [String: String] = [:]) throws {
            recorder = EventRecorder(bus)
            channel = EventedChannel(bus: bus)
            let executor = DialplanExecutor(dialplan: try loadDialplan(plan), dialer: FakeDialer(), logger: LogCapture().logger,
                                            events: bus, executions: executions)
            let channel = self.channel
            run = Task { await executor.run(channel: channel, context: "internal", exten: exten, variables: variables) }
        }

        /// Waits until the channel runs `application`.
        func reached(_ application: String, times: Int = 1) async -> Bool {
            await recorder.wait { $0.filter { $0["Application"] == application }.count >= times }
        }
    }

    @Test func newextenAndVarSetFollowEachPriorityInAsteriskOrder() async throws {
        let call = try RunningCall("""
            [internal]
            exten => 1002,1,Set(FOO=bar)
             same => n,MSet(A=1,B=${FOO})
             same => n,Set(CALLERID(num)=5551234)
             same => n,Set(GLOBAL(G)=x)
             same => n,Hangup(17)
            """, exten: "1002")
        await call.run.value
        #expect(await call.recorder.wait { $0.last?.name == "Hangup" })
        let events = call.recorder.all
        #expect(events.map(\.name) == [
            "Newexten", "VarSet", "Newexten", "VarSet", "VarSet", "Newexten", "NewCallerid", "Newexten", "VarSet",
            "Newexten", "Hangup",
        ])
        let first = events[0]
        #expect(first.eventClass == .dialplan)
        #expect(first.fields.map(\.key) == Self.blockKeys + ["Extension", "Application", "AppData"])
        #expect(first["Context"] == "internal" && first["Exten"] == "1002" && first["Priority"] == "1")
        #expect(first["Extension"] == "1002" && first["Application"] == "Set" && first["AppData"] == "FOO=bar")
        #expect(events[1].fields.map(\.key) == Self.blockKeys + ["Variable", "Value"])
        #expect(events[1]["Variable"] == "FOO" && events[1]["Value"] == "bar")
        // MSet at priority 2: substituted AppData, one VarSet per pair, each at priority 2.
        #expect(events[2]["Priority"] == "2" && events[2]["AppData"] == "A=1,B=bar")
        #expect(events[4]["Variable"] == "B" && events[4]["Value"] == "bar" && events[4]["Priority"] == "2")
        #expect(events[6]["CallerIDNum"] == "5551234")
        #expect(events[6]["CID-CallingPres"] == "0 (Presentation Allowed, Not Screened)")
        // A global has no channel block.
        #expect(events[8].fields == [.init("Channel", "none"), .init("Uniqueid", "none"), .init("Variable", "G"), .init("Value", "x")])
        let hangup = events[10]
        #expect(hangup.eventClass == .call)
        #expect(hangup.fields.map(\.key) == Self.blockKeys + ["Cause", "Cause-txt"])
        #expect(hangup["Cause"] == "17" && hangup["Cause-txt"] == "User busy")
    }

    @Test func variablesFromTheRunStartAreAnnounced() async throws {
        let call = try RunningCall("[internal]\nexten => 1001,1,Hangup()", exten: "1001", variables: ["CRM_ID": "8812", "FOO": "bar"])
        await call.run.value
        #expect(await call.recorder.wait { $0.last?.name == "Hangup" })
        #expect(call.recorder.names == ["VarSet", "VarSet", "Newexten", "Hangup"])
        #expect(call.recorder.all.prefix(2).map { $0["Variable"] } == ["CRM_ID", "FOO"])
    }

    @Test func hangupExtensionRunsBeforeTheHangupEvent() async throws {
        let call = try RunningCall("""
            [internal]
            exten => 100,1,Wait(30)
            exten => h,1,Set(DONE=1)
            """, exten: "100")
        #expect(await call.reached("Wait"))
        await call.channel.remoteHangup()
        await call.run.value
        #expect(await call.recorder.wait { $0.last?.name == "Hangup" })
        #expect(call.recorder.names == ["Newexten", "HangupRequest", "Newexten", "VarSet", "Hangup"])
        #expect(call.recorder.all.last?["Exten"] == "h")
    }

    @Test func managementReadsAndSetsVariablesAndFunctionsOfARunningChannel() async throws {
        let call = try RunningCall("""
            [internal]
            exten => 100,1,Set(CRMID=start)
             same => n,Wait(30)
            """, exten: "100")
        let (channel, executions, recorder) = (call.channel, call.executions, call.recorder)
        #expect(await call.reached("Wait"))

        #expect(try await executions.value(of: "CRMID", channel: channel.name) == "start")
        #expect(try await executions.value(of: "CRMID", channel: channel.name.lowercased()) == "start")
        #expect(try await executions.value(of: "CALLERID(num)", channel: channel.uniqueID) == "1001")
        #expect(try await executions.value(of: "EXTEN", channel: channel.name) == "100")
        #expect(try await executions.value(of: "UNSETVAR", channel: channel.name) == nil)

        try await executions.assign("CRMID", value: "42 x", channel: channel.name)
        #expect(try await executions.value(of: "CRMID", channel: channel.name) == "42 x")
        try await executions.assign("CALLERID(name)", value: "Bob", channel: channel.name)
        #expect(await channel.callerIDName == "Bob")
        await #expect(throws: ManagementError.noDialplan("SIP/9999-00000000")) {
            _ = try await executions.value(of: "X", channel: "SIP/9999-00000000")
        }
        await #expect(throws: ManagementError.self) {
            try await executions.assign("LEN(x)", value: "1", channel: channel.name)
        }

        await channel.remoteHangup()
        await call.run.value
        let setByManagement = recorder.all.filter { $0.name == "VarSet" && $0["Value"] == "42 x" }
        #expect(setByManagement.count == 1)
        #expect(recorder.all.contains { $0.name == "NewCallerid" && $0["CallerIDName"] == "Bob" })
        // The run is over: management no longer finds it; it counts as processed.
        #expect(executions.count == 0 && executions.callsProcessed == 1)
        await #expect(throws: ManagementError.self) { _ = try await executions.value(of: "CRMID", channel: channel.name) }
    }

    @Test func redirectInterruptsTheApplicationAndContinuesAtTheTarget() async throws {
        let call = try RunningCall("""
            [internal]
            exten => 100,1,Wait(30)
             same => n,Set(AFTER_WAIT=1)
            [other]
            exten => 200,1,NoOp()
             same => n(target),Set(REDIRECTED=yes)
             same => n,Wait(30)
            """, exten: "100")
        let (channel, executions, recorder) = (call.channel, call.executions, call.recorder)
        #expect(await call.reached("Wait"))

        await #expect(throws: ManagementError.invalidPriority("nolabel")) {
            try await executions.redirect(channel: channel.name, context: "other", exten: "200", priority: "nolabel")
        }
        await #expect(throws: ManagementError.invalidPriority("0")) {
            try await executions.redirect(channel: channel.name, context: "other", exten: "200", priority: "0")
        }
        let start = ContinuousClock.now
        try await executions.redirect(channel: channel.name, context: "other", exten: "200", priority: "target")
        #expect(await call.reached("Wait", times: 2))
        #expect(ContinuousClock.now - start < .seconds(5))
        let moved = recorder.all.filter { $0.name == "Newexten" }.map { "\($0["Context"]!)/\($0["Exten"]!)/\($0["Priority"]!) \($0["Application"]!)" }
        #expect(moved == ["internal/100/1 Wait", "other/200/2 Set", "other/200/3 Wait"])
        #expect(try await executions.value(of: "REDIRECTED", channel: channel.name) == "yes")
        // The interruption is over: the new Wait waits.
        #expect(!(await channel.isHungUp))

        await channel.remoteHangup()
        await call.run.value
        #expect(!recorder.all.contains { $0["Variable"] == "AFTER_WAIT" })
        await #expect(throws: ManagementError.noDialplan(channel.name)) {
            try await executions.redirect(channel: channel.name, context: "other", exten: "200", priority: "1")
        }
    }
}
