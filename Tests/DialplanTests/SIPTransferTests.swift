import Foundation
import PBXCore
import SIPStack
import Testing
@testable import Dialplan

/// Handing legs over between bridges and dialplan runs, with real SIP on loopback (three
/// scripted phones): who is hung up, who is not, and whom a waiting Dial follows.
@Suite(.serialized) struct SIPTransferTests {
    typealias Switch = SIPCallEventTests.Switch
    static let local = "127.0.0.1"

    /// 1001 → 1002 (Dial) answered; the phones, the switch, the callee's INVITE text and the
    /// two channel names.
    struct AnsweredCall {
        let caller: TestPhone, callee: TestPhone, target: TestPhone
        let pbx: Switch
        let recorder: EventRecorder
        let calleeInvite: String
        let callerName: String, calleeName: String
        let callID: String
        let callerToTag: String

        static func start(dialplan: String, rtpPorts: ClosedRange<Int>, musicOnHold: MusicOnHoldConfig = MusicOnHoldConfig()) async throws -> AnsweredCall {
            let caller = try await TestPhone.bind(), callee = try await TestPhone.bind(), target = try await TestPhone.bind()
            let pbx = try await Switch.start(
                caller: caller, callee: callee, rtpPorts: rtpPorts, dialplan: dialplan, musicOnHold: musicOnHold,
                extraPeers: "[1003]\ntype=friend\nhost=127.0.0.1\nport=\(target.port)\ncontext=internal\ncallerid=\"User 1003\" <1003>")
            let recorder = EventRecorder(pbx.bus)
            let callID = "xfer-\(Int.random(in: 1...1_000_000))@test"
            try await caller.send(SIPText.message("INVITE sip:1002@\(local):\(pbx.port) SIP/2.0", [
                "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-inv1;rport", "Max-Forwards: 70",
                "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>", "Call-ID: \(callID)",
                "CSeq: 1 INVITE", "Contact: <sip:1001@\(local):\(caller.port)>", "Content-Type: application/sdp",
            ], body: SIPText.sdp(rtpPort: 40002)), to: pbx.port)
            let (invite, _) = try await callee.receive { $0.request?.method == .invite }
            try await answer(invite, on: callee, tag: "callee1", pbx: pbx, rtpPort: 40004)
            let ok = try #require(try await caller.receive { $0.response?.statusCode == 200 }.message.response)
            let toTag = try #require(ok.headers.to.tag)
            try await caller.send(SIPText.message("ACK sip:1002@\(local):\(pbx.port) SIP/2.0", [
                "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-ack1;rport", "Max-Forwards: 70",
                "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>;tag=\(toTag)",
                "Call-ID: \(callID)", "CSeq: 1 ACK",
            ]), to: pbx.port)
            #expect(await recorder.wait { $0.filter { $0.name == "BridgeEnter" }.count == 2 })
            let names = recorder.all.filter { $0.name == "BridgeEnter" }.compactMap { $0["Channel"] }
            return AnsweredCall(
                caller: caller, callee: callee, target: target, pbx: pbx, recorder: recorder, calleeInvite: invite,
                callerName: names[1], calleeName: names[0], callID: callID, callerToTag: toTag)
        }

        /// The callee phone hangs up: BYE in the dialog pbxd's INVITE opened.
        func calleeHangsUp() async throws {
            try await callee.send(SIPTransferTests.bye(answering: calleeInvite, tag: "callee1", from: callee, pbx: pbx), to: pbx.port)
            _ = try await callee.receive { $0.response?.headers.cseq.method == .bye }
        }

        /// Every relay session closed: all 50 port pairs of the test's range are free again.
        func allPortsFreed() async -> Bool {
            await recorder.wait { _ in pbx.relay.portPool.available == 50 }
        }

        func stop() async {
            await pbx.stop()
            await caller.close()
            await callee.close()
            await target.close()
        }
    }

