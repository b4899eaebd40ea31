import Foundation
import Logging
import NIOCore
import NIOPosix
import PBXCore
import RTPMedia
import SIPStack
import Testing
@testable import Dialplan

/// A real call through the SIP channel driver and the dialplan, in process: two scripted phones
/// on loopback UDP, `Dial(SIP/1002,30)`, and the events it produces compared with the Asterisk
/// 18 capture of the same call (transcripts/ami-02-basic-call.txt).
@Suite(.serialized) struct SIPCallEventTests {
    /// One switch on loopback: transport, relay, driver and executor sharing one bus.
    struct Switch {
        let bus: EventBus
        let driver: SIPChannelDriver
        let transport: SIPTransportLayer
        let executions: ExecutionRegistry
        let qualify: QualifyService
        let relay: RTPRelay
        var port: Int { transport.boundPort ?? 0 }

        static func start(
            caller: TestPhone, callee: TestPhone, rtpPorts: ClosedRange<Int>,
            dialplan: String = "[internal]\nexten => 1002,1,Dial(SIP/1002,30)", applications: ApplicationRegistry = .standard,
            musicOnHold: MusicOnHoldConfig = MusicOnHoldConfig(), extraPeers: String = ""
        ) async throws -> Switch {
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let config = try SIPConfig(ConfigFile.parse("""
                [general]
                realm=test
                [1001]
                type=friend
                host=127.0.0.1
                port=\(caller.port)
                insecure=port,invite
                context=internal
                callerid="User 1001" <1001>
                [1002]
                type=friend
                host=127.0.0.1
                port=\(callee.port)
                context=internal
                callerid="User 1002" <1002>
                dtmfmode=rfc2833
                \(extraPeers)
                """, fileName: "sip.conf"))
            let logger = Logger(label: "test.sip")
            let transport = SIPTransportLayer(eventLoop: loop, logger: logger)
            try await transport.start(udp: try SocketAddress(ipAddress: "127.0.0.1", port: 0), tcp: nil)
            let relay = RTPRelay(group: MultiThreadedEventLoopGroup.singleton, portPool: try RTPPortPool(range: rtpPorts), bindHost: "127.0.0.1")
            let media = MediaEngine(relay: relay, signallingLoop: loop, sounds: SoundLibrary(searchPath: []), logger: logger)
            let bus = EventBus()
            let registrar = RegistrarService(eventLoop: loop, policy: config.general.registrar, dataDirectory: nil, events: bus, logger: logger)
            let driver = SIPChannelDriver(eventLoop: loop, transport: transport, config: config, media: media, registrar: registrar,
                                          events: bus, logger: logger)
            let executions = ExecutionRegistry()
            driver.musicOnHold = musicOnHold
            let executor = DialplanExecutor(
                dialplan: try loadDialplan(dialplan), dialer: SIPDialer(driver: driver), applications: applications,
                logger: logger, events: bus, channels: driver.channels, executions: executions)
            executions.startRuns { executor }
            driver.routeExists = { context, exten in executor.hasExtension(context: context, exten: exten, callerID: nil) }
            driver.startCall = { channel, context, exten in
                Task { await executor.run(channel: channel, context: context, exten: exten, variables: channel.dialplanVariables) }
            }
            let qualify = QualifyService(driver: driver, peers: config.peers, logger: logger)
            try await loop.submit { qualify.start() }.get()
            return Switch(bus: bus, driver: driver, transport: transport, executions: executions, qualify: qualify, relay: relay)
        }

        func stop() async {
            try? await driver.eventLoop.submit { qualify.stop() }.get()
            await driver.shutdown()
            await transport.shutdown()
        }
    }

    /// The 14 keys of AMI's channel block, in order (ami.md §10.1).
    static let blockKeys = DialplanEventTests.blockKeys

