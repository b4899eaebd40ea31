import Crypto
import Dialplan
import Foundation
import Logging
import NIOConcurrencyHelpers
import PBXCore
import Testing

@testable import AMI

/// What a session wrote, instead of a socket.
final class RecordingOutput: AMIOutput {
    private let state = NIOLockedValueBox((texts: [String](), closed: false))
    func sendRaw(_ text: String) { state.withLockedValue { $0.texts.append(text) } }
    func close() { state.withLockedValue { $0.closed = true } }
    var texts: [String] { state.withLockedValue { $0.texts } }
    var closed: Bool { state.withLockedValue { $0.closed } }
    var isOpen: Bool { !closed }
    func take() -> [String] { state.withLockedValue { s in defer { s.texts = [] }; return s.texts } }
}

/// A session over a recorder, with manager.conf users `admin` (everything) and `wallboard`
/// (reads call events, may run nothing gated).
struct SessionFixture {
    let bus = EventBus()
    let output = RecordingOutput()
    let context: ManagerContext
    let session: AMISession

    static let managerConf = """
        [general]
        enabled = yes
        [admin]
        secret = amipass
        read = all
        write = all
        [wallboard]
        secret = wallpass
        read = call
        write = none
        [office]
        secret = officepass
        read = all
        write = all
        deny = 0.0.0.0/0.0.0.0
        permit = 10.0.0.0/8
        """

    init(throttle: LoginThrottle = LoginThrottle(), remoteHost: String = "127.0.0.1", modules: [ReloadableModule] = []) throws {
        let config = try ManagerConfig(try ConfigFile.parse(Self.managerConf, fileName: "manager.conf"))
        let actions = ManagerActionRegistry()
        context = ManagerContext(config: config, bus: bus, actions: actions, commands: CLICommandRegistry(), throttle: throttle,
                                 failedLoginDelay: .zero, system: SystemStatus(events: bus))
        let peers = SIPPeerDirectory(peers: [], registration: { _ in nil }, reachability: { _ in .unmonitored }, deviceState: { _ in .invalid })
        ManagerActions.register(into: actions, context: context, environment: ManagerEnvironment(
            dialplan: Dialplan(), globals: GlobalVariables(["GREETING": "hello"]), astDB: InMemoryAstDB(), peers: peers,
            channels: ChannelRegistry(events: bus), executions: ExecutionRegistry(), reloadableModules: modules))
        session = AMISession(context: context,
                             endpoints: SessionEndpoints(localHost: "127.0.0.1", localPort: 5038, remoteHost: remoteHost, remotePort: 40000),
                             output: output, logger: Logger(label: "test.ami"))
    }

    @discardableResult
    func send(_ headers: [(String, String)]) async -> AMISession.Disposition {
        await session.handle(.request(headers.map { ManagerEvent.Field($0.0, $0.1) }))
    }

    func login(_ user: String = "admin", _ secret: String = "amipass", events: String? = nil) async {
        var headers = [("Action", "Login"), ("Username", user), ("Secret", secret)]
        if let events { headers.append(("Events", events)) }
        await send(headers)
        _ = output.take()
    }
}

@Suite struct AMISessionTests {
    @Test func actionBeforeLoginIsDeniedAsCaptured() async throws {
        let f = try SessionFixture()
        #expect(await f.send([("Action", "Ping"), ("ActionID", "pre-1")]) == .keepOpen)
        #expect(f.output.texts == ["Response: Error\r\nActionID: pre-1\r\nMessage: Permission denied\r\n\r\n"])
    }