    static func answer(_ invite: String, on phone: TestPhone, tag: String, pbx: Switch, rtpPort: Int) async throws {
        try await phone.send(SIPText.response(
            to: invite, "200 OK", toTag: tag,
            headers: ["Contact: <sip:x@\(local):\(phone.port)>", "Content-Type: application/sdp"],
            body: SIPText.sdp(rtpPort: rtpPort)), to: pbx.port)
        _ = try await phone.receive { $0.request?.method == .ack }
    }

    /// A BYE from a phone that answered `invite` (its To-tag `tag`).
    static func bye(answering invite: String, tag: String, from phone: TestPhone, pbx: Switch) -> String {
        func header(_ name: String) -> String {
            invite.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.drop { $0 != ":" }.dropFirst()).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return SIPText.message("BYE sip:pbx@\(local):\(pbx.port) SIP/2.0", [
            "Via: SIP/2.0/UDP \(local):\(phone.port);branch=z9hG4bK-bye\(Int.random(in: 1...1_000_000));rport",
            "Max-Forwards: 70", "From: \(header("To"));tag=\(tag)", "To: \(header("From"))", "Call-ID: \(header("Call-ID"))",
            "CSeq: 1 BYE",
        ])
    }

    /// Answers pbxd's BYE to `phone` (200) and returns it.
    static func takeBye(on phone: TestPhone, tag: String, pbx: Switch) async throws {
        let (text, _) = try await phone.receive { $0.request?.method == .bye }
        try await phone.send(SIPText.response(to: text, "200 OK", toTag: tag), to: pbx.port)
    }

    /// True when `phone` gets a BYE within `window`.
    static func getsBye(_ phone: TestPhone, within window: Duration) async -> Bool {
        (try? await phone.receive(timeout: window) { $0.request?.method == .bye }) != nil
    }

    static func musicClass() throws -> (MusicOnHoldConfig, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-xfer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let song = directory.appendingPathComponent("song").path
        try Data(repeating: 0xFF, count: 8000).write(to: URL(fileURLWithPath: song + ".ulaw"))
        return (MusicOnHoldConfig(classes: ["default": .init(name: "default", directory: directory.path, files: [song], random: false)]), directory)
    }