    /// ami-02-basic-call.txt's call and dialplan events for channels SIP/1001-… and SIP/1002-…,
    /// leaving out what pbxd's dialer and bridge produce (Dial*, Bridge*, the caller's
    /// NewConnectedLine, the callee's AppDial Newexten, Dial()'s VarSets) and the VarSets:
    /// name, channel peer, ChannelState, Exten, and the keys after the block.
    static let capturedBasicCall: [(name: String, peer: String, state: String, exten: String, extra: [String])] = {
        let dest = blockKeys.map { "Dest" + $0 }
        let bridgeTail = Array(blockKeys.suffix(7))  // a bridge block (7 keys) then the channel's
        let app = ["Extension", "Application", "AppData"]
        return [
            ("Newchannel", "1001", "0", "1002", []),
            ("Newstate", "1001", "4", "1002", []),
            ("Newexten", "1001", "4", "1002", app),
            ("Newchannel", "1002", "0", "s", []),
            ("Newexten", "1002", "0", "1002", app),
            ("NewConnectedLine", "1002", "0", "1002", []),
            ("DialBegin", "1001", "4", "1002", dest + ["DialString"]),
            ("NewConnectedLine", "1001", "4", "1002", []),
            ("Newstate", "1002", "5", "1002", []),
            ("DialState", "1001", "4", "1002", dest + ["DialStatus"]),
            ("Newstate", "1002", "6", "1002", []),
            ("DialEnd", "1001", "4", "1002", dest + ["DialStatus"]),
            ("Newstate", "1001", "6", "1002", []),
            ("BridgeCreate", "", "", "", []),
            ("Newexten", "1002", "6", "", app),
            ("BridgeEnter", "1002", "6", "", bridgeTail),
            ("BridgeEnter", "1001", "6", "1002", bridgeTail),
            ("HangupRequest", "1001", "6", "1002", ["Cause"]),
            ("BridgeLeave", "1001", "6", "1002", bridgeTail),
            ("SoftHangupRequest", "1001", "6", "1002", ["Cause"]),
            ("BridgeLeave", "1002", "6", "", bridgeTail),
            ("BridgeDestroy", "", "", "", []),
            ("Hangup", "1002", "6", "", ["Cause", "Cause-txt"]),
            ("Hangup", "1001", "6", "1002", ["Cause", "Cause-txt"]),
        ]
    }()