    @Test func plainLoginIsAcceptedThenFullyBootedThenSuccessfulAuth() async throws {
        let f = try SessionFixture()
        let watch = f.bus.subscribe(label: "test")
        await f.send([("Action", "Login"), ("Username", "ADMIN"), ("Secret", "amipass"), ("Events", "on"), ("ActionID", "login-1")])
        let texts = f.output.texts
        #expect(texts.first == "Response: Success\r\nActionID: login-1\r\nMessage: Authentication accepted\r\n\r\n")
        #expect(texts.count == 2 && texts[1].hasPrefix("Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: "))
        #expect(texts[1].hasSuffix("Status: Fully Booted\r\n\r\n"))
        var iterator = watch.events.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event?.name == "SuccessfulAuth")
        #expect(event?["AccountID"] == "admin")
        #expect(event?["RemoteAddress"] == "IPV4/TCP/127.0.0.1/40000")
        // Logging in again on the same session:
        await f.send([("Action", "Login"), ("Username", "admin"), ("Secret", "amipass"), ("ActionID", "again")])
        #expect(f.output.texts.last == "Response: Success\r\nActionID: again\r\nMessage: Already authenticated\r\n\r\n")
    }

    @Test func wrongSecretFailsClosesAndReportsWithoutTheSecret() async throws {
        let f = try SessionFixture()
        let watch = f.bus.subscribe(label: "test")
        #expect(await f.send([("Action", "Login"), ("Username", "admin"), ("Secret", "wrong"), ("ActionID", "bad-1")]) == .close)
        #expect(f.output.texts == ["Response: Error\r\nActionID: bad-1\r\nMessage: Authentication failed\r\n\r\n"])
        var iterator = watch.events.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.name == "InvalidPassword")
        #expect(event.eventClass == .security)
        #expect(!event.fields.contains { $0.value.contains("wrong") || $0.value.contains("amipass") })
    }

    @Test func unknownUserAndRefusedAddressPublishTheirEvents() async throws {
        let f = try SessionFixture()
        let watch = f.bus.subscribe(label: "test")
        #expect(await f.send([("Action", "Login"), ("Username", "nobody"), ("Secret", "x")]) == .close)
        let g = try SessionFixture(remoteHost: "192.0.2.7")
        let watchG = g.bus.subscribe(label: "test")
        #expect(await g.send([("Action", "Login"), ("Username", "office"), ("Secret", "officepass")]) == .close)
        var a = watch.events.makeAsyncIterator(), b = watchG.events.makeAsyncIterator()
        #expect(await a.next()?.name == "InvalidAccountID")
        #expect(await b.next()?.name == "FailedACL")
    }

    @Test func challengeAndMD5Login() async throws {
        let f = try SessionFixture()
        await f.send([("Action", "Challenge"), ("AuthType", "SHA1"), ("ActionID", "c0")])
        #expect(f.output.take() == ["Response: Error\r\nActionID: c0\r\nMessage: Must specify AuthType\r\n\r\n"])
        await f.send([("Action", "Challenge"), ("AuthType", "md5"), ("ActionID", "c1")])
        let reply = try #require(f.output.take().first)
        let challenge = try #require(reply.split(separator: "\r\n").first { $0.hasPrefix("Challenge: ") }?.dropFirst(11))
        // The challenge stays the same for the session.
        await f.send([("Action", "Challenge"), ("AuthType", "MD5")])
        #expect(f.output.take().first?.contains("Challenge: \(challenge)\r\n") == true)
        let key = Insecure.MD5.hash(data: Array((challenge + "amipass").utf8)).map { String(format: "%02x", $0) }.joined()
        await f.send([("Action", "Login"), ("AuthType", "MD5"), ("Username", "admin"), ("Key", key), ("ActionID", "m")])
        #expect(f.output.take().first == "Response: Success\r\nActionID: m\r\nMessage: Authentication accepted\r\n\r\n")
    }

    @Test func wrongMD5KeyFailsWithChallengeResponseFailed() async throws {
        let f = try SessionFixture()
        let watch = f.bus.subscribe(label: "test")
        await f.send([("Action", "Challenge"), ("AuthType", "MD5")])
        let result = await f.send([("Action", "Login"), ("AuthType", "MD5"), ("Username", "admin"), ("Key", String(repeating: "0", count: 32))])
        #expect(result == .close)
        var iterator = watch.events.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.name == "ChallengeResponseFailed")
        #expect(event["ExpectedResponse"] == nil)
    }

    @Test func repeatedFailuresBlockTheAddressEvenWithTheRightSecret() async throws {
        let throttle = LoginThrottle(maxFailures: 2, window: 60)
        for _ in 0..<2 {
            let f = try SessionFixture(throttle: throttle)
            #expect(await f.send([("Action", "Login"), ("Username", "admin"), ("Secret", "bad")]) == .close)
        }
        let blocked = try SessionFixture(throttle: throttle)
        #expect(await blocked.send([("Action", "Login"), ("Username", "admin"), ("Secret", "amipass")]) == .close)
        #expect(blocked.output.texts == ["Response: Error\r\nMessage: Authentication failed\r\n\r\n"])
        // Another address is not affected.
        let other = try SessionFixture(throttle: throttle, remoteHost: "127.0.0.2")
        #expect(await other.send([("Action", "Login"), ("Username", "admin"), ("Secret", "amipass")]) == .keepOpen)
    }

    @Test func unknownAndMissingActionsAnswerAsAsterisk() async throws {
        let f = try SessionFixture()
        await f.login()
        await f.send([("Action", "FooBarBaz"), ("ActionID", "unk-1")])
        await f.send([("ActionID", "noact-1"), ("Foo", "bar")])
        await f.send([("action", "ping"), ("actionid", "lc-1")])
        let texts = f.output.take()
        #expect(texts[0] == "Response: Error\r\nActionID: unk-1\r\nMessage: Invalid/unknown command: FooBarBaz. Use Action: ListCommands to show available commands.\r\n\r\n")
        #expect(texts[1] == "Response: Error\r\nActionID: noact-1\r\nMessage: Missing action in request\r\n\r\n")
        #expect(texts[2].hasPrefix("Response: Success\r\nActionID: lc-1\r\nPing: Pong\r\nTimestamp: "))
    }

    @Test func writeClassesGateActions() async throws {
        let f = try SessionFixture()
        await f.login("wallboard", "wallpass")
        for action in ["Command", "DBGet", "UserEvent", "Filter", "CoreSettings", "Getvar"] {
            await f.send([("Action", action), ("ActionID", action)])
            #expect(f.output.take() == ["Response: Error\r\nActionID: \(action)\r\nMessage: Permission denied\r\n\r\n"])
        }
        await f.send([("Action", "Ping")])
        #expect(f.output.take().first?.hasPrefix("Response: Success\r\nPing: Pong") == true)
        await f.send([("Action", "ListCommands")])
        let listed = try #require(f.output.take().first)
        #expect(listed.contains("Ping: ") && !listed.contains("Command: ") && !listed.contains("DBGet: "))
    }

    @Test func eventsNeedEveryClassInReadAndMask() async throws {
        let f = try SessionFixture()
        await f.login("wallboard", "wallpass")
        f.session.deliver(ManagerEvent(name: "Newchannel", class: .call, fields: [.init("Channel", "SIP/1001-00000001")]))
        f.session.deliver(ManagerEvent(name: "FullyBooted", class: .system, fields: []))
        f.session.deliver(ManagerEvent(name: "Mixed", class: [.call, .agent], fields: []))
        #expect(f.output.take() == ["Event: Newchannel\r\nPrivilege: call,all\r\nChannel: SIP/1001-00000001\r\n\r\n"])

        let admin = try SessionFixture()
        await admin.login(events: "agent,system")
        admin.session.deliver(ManagerEvent(name: "Newchannel", class: .call, fields: []))
        admin.session.deliver(ManagerEvent(name: "QueueCallerJoin", class: .agent, fields: []))
        #expect(admin.output.take().map { $0.prefix(22) } == ["Event: QueueCallerJoin"])
        await admin.send([("Action", "Events"), ("EventMask", "off"), ("ActionID", "ev-1")])
        #expect(admin.output.take() == ["Response: Success\r\nActionID: ev-1\r\nEvents: Off\r\n\r\n"])
        admin.session.deliver(ManagerEvent(name: "QueueCallerJoin", class: .agent, fields: []))
        #expect(admin.output.texts.isEmpty)
        await admin.send([("Action", "Events"), ("EventMask", "bogus,class")])
        #expect(admin.output.take() == ["Response: Error\r\nMessage: Invalid event mask\r\n\r\n"])
    }

    @Test func filtersIncludeAndExclude() async throws {
        let f = try SessionFixture()
        await f.login()
        await f.send([("Action", "Filter"), ("Operation", "Add"), ("Filter", "Event: (Newchannel|VarSet)")])
        await f.send([("Action", "Filter"), ("Operation", "Add"), ("Filter", "!Variable: SECRET")])
        await f.send([("Action", "Filter"), ("Operation", "Add"), ("Filter", "(unclosed")])
        await f.send([("Action", "Filter"), ("Operation", "Remove"), ("Filter", "x")])
        #expect(f.output.take() == [
            "Response: Success\r\nMessage: Success\r\n\r\n", "Response: Success\r\nMessage: Success\r\n\r\n",
            "Response: Error\r\nMessage: Filter did not compile.  Check the syntax of the filter given.\r\n\r\n",
            "Response: Error\r\nMessage: Unknown operation\r\n\r\n",
        ])
        f.session.deliver(ManagerEvent(name: "Newchannel", class: .call, fields: []))
        f.session.deliver(ManagerEvent(name: "Hangup", class: .call, fields: []))
        f.session.deliver(ManagerEvent(name: "VarSet", class: .dialplan, fields: [.init("Variable", "SECRET")]))
        f.session.deliver(ManagerEvent(name: "VarSet", class: .dialplan, fields: [.init("Variable", "CRMID")]))
        #expect(f.output.take().map { $0.split(separator: "\r\n").first! } == ["Event: Newchannel", "Event: VarSet"])
        #expect(f.output.texts.isEmpty)
    }

    @Test func configuredEventFilterIsCopiedOnLogin() async throws {
        var config = try ManagerConfig(try ConfigFile.parse(SessionFixture.managerConf + "\neventfilter = !Event: VarSet\n", fileName: "m.conf"))
        #expect(config.user(named: "office")?.eventFilters.filters.count == 1)
        config.users["office"]?.acl = IPAccessList()
        let f = try SessionFixture()
        f.context.replaceConfig(config)
        await f.login("office", "officepass")
        f.session.deliver(ManagerEvent(name: "VarSet", class: .dialplan, fields: []))
        f.session.deliver(ManagerEvent(name: "Newexten", class: .dialplan, fields: []))
        #expect(f.output.take().map { $0.split(separator: "\r\n").first! } == ["Event: Newexten"])
    }

    @Test func commandRepliesWithOutputLinesAndErrorKeepsOutput() async throws {
        let f = try SessionFixture()
        f.context.commands.register(CLICommand("core show uptime", summary: "uptime") { _ in CLIResult(lines: ["up", ""]) })
        await f.login()
        await f.send([("Action", "Command"), ("Command", "core show uptime"), ("ActionID", "c")])
        await f.send([("Action", "Command"), ("Command", "foo bar")])
        await f.send([("Action", "Command"), ("Command", "module unload chan_sip.so")])
        await f.send([("Action", "Command")])
        let texts = f.output.take()
        #expect(texts[0] == "Response: Success\r\nActionID: c\r\nMessage: Command output follows\r\nOutput: up\r\nOutput: \r\n\r\n")
        #expect(texts[1].hasPrefix("Response: Error\r\nMessage: Command output follows\r\nOutput: No such command 'foo bar'"))
        #expect(texts[2] == "Response: Error\r\nMessage: Command blacklisted\r\n\r\n")
        #expect(texts[3] == "Response: Error\r\nMessage: No command provided\r\n\r\n")
    }

    @Test func listRepliesCarryActionIDAndEndInComplete() async throws {
        let f = try SessionFixture()
        await f.login()
        await f.send([("Action", "DBPut"), ("Family", "cidname"), ("Key", "5551234"), ("Val", "John Smith")])
        await f.send([("Action", "DBGet"), ("Family", "cidname"), ("Key", "5551234"), ("ActionID", "g")])
        await f.send([("Action", "DBGet"), ("Family", "cidname"), ("Key", "missing")])
        let texts = f.output.take()
        #expect(texts == [
            "Response: Success\r\nMessage: Updated database successfully\r\n\r\n",
            "Response: Success\r\nActionID: g\r\nEventList: start\r\nMessage: Result will follow\r\n\r\n",
            "Event: DBGetResponse\r\nFamily: cidname\r\nKey: 5551234\r\nVal: John Smith\r\nActionID: g\r\n\r\n",
            "Event: DBGetComplete\r\nActionID: g\r\nEventList: Complete\r\nListItems: 1\r\n\r\n",
            "Response: Error\r\nMessage: Database entry not found\r\n\r\n",
        ])
    }

    @Test func globalGetvarSetvarAndUserEvent() async throws {
        let f = try SessionFixture()
        let watch = f.bus.subscribe(label: "test")
        await f.login()
        await f.send([("Action", "Getvar"), ("Variable", "GREETING"), ("ActionID", "gv")])
        await f.send([("Action", "Setvar"), ("Variable", "NIGHT"), ("Value", "1")])
        await f.send([("Action", "Getvar"), ("Variable", "NIGHT")])
        await f.send([("Action", "Getvar"), ("Variable", "UNSET")])
        await f.send([("Action", "UserEvent"), ("UserEvent", "CRMPop"), ("ActionID", "u"), ("Ticket", "42")])
        #expect(f.output.take() == [
            "Response: Success\r\nActionID: gv\r\nVariable: GREETING\r\nValue: hello\r\n\r\n",
            "Response: Success\r\nMessage: Variable Set\r\n\r\n",
            "Response: Success\r\nVariable: NIGHT\r\nValue: 1\r\n\r\n",
            "Response: Success\r\nVariable: UNSET\r\nValue: \r\n\r\n",
            "Response: Success\r\nActionID: u\r\nMessage: Event Sent\r\n\r\n",
        ])
        var names: [String] = []
        var userEvent: ManagerEvent?
        for await event in watch.events {
            names.append(event.name)
            if event.name == "UserEvent" { userEvent = event; break }
        }
        #expect(names == ["SuccessfulAuth", "VarSet", "UserEvent"])
        #expect(userEvent?.fields == [.init("UserEvent", "CRMPop"), .init("ActionID", "u"), .init("Ticket", "42")])
    }

    @Test func overlongInputClosesWithAnError() async throws {
        let f = try SessionFixture()
        #expect(await f.session.handle(.lineTooLong) == .close)
        #expect(f.output.texts == ["Response: Error\r\nMessage: Failed to parse message: line too long\r\n\r\n"])
    }

    @Test func logoffSaysGoodbyeAndCloses() async throws {
        let f = try SessionFixture()
        await f.login()
        #expect(await f.send([("Action", "Logoff"), ("ActionID", "bye")]) == .close)
        #expect(f.output.texts == ["Response: Goodbye\r\nActionID: bye\r\nMessage: Thanks for all the fish.\r\n\r\n"])
    }

    @Test func waitEventReturnsAfterTheNextEventOrTheTimeout() async throws {
        let f = try SessionFixture()
        await f.login()
        await f.send([("Action", "WaitEvent"), ("Timeout", "0"), ("ActionID", "w0")])
        #expect(f.output.take() == [
            "Response: Success\r\nActionID: w0\r\nMessage: Waiting for Event completed.\r\n\r\n",
            "Event: WaitEventComplete\r\nActionID: w0\r\n\r\n",
        ])
        async let waited = f.send([("Action", "WaitEvent"), ("Timeout", "30")])
        try await Task.sleep(for: .milliseconds(60))
        #expect(f.output.texts.isEmpty)
        f.session.deliver(ManagerEvent(name: "Newchannel", class: .call, fields: []))
        _ = await waited
        #expect(f.output.take().map { $0.split(separator: "\r\n").first! } == ["Event: Newchannel", "Response: Success", "Event: WaitEventComplete"])
    }

    @Test func timestampEventsAddsTimestampAfterPrivilege() async throws {
        let f = try SessionFixture()
        var config = f.context.config
        config.timestampEvents = true
        f.context.replaceConfig(config)
        await f.login()
        f.session.deliver(ManagerEvent(name: "Newchannel", class: .call, fields: [.init("Channel", "SIP/1-1")], timestamp: 1795306806.723658))
        #expect(f.output.take() == ["Event: Newchannel\r\nPrivilege: call,all\r\nTimestamp: 1795306806.723658\r\nChannel: SIP/1-1\r\n\r\n"])
    }

    @Test func reloadRunsTheNamedModuleAndPublishesReload() async throws {
        let reloads = NIOLockedValueBox(0)
        let f = try SessionFixture(modules: [
            ReloadableModule(name: "manager") { reloads.withLockedValue { $0 += 1 }; return nil },
            ReloadableModule(name: "broken") { "manager.conf:3: bad value" },
        ])
        let watch = f.bus.subscribe(label: "test")
        await f.login()
        await f.send([("Action", "Reload"), ("Module", "manager")])
        await f.send([("Action", "Reload"), ("Module", "chan_nothing.so")])
        await f.send([("Action", "Reload"), ("Module", "broken")])
        #expect(f.output.take() == [
            "Response: Success\r\nMessage: Module Reloaded\r\n\r\n", "Response: Error\r\nMessage: No such module\r\n\r\n",
            "Response: Error\r\nMessage: An unknown error occurred\r\n\r\n",
        ])
        #expect(reloads.withLockedValue { $0 } == 1)
        var statuses: [String] = []
        for await event in watch.events where event.name == "Reload" {
            statuses.append("\(event["Module"] ?? "") \(event["Status"] ?? "")")
            if statuses.count == 2 { break }
        }
        #expect(statuses == ["manager 0", "broken 3"])
    }

    @Test func lineBreaksInValuesAreEscaped() {
        let text = AMIMessage.event(ManagerEvent(name: "UserEvent", class: .user, fields: [.init("Note", "a\r\nb")]), timestamp: false).text
        #expect(text == "Event: UserEvent\r\nPrivilege: user,all\r\nNote: a\\r\\nb\r\n\r\n")
    }
}

/// Events an action causes follow its reply.
@Suite struct HeldEventTests {
    @Test func userEventComesAfterItsReply() async throws {
        let f = try SessionFixture()
        await f.login()
        let pump = Task {
            let subscription = f.bus.subscribe(label: "pump")
            for await event in subscription.events where event.name == "UserEvent" {
                f.session.deliver(event)
                return
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        f.context.actions.register(ManagerAction(name: "SlowUserEvent", authority: []) { request in
            f.bus.publish(ManagerEvent(name: "UserEvent", class: .user, fields: [.init("ActionID", request["ActionID"] ?? "")]))
            try? await Task.sleep(for: .milliseconds(50))
            return .success(message: "Event Sent")
        })
        await f.send([("Action", "SlowUserEvent"), ("ActionID", "u1")])
        await pump.value
        #expect(f.output.take().map { $0.split(separator: "\r\n").first! } == ["Response: Success", "Event: UserEvent"])
    }
}