    /// Redirect of the dialed leg with Dial's `g`: the caller is not hung up and continues at
    /// its next priority; the dialed leg is not hung up either and dials 1003 from its new run.
    @Test func redirectedDialedLegLeavesTheCallerUpAndDialsOut() async throws {
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30,g)
             same => n,Wait(30)
            exten => 1003,1,Dial(SIP/1003,30)
            """, rtpPorts: 31100...31199)
        try await call.pbx.executions.redirect(channel: call.calleeName, context: "internal", exten: "1003", priority: "1")
        let (invite, _) = try await call.target.receive { $0.request?.method == .invite }
        #expect(invite.contains("From: \"User 1002\""))
        try await Self.answer(invite, on: call.target, tag: "target1", pbx: call.pbx, rtpPort: 40006)
        // The caller's Dial returned (g): it runs Wait now, and nobody was hung up.
        #expect(await call.recorder.wait { $0.contains { $0.name == "Newexten" && $0["Channel"] == call.callerName && $0["Application"] == "Wait" } })
        #expect(await call.recorder.wait { $0.contains { $0.name == "BridgeEnter" && $0["Channel"] == call.calleeName && $0["Exten"] == "1003" } })
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(300))))
        #expect(!(await Self.getsBye(call.callee, within: .milliseconds(1))))
        let dialStatus = call.recorder.all.first { $0.name == "VarSet" && $0["Channel"] == call.callerName && $0["Variable"] == "DIALSTATUS" }
        #expect(dialStatus?["Value"] == "ANSWER")
        // The bridge dissolved (both left, as Asterisk's basic bridge) before the leg's new Dial.
        let firstBridge = try #require(call.recorder.all.first { $0.name == "BridgeCreate" }?["BridgeUniqueid"])
        let dissolved = call.recorder.all.filter { $0["BridgeUniqueid"] == firstBridge && ["BridgeLeave", "BridgeDestroy"].contains($0.name) }
        #expect(dissolved.map { "\($0.name) \($0["Channel"] ?? "")" }
                == ["BridgeLeave \(call.calleeName)", "BridgeLeave \(call.callerName)", "BridgeDestroy "])
        let leave = try #require(call.recorder.all.firstIndex { $0.name == "BridgeLeave" && $0["Channel"] == call.calleeName })
        let dial = try #require(call.recorder.all.firstIndex { $0.name == "DialBegin" && $0["Channel"] == call.calleeName })
        #expect(leave < dial)
        #expect(await call.pbx.driver.channels.list().first { $0.snapshot.name == call.callerName }?.bridgeID == "")
        // 1003 hangs up: its caller (the redirected 1002) is hung up by its own Dial.
        try await call.target.send(Self.bye(answering: invite, tag: "target1", from: call.target, pbx: call.pbx), to: call.pbx.port)
        try await Self.takeBye(on: call.callee, tag: "callee1", pbx: call.pbx)
        #expect(await call.recorder.wait { $0.contains { $0.name == "Hangup" && $0["Channel"] == call.calleeName } })
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(200))))
        // The caller's session outlived the caller's own call; it closes with its last leg.
        #expect(call.pbx.relay.portPool.available == 48)
        await call.pbx.driver.channels.hangup(try #require(call.pbx.driver.channels.channel(named: call.callerName)), cause: .normalClearing)
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        #expect(await call.allPortsFreed())
        await call.stop()
    }

    /// Redirect with ExtraChannel of a bridged pair (Dial without `g`): both move and neither
    /// is hung up — the caller's Dial ending does not take it to its hangup.
    @Test func dualRedirectMovesCallerAndDialedLegTogether() async throws {
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30)
            exten => 2000,1,Wait(30)
            exten => 2001,1,Wait(30)
            """, rtpPorts: 31400...31499)
        try await call.pbx.executions.redirect(
            RedirectRequest(channel: call.callerName, context: "internal", exten: "2000", priority: "1"),
            and: RedirectRequest(channel: call.calleeName, context: "internal", exten: "2001", priority: "1"))
        for (name, exten) in [(call.callerName, "2000"), (call.calleeName, "2001")] {
            #expect(await call.recorder.wait { $0.contains { $0.name == "Newexten" && $0["Channel"] == name && $0["Exten"] == exten } })
        }
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(300))))
        #expect(!(await Self.getsBye(call.callee, within: .milliseconds(1))))
        #expect(!call.recorder.all.contains { $0.name == "Hangup" })
        // The second can't move (no such label): the first still does.
        await #expect(throws: DualRedirectFailure.self) {
            try await call.pbx.executions.redirect(
                RedirectRequest(channel: call.callerName, context: "internal", exten: "2001", priority: "1"),
                and: RedirectRequest(channel: call.calleeName, context: "internal", exten: "2001", priority: "nolabel"))
        }
        #expect(await call.recorder.wait { $0.contains { $0.name == "Newexten" && $0["Channel"] == call.callerName && $0["Exten"] == "2001" } })
        await call.pbx.driver.channels.hangup(try #require(call.pbx.driver.channels.channel(named: call.callerName)), cause: .normalClearing)
        await call.pbx.driver.channels.hangup(try #require(call.pbx.driver.channels.channel(named: call.calleeName)), cause: .normalClearing)
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        try await Self.takeBye(on: call.callee, tag: "callee1", pbx: call.pbx)
        #expect(await call.recorder.wait { _ in call.pbx.driver.channels.count == 0 })
        #expect(await call.allPortsFreed())
        await call.stop()
    }

    /// Atxfer by the dialed leg: the transferee is held (music), the transferer's hangup hands
    /// the target to the transferee without hanging either up, and the caller's Dial then
    /// follows the target: the target's hangup ends the caller's call.
    @Test func attendedTransferHandsTheTargetToTheTransferee() async throws {
        let (music, directory) = try Self.musicClass()
        defer { try? FileManager.default.removeItem(at: directory) }
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30)
            exten => 1003,1,Dial(SIP/1003,30)
            """, rtpPorts: 31200...31299, musicOnHold: music)
        try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1003")
        #expect(await call.recorder.wait { $0.contains { $0.name == "MusicOnHoldStart" && $0["Channel"] == call.callerName } })
        let (invite, _) = try await call.target.receive { $0.request?.method == .invite }
        try await Self.answer(invite, on: call.target, tag: "target1", pbx: call.pbx, rtpPort: 40006)
        #expect(await call.recorder.wait { $0.filter { $0.name == "BridgeEnter" && $0["Channel"] == call.calleeName }.count == 2 })
        // A second transfer of the same leg is refused while it consults.
        await #expect(throws: ManagementError.self) {
            try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1003")
        }

        try await call.calleeHangsUp()
        let transfer = await call.recorder.wait { $0.contains { $0.name == "AttendedTransfer" } }
        #expect(transfer)
        let event = try #require(call.recorder.all.first { $0.name == "AttendedTransfer" })
        let targetName = try #require(event["TransferTargetChannel"])
        #expect(event["Result"] == "Success" && event["TransfereeChannel"] == call.callerName && event["OrigTransfererChannel"] == call.calleeName)
        #expect(await call.recorder.wait { $0.contains { $0.name == "MusicOnHoldStop" && $0["Channel"] == call.callerName } })
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(300))), "the transferee was hung up")
        #expect(!(await Self.getsBye(call.target, within: .milliseconds(1))), "the target was hung up")
        // The target entered the transferee's bridge.
        let firstBridge = try #require(call.recorder.all.first { $0.name == "BridgeEnter" && $0["Channel"] == call.callerName }?["BridgeUniqueid"])
        #expect(call.recorder.all.contains { $0.name == "BridgeEnter" && $0["Channel"] == targetName && $0["BridgeUniqueid"] == firstBridge })

        // The target hangs up: the caller's Dial, now following it, hangs the caller up.
        try await call.target.send(Self.bye(answering: invite, tag: "target1", from: call.target, pbx: call.pbx), to: call.pbx.port)
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        #expect(await call.recorder.wait { $0.filter { $0.name == "Hangup" }.count == 3 })
        #expect(await call.recorder.wait { _ in call.pbx.driver.channels.count == 0 })
        #expect(await call.allPortsFreed())
        await call.stop()
    }

    /// The transferer hangs up while the target rings ("blond" transfer): the target, once it
    /// answers, is bridged with the transferee; nobody is hung up until the target hangs up.
    @Test func transfererHangingUpWhileTheTargetRingsHandsTheRingingTarget() async throws {
        let (music, directory) = try Self.musicClass()
        defer { try? FileManager.default.removeItem(at: directory) }
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30)
            exten => 1003,1,Dial(SIP/1003,30)
            """, rtpPorts: 31500...31599, musicOnHold: music)
        try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1003")
        let (invite, _) = try await call.target.receive { $0.request?.method == .invite }
        try await call.target.send(SIPText.response(to: invite, "180 Ringing", toTag: "target1"), to: call.pbx.port)
        #expect(await call.recorder.wait { $0.contains { $0.name == "DialState" && $0["Channel"] == call.calleeName } })
        try await call.calleeHangsUp()
        #expect(await call.recorder.wait { $0.contains { $0.name == "Hangup" && $0["Channel"] == call.calleeName } })
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(300))), "the transferee was hung up")
        #expect((try? await call.target.receive(timeout: .milliseconds(1)) { $0.request?.method == .cancel }) == nil, "the target's ringing was cancelled")
        try await Self.answer(invite, on: call.target, tag: "target1", pbx: call.pbx, rtpPort: 40006)
        #expect(await call.recorder.wait { $0.contains { $0.name == "AttendedTransfer" && $0["Result"] == "Success" } })
        #expect(await call.recorder.wait { $0.contains { $0.name == "MusicOnHoldStop" && $0["Channel"] == call.callerName } })
        try await call.target.send(Self.bye(answering: invite, tag: "target1", from: call.target, pbx: call.pbx), to: call.pbx.port)
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        #expect(await call.recorder.wait { _ in call.pbx.driver.channels.count == 0 })
        #expect(await call.allPortsFreed())
        await call.stop()
    }

    /// CancelAtxfer while the target rings: its ringing is cancelled and the transferer comes
    /// back to the transferee; nobody is hung up.
    @Test func cancelledConsultationStopsTheRingingAndReturnsTheTransferer() async throws {
        let (music, directory) = try Self.musicClass()
        defer { try? FileManager.default.removeItem(at: directory) }
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30)
            exten => 1003,1,Dial(SIP/1003,30)
            """, rtpPorts: 31600...31699, musicOnHold: music)
        await #expect(throws: ManagementError.self) {
            try await call.pbx.executions.cancelAttendedTransfer(transferer: call.calleeName)
        }
        try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1003")
        let (invite, _) = try await call.target.receive { $0.request?.method == .invite }
        try await call.target.send(SIPText.response(to: invite, "180 Ringing", toTag: "target1"), to: call.pbx.port)
        #expect(await call.recorder.wait { $0.contains { $0.name == "DialState" && $0["Channel"] == call.calleeName } })
        try await call.pbx.executions.cancelAttendedTransfer(transferer: call.calleeName)
        let (cancel, _) = try await call.target.receive { $0.request?.method == .cancel }
        try await call.target.send(SIPText.response(to: cancel, "200 OK", toTag: "target1"), to: call.pbx.port)
        try await call.target.send(SIPText.response(to: invite, "487 Request Terminated", toTag: "target1"), to: call.pbx.port)
        #expect(await call.recorder.wait { $0.filter { $0.name == "BridgeEnter" && $0["Channel"] == call.calleeName }.count == 2 })
        #expect(await call.recorder.wait { $0.contains { $0.name == "MusicOnHoldStop" && $0["Channel"] == call.callerName } })
        #expect(!(await Self.getsBye(call.caller, within: .milliseconds(300))))
        #expect(!(await Self.getsBye(call.callee, within: .milliseconds(1))))
        try await call.calleeHangsUp()
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        #expect(await call.recorder.wait { _ in call.pbx.driver.channels.count == 0 })
        #expect(await call.allPortsFreed())
        await call.stop()
    }

    /// A consultation whose target is busy: the transferer comes back to the transferee, who
    /// is taken off hold; the transferer hanging up afterwards ends the caller's call.
    @Test func busyTargetReturnsTheTransferer() async throws {
        let (music, directory) = try Self.musicClass()
        defer { try? FileManager.default.removeItem(at: directory) }
        let call = try await AnsweredCall.start(dialplan: """
            [internal]
            exten => 1002,1,Dial(SIP/1002,30)
            exten => 1003,1,Dial(SIP/1003,30)
             same => n,Hangup()
            """, rtpPorts: 31300...31399, musicOnHold: music)
        await #expect(throws: ManagementError.noExtension(exten: "1004", context: "internal")) {
            try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1004")
        }
        try await call.pbx.executions.attendedTransfer(transferer: call.calleeName, context: "internal", exten: "1003")
        let (invite, _) = try await call.target.receive { $0.request?.method == .invite }
        try await call.target.send(SIPText.response(to: invite, "486 Busy Here", toTag: "target1"), to: call.pbx.port)
        #expect(await call.recorder.wait { $0.contains { $0.name == "MusicOnHoldStop" && $0["Channel"] == call.callerName } })
        #expect(await call.recorder.wait { $0.filter { $0.name == "BridgeEnter" && $0["Channel"] == call.calleeName }.count == 2 })
        #expect(!(await Self.getsBye(call.callee, within: .milliseconds(300))), "the transferer was hung up")
        #expect(!call.recorder.all.contains { $0.name == "AttendedTransfer" })
        try await call.calleeHangsUp()
        try await Self.takeBye(on: call.caller, tag: "caller1", pbx: call.pbx)
        #expect(await call.recorder.wait { _ in call.pbx.driver.channels.count == 0 })
        #expect(await call.allPortsFreed())
        await call.stop()
    }
}