    @Test func basicCallPublishesAsterisksChannelEventsInOrder() async throws {
        let caller = try await TestPhone.bind()
        let callee = try await TestPhone.bind()
        let pbx = try await Switch.start(caller: caller, callee: callee, rtpPorts: 30600...30699)
        let recorder = EventRecorder(pbx.bus)
        let callID = "basic-\(Int.random(in: 1...1_000_000))@test"
        let local = "127.0.0.1"

        // 1001 calls 1002.
        let invite = SIPText.message("INVITE sip:1002@\(local):\(pbx.port) SIP/2.0", [
            "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-inv1;rport", "Max-Forwards: 70",
            "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>", "Call-ID: \(callID)",
            "CSeq: 1 INVITE", "Contact: <sip:1001@\(local):\(caller.port)>", "Content-Type: application/sdp",
        ], body: SIPText.sdp(rtpPort: 40002))
        try await caller.send(invite, to: pbx.port)

        // 1002 rings, then answers.
        let (calleeInviteText, calleeInvite) = try await callee.receive { $0.request?.method == .invite }
        try await callee.send(SIPText.response(to: calleeInviteText, "180 Ringing", toTag: "callee1"), to: pbx.port)
        #expect(await recorder.wait { $0.contains { $0.name == "Newstate" && $0["ChannelState"] == "5" } })
        try await callee.send(SIPText.response(
            to: calleeInviteText, "200 OK", toTag: "callee1",
            headers: ["Contact: <sip:1002@\(local):\(callee.port)>", "Content-Type: application/sdp"],
            body: SIPText.sdp(rtpPort: 40004)), to: pbx.port)
        _ = try await callee.receive { $0.request?.method == .ack }
        #expect(calleeInvite.request?.headers.from.uri.user == "1001")

        // 1001 gets the answer and ACKs it.
        let answer = try #require(try await caller.receive { $0.response?.statusCode == 200 }.message.response)
        let toTag = try #require(answer.headers.to.tag)
        try await caller.send(SIPText.message("ACK sip:1002@\(local):\(pbx.port) SIP/2.0", [
            "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-ack1;rport", "Max-Forwards: 70",
            "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>;tag=\(toTag)",
            "Call-ID: \(callID)", "CSeq: 1 ACK",
        ]), to: pbx.port)

        // Up: the registry lists both legs, the caller running Dial.
        #expect(await recorder.wait { $0.filter { $0.name == "Newstate" && $0["ChannelState"] == "6" }.count == 2 })
        let live = await pbx.driver.channels.list()
        #expect(live.map { $0.snapshot.name.hasPrefix("SIP/1001-") } == [true, false])
        #expect(live.first?.application == "Dial" && live.first?.applicationData == "SIP/1002,30")
        #expect(live.map(\.dialedNumber) == ["1002", ""])
        #expect(live.allSatisfy { $0.snapshot.state == .up })
        let callerName = try #require(live.first?.snapshot.name)
        #expect(try pbx.driver.channels.find("/^SIP\\/100[12]-/").count == 2)
        #expect(pbx.driver.channels.channel(named: callerName.lowercased())?.uniqueID == live.first?.snapshot.uniqueID)

        // A key pressed on 1001 (SIP INFO) is passed to 1002: received on one, sent on the other.
        try await caller.send(SIPText.message("INFO sip:1002@\(local):\(pbx.port) SIP/2.0", [
            "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-info1;rport", "Max-Forwards: 70",
            "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>;tag=\(toTag)",
            "Call-ID: \(callID)", "CSeq: 2 INFO", "Content-Type: application/dtmf-relay",
        ], body: "Signal=5\r\nDuration=160\r\n"), to: pbx.port)
        _ = try await caller.receive { $0.response?.headers.cseq.method == .info }

        // 1001 hangs up.
        try await caller.send(SIPText.message("BYE sip:1002@\(local):\(pbx.port) SIP/2.0", [
            "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-bye1;rport", "Max-Forwards: 70",
            "From: \"User 1001\" <sip:1001@\(local)>;tag=caller1", "To: <sip:1002@\(local)>;tag=\(toTag)",
            "Call-ID: \(callID)", "CSeq: 3 BYE",
        ]), to: pbx.port)
        let (byeText, _) = try await callee.receive { $0.request?.method == .bye }
        try await callee.send(SIPText.response(to: byeText, "200 OK", toTag: "callee1"), to: pbx.port)
        #expect(await recorder.wait { $0.filter { $0.name == "Hangup" }.count == 2 })

        let callEvents = recorder.all.filter { ($0.eventClass == .call || $0.eventClass == .dialplan) && $0.name != "VarSet" }
        let observed = callEvents.map { event in
            (event.name, event["Channel"].map { String($0.dropFirst(4).prefix(4)) } ?? "", event["ChannelState"] ?? "",
             event["Exten"] ?? "", Array(event.fields.map(\.key).dropFirst(Self.blockKeys.count)))
        }
        #expect(observed.map { "\($0.0) \($0.1) \($0.2) \($0.3) \($0.4)" }
                == Self.capturedBasicCall.map { "\($0.name) \($0.peer) \($0.state) \($0.exten) \($0.extra)" })
        let channelEvents = callEvents.filter { !$0.name.hasPrefix("Bridge") }
        for event in channelEvents {
            #expect(Array(event.fields.map(\.key).prefix(Self.blockKeys.count)) == Self.blockKeys, "\(event.name)")
        }
        let callerUniqueID = try #require(callEvents.first?["Uniqueid"])
        #expect(callEvents.filter { $0.name != "BridgeCreate" && $0.name != "BridgeDestroy" }.allSatisfy { $0["Linkedid"] == callerUniqueID })
        let bridgeIDs = Set(callEvents.filter { $0.name.hasPrefix("Bridge") }.compactMap { $0["BridgeUniqueid"] })
        #expect(bridgeIDs.count == 1)
        #expect(callEvents.first?["CallerIDNum"] == "1001" && callEvents.first?["CallerIDName"] == "User 1001")
        // The callee leg is its peer's caller ID, connected to the caller.
        let calleeLine = try #require(callEvents.first { $0.name == "NewConnectedLine" })
        #expect(calleeLine["CallerIDNum"] == "1002" && calleeLine["CallerIDName"] == "User 1002")
        #expect(calleeLine["ConnectedLineNum"] == "1001" && calleeLine["ConnectedLineName"] == "User 1001")
        #expect(callEvents.first?["Context"] == "internal" && callEvents.first?["Priority"] == "1")
        #expect(callEvents.first { $0.name == "Newexten" }?["AppData"] == "SIP/1002,30")
        #expect(callEvents.filter { $0.name == "Hangup" }.allSatisfy { $0["Cause"] == "16" && $0["Cause-txt"] == "Normal Clearing" })

        let dtmf = recorder.all.filter { $0.eventClass == .dtmf }.map {
            "\($0.name) \($0["Channel"]!.prefix(8)) \($0["Digit"]!) \($0["DurationMs"] ?? "-") \($0["Direction"]!)"
        }
        #expect(dtmf == [
            "DTMFBegin SIP/1001 5 - Received", "DTMFEnd SIP/1001 5 160 Received",
            "DTMFBegin SIP/1002 5 - Sent", "DTMFEnd SIP/1002 5 160 Sent",
        ])
        #expect(recorder.all.first { $0.name == "DTMFEnd" }?.fields.map(\.key).suffix(3) == ["Digit", "DurationMs", "Direction"])
        #expect(pbx.driver.channels.count == 0)
        // chan_sip's variables of the inbound call start its run, before the first Newexten.
        let firstNewexten = try #require(recorder.all.firstIndex { $0.name == "Newexten" })
        let sipVariables = recorder.all[..<firstNewexten].filter { $0.name == "VarSet" }.map { "\($0["Variable"]!)=\($0["Value"]!)" }
        #expect(sipVariables == ["SIPCALLID=\(callID)", "SIPDOMAIN=\(local)", "SIPURI=sip:1001@\(local):\(caller.port)"])
        // Dial()'s result reaches the caller's channel before its Hangup.
        let dialStatus = try #require(recorder.all.firstIndex { $0.name == "VarSet" && $0["Variable"] == "DIALSTATUS" })
        #expect(recorder.all[dialStatus]["Value"] == "ANSWER" && recorder.all[dialStatus]["Channel"] == callerName)
        #expect(dialStatus < recorder.all.lastIndex { $0.name == "Hangup" }!)

        await pbx.stop()
        await caller.close()
        await callee.close()
    }

    /// Names the events of one channel as `Name context/exten/priority [keys after the block]`.
    static func describe(_ events: [ManagerEvent]) -> [String] {
        events.map { event in
            let location = "\(event["Context"] ?? "")/\(event["Exten"] ?? "")/\(event["Priority"] ?? "")"
            return "\(event.name) \(location) \(Array(event.fields.map(\.key).dropFirst(blockKeys.count)))"
        }
    }

    @Test func holdMusicRedirectAndManagementHangupOnAnAnsweredCall() async throws {
        let caller = try await TestPhone.bind()
        let callee = try await TestPhone.bind()
        let musicDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: musicDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: musicDirectory) }
        let song = musicDirectory.appendingPathComponent("song").path
        try Data(repeating: 0xFF, count: 8000).write(to: URL(fileURLWithPath: song + ".ulaw"))  // 1 s of μ-law silence
        var applications = ApplicationRegistry.standard
        applications.register(Application(name: "HoldMusic") { execution, _ in
            let result = await execution.channel.playContinuous(.music(files: [song], random: false), duration: nil)
            return result == .hungUp ? .hangup(nil) : .proceed
        })
        let pbx = try await Switch.start(
            caller: caller, callee: callee, rtpPorts: 30700...30799,
            dialplan: """
                [internal]
                exten => 2000,1,Answer()
                 same => n,Wait(30)
                exten => 3000,1,HoldMusic()
                exten => 4000,1,Set(CALLERID(num)=5551234)
                 same => n,Wait(30)
                """,
            applications: applications,
            musicOnHold: MusicOnHoldConfig(classes: ["office": .init(name: "office", directory: musicDirectory.path, files: [song], random: false)]))
        let recorder = EventRecorder(pbx.bus)
        let callID = "hold-\(Int.random(in: 1...1_000_000))@test"
        let local = "127.0.0.1"
        func request(_ method: String, cseq: Int, toTag: String?, headers: [String] = [], body: String = "") -> String {
            SIPText.message("\(method) sip:2000@\(local):\(pbx.port) SIP/2.0", [
                "Via: SIP/2.0/UDP \(local):\(caller.port);branch=z9hG4bK-\(method.lowercased())\(cseq)-\(Int.random(in: 1...1_000_000));rport",
                "Max-Forwards: 70", "From: \"User 1001\" <sip:1001@\(local)>;tag=caller2",
                "To: <sip:2000@\(local)>" + (toTag.map { ";tag=\($0)" } ?? ""), "Call-ID: \(callID)",
                "CSeq: \(cseq) \(method)",
                "Contact: <sip:1001@\(local):\(caller.port)>",
            ] + headers, body: body)
        }
        let sdpHeaders = ["Content-Type: application/sdp"]

        try await caller.send(request("INVITE", cseq: 1, toTag: nil, headers: sdpHeaders, body: SIPText.sdp(rtpPort: 40006)), to: pbx.port)
        let answer = try #require(try await caller.receive { $0.response?.statusCode == 200 }.message.response)
        let toTag = try #require(answer.headers.to.tag)
        try await caller.send(request("ACK", cseq: 1, toTag: toTag), to: pbx.port)
        #expect(await recorder.wait { $0.contains { $0["Application"] == "Wait" } })
        let channelName = try #require(recorder.all.first?["Channel"])

        // The phone holds, then resumes (re-INVITEs answered by pbxd itself: not bridged).
        for (cseq, direction) in [(2, "sendonly"), (3, "sendrecv")] {
            try await caller.send(request("INVITE", cseq: cseq, toTag: toTag, headers: sdpHeaders,
                                          body: SIPText.sdp(rtpPort: 40006, direction: direction)), to: pbx.port)
            _ = try await caller.receive { $0.response?.statusCode == 200 && $0.response?.headers.cseq.number == UInt32(cseq) }
            try await caller.send(request("ACK", cseq: cseq, toTag: toTag), to: pbx.port)
        }
        #expect(await recorder.wait { $0.contains { $0.name == "Unhold" } })

        // Redirect out of Wait into music, then out of the music.
        try await pbx.executions.redirect(channel: channelName, context: "internal", exten: "3000", priority: "1")
        #expect(await recorder.wait { $0.contains { $0.name == "MusicOnHoldStart" } })
        try await pbx.executions.redirect(channel: channelName, context: "internal", exten: "4000", priority: "1")
        #expect(await recorder.wait { $0.filter { $0["Application"] == "Wait" }.count == 2 })

        // Management hangs the channel up: SoftHangupRequest, BYE, Hangup.
        let channel = try #require(pbx.driver.channels.channel(named: channelName))
        await pbx.driver.channels.hangup(channel, cause: .normalClearing)
        let (byeText, _) = try await caller.receive { $0.request?.method == .bye }
        try await caller.send(SIPText.response(to: byeText, "200 OK", toTag: "caller2"), to: pbx.port)
        #expect(await recorder.wait { $0.last?.name == "Hangup" })

        #expect(Self.describe(recorder.all.filter { $0.name != "VarSet" }) == [
            "Newchannel internal/2000/1 []",
            "Newstate internal/2000/1 []",
            "Newexten internal/2000/1 [\"Extension\", \"Application\", \"AppData\"]",
            "Newstate internal/2000/1 []",
            "Newexten internal/2000/2 [\"Extension\", \"Application\", \"AppData\"]",
            "Hold internal/2000/2 []",
            "Unhold internal/2000/2 []",
            "Newexten internal/3000/1 [\"Extension\", \"Application\", \"AppData\"]",
            "MusicOnHoldStart internal/3000/1 [\"Class\"]",
            "MusicOnHoldStop internal/3000/1 []",
            "Newexten internal/4000/1 [\"Extension\", \"Application\", \"AppData\"]",
            "NewCallerid internal/4000/1 [\"CID-CallingPres\"]",
            "Newexten internal/4000/2 [\"Extension\", \"Application\", \"AppData\"]",
            "SoftHangupRequest internal/4000/2 [\"Cause\"]",
            "Hangup internal/4000/2 [\"Cause\", \"Cause-txt\"]",
        ])
        #expect(recorder.all.first { $0.name == "MusicOnHoldStart" }?["Class"] == "office")
        #expect(recorder.all.first { $0.name == "NewCallerid" }?["CallerIDNum"] == "5551234")
        #expect(recorder.all.last?["ChannelState"] == "6")
        #expect(pbx.driver.channels.count == 0)

        await pbx.stop()
        await caller.close()
        await callee.close()
    }

    @Test func registrationAndQualifyPublishPeerStatus() async throws {
        let phone = try await TestPhone.bind()
        let unused = try await TestPhone.bind()
        let pbx = try await Switch.start(caller: unused, callee: unused, rtpPorts: 30800...30809, extraPeers: """
            [1003]
            type=friend
            host=dynamic
            secret=s3cret
            context=internal
            qualify=500
            qualifyfreq=1
            """)
        let recorder = EventRecorder(pbx.bus)
        let local = "127.0.0.1"
        func register(expires: Int, cseq: Int, authorization: String? = nil) -> String {
            SIPText.message("REGISTER sip:\(local):\(pbx.port) SIP/2.0", [
                "Via: SIP/2.0/UDP \(local):\(phone.port);branch=z9hG4bK-reg\(cseq)-\(Int.random(in: 1...1_000_000));rport",
                "Max-Forwards: 70", "From: <sip:1003@\(local)>;tag=reg1003", "To: <sip:1003@\(local)>",
                "Call-ID: reg-1003@test", "CSeq: \(cseq) REGISTER", "Contact: <sip:1003@\(local):\(phone.port)>",
                "Expires: \(expires)",
            ] + (authorization.map { ["Authorization: \($0)"] } ?? []))
        }
        /// REGISTER, answer the digest challenge, expect 200.
        func registerWithCredentials(expires: Int, cseq: Int) async throws {
            try await phone.send(register(expires: expires, cseq: cseq), to: pbx.port)
            let challenge = try #require(try await phone.receive { $0.response?.statusCode == 401 }.message.response)
            let header = try #require(challenge.headers["WWW-Authenticate"])
            func param(_ key: String) -> String {
                guard let start = header.range(of: "\(key)=\"")?.upperBound, let end = header[start...].firstIndex(of: "\"") else { return "" }
                return String(header[start..<end])
            }
            let uri = "sip:\(local):\(pbx.port)"
            let ha1 = try #require(DigestComputation.ha1(algorithm: .md5, username: "1003", realm: param("realm"), secret: .password("s3cret")))
            let response = DigestComputation.response(
                algorithm: .md5, ha1: ha1, method: "REGISTER", uri: uri, nonce: param("nonce"), qop: "auth", nc: "00000001", cnonce: "c1")
            let authorization = "Digest username=\"1003\", realm=\"\(param("realm"))\", nonce=\"\(param("nonce"))\", uri=\"\(uri)\", "
                + "response=\"\(response)\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c1\", opaque=\"\(param("opaque"))\""
            try await phone.send(register(expires: expires, cseq: cseq + 1, authorization: authorization), to: pbx.port)
            _ = try await phone.receive { $0.response?.statusCode == 200 }
        }

        try await registerWithCredentials(expires: 120, cseq: 1)
        #expect(await recorder.wait { $0.contains { $0.name == "PeerStatus" } })
        // Qualify pings the new contact: answered → Reachable, then silence → Unreachable.
        let (optionsText, _) = try await phone.receive { $0.request?.method == .options }
        try await phone.send(SIPText.response(to: optionsText, "200 OK", toTag: "q1"), to: pbx.port)
        #expect(await recorder.wait { $0.contains { $0["PeerStatus"] == "Reachable" } })
        #expect(await recorder.wait(timeout: .seconds(10)) { $0.contains { $0["PeerStatus"] == "Unreachable" } })
        try await registerWithCredentials(expires: 0, cseq: 3)
        #expect(await recorder.wait { $0.contains { $0["PeerStatus"] == "Unregistered" } })

        let statuses = recorder.all.filter { $0.name == "PeerStatus" }
        #expect(statuses.allSatisfy { $0.eventClass == .system })
        #expect(statuses.map { $0.fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }.map {
            $0.replacingOccurrences(of: #"Time=\d+"#, with: "Time=N", options: .regularExpression)
        } == [
            "ChannelType=SIP Peer=SIP/1003 PeerStatus=Registered Address=127.0.0.1:\(phone.port)",
            "ChannelType=SIP Peer=SIP/1003 PeerStatus=Reachable Time=N",
            "ChannelType=SIP Peer=SIP/1003 PeerStatus=Unreachable Time=-1",
            "ChannelType=SIP Peer=SIP/1003 PeerStatus=Unregistered Cause=Expired",
        ])

        await pbx.stop()
        await phone.close()
        await unused.close()
    }
}
