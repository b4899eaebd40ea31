import Dialplan
import Foundation
import PBXCore
import Testing
@testable import ACD

/// Prompts, `queue show`, and the manager actions' replies.
@Suite struct QueueSurfacesTests {
    @Test func positionAndHoldTimePrompts() {
        var settings = QueueSettings(name: "600")
        #expect(QueuePrompts.position(1, holdTime: 0, settings: settings, includeHoldTime: false) == ["queue-youarenext", "queue-thankyou"])
        #expect(QueuePrompts.position(3, holdTime: 150, settings: settings, includeHoldTime: true) == [
            "queue-thereare", "digits/3", "queue-callswaiting", "queue-holdtime", "digits/3", "queue-minutes", "queue-thankyou",
        ])
        #expect(QueuePrompts.position(2, holdTime: 40, settings: settings, includeHoldTime: true)?.contains("queue-less-than") == true)
        settings.announcePosition = .limit
        settings.announcePositionLimit = 2
        #expect(QueuePrompts.position(3, holdTime: 0, settings: settings, includeHoldTime: false) == nil)
        #expect(QueuePrompts.agentID(prompt: "agent-id", number: "811") == ["agent-id", "digits/8", "digits/1", "digits/1"])
        #expect(QueuePrompts.number(115) == ["digits/1", "digits/hundred", "digits/15"])
        settings.announce = "queue-sales"
        settings.reportHoldTime = true
        #expect(QueuePrompts.toAgent(settings: settings, holdTime: 125) == ["queue-sales", "queue-reporthold", "digits/2", "queue-minutes"])
    }

    @Test func queueShowHasAsterisksLayout() async throws {
        let f = try EngineFixture("[600]\nstrategy = leastrecent\nringinuse = no\nmember => SIP/811,0,Agent 811\nmember => SIP/812,1\n")
        await f.engine.deviceStateChanged("SIP/812", to: .unavailable)
        _ = await f.engine.setPaused(true, interface: "SIP/811", queue: "600", reason: "Lunch")
        _ = try await f.join(1)
        f.clock.advance(18)
        let result = await QueueShowCommand.command(f.engine).handler(["600"])
        #expect(result.lines == [
            "600 has 1 calls (max unlimited) in 'leastrecent' strategy (0s holdtime, 0s talktime), W:0, C:0, A:0, SL:0.0%, SL2:0.0% within 0s",
            "   Members: ",
            "      Agent 811 (SIP/811) (ringinuse disabled) (paused:Lunch was 18 secs ago) (Unknown) has taken no calls yet (login was 18 secs ago)",
            "      SIP/812 with penalty 1 (ringinuse disabled) (Unavailable) has taken no calls yet (login was 18 secs ago)",
            "   Callers: ",
            "      1. SIP/1001-00000001 (wait: 0:18, prio: 0)",
            "",
        ])
        #expect(await QueueShowCommand.command(f.engine).handler(["999"]) == .failure("No such queue: 999."))
    }

    @Test func memberCommandsOnTheConsole() async throws {
        let f = try EngineFixture("[600]\nmember => SIP/811\n")
        let registry = CLICommandRegistry()
        var applications = ApplicationRegistry()
        var functions = FunctionRegistry()
        ACD.register(engine: f.engine, musicOnHold: MusicOnHoldConfig(), queueLog: nil, applications: &applications, functions: &functions,
                     managerActions: nil, commands: registry)
        #expect(applications["Queue"] != nil && functions["QUEUE_MEMBER"] != nil)
        #expect(await registry.run("queue add member SIP/1002 to 600 penalty 2 as Bob").lines == ["Added interface 'SIP/1002' to queue '600'"])
        #expect(await registry.run("queue add member SIP/1002 to 600") == .failure("Unable to add interface 'SIP/1002' to queue '600': Already there"))
        #expect(await registry.run("queue pause member SIP/1002 queue 600 reason lunch").lines == ["paused interface 'SIP/1002' in queue '600' for reason 'lunch'"])
        #expect(await registry.run("queue unpause member SIP/1002").lines == ["unpaused interface 'SIP/1002'"])
        #expect(await registry.run("queue remove member SIP/811 from 600") == .failure("Unable to remove interface 'SIP/811' from queue '600': Member not dynamic"))
        #expect(await registry.run("queue remove member SIP/1002 from 600").lines == ["Removed interface SIP/1002 from queue '600'"])
        #expect(await registry.run("queue add member SIP/1003 600").succeeded == false)
        #expect(f.log.lines.first == "1795306651|CLI|600|Bob|ADDMEMBER|")
    }

    @Test func managerActionsAnswerAsAsterisk() async throws {
        let f = try EngineFixture("[600]\nmember => SIP/811\n")
        let registry = ManagerActionRegistry()
        QueueManagerActions.register(into: registry, engine: f.engine, queueLog: f.log, clock: f.clock.read)
        func run(_ headers: [(String, String)]) async throws -> ManagerReply {
            let request = ManagerRequest(headers: headers.map { ManagerEvent.Field($0.0, $0.1) })
            return await try #require(registry.action(named: request.action)).handler(request)
        }
        guard case .success(let added, _) = try await run([("Action", "QueueAdd"), ("Queue", "600"), ("Interface", "SIP/1002"), ("Paused", "true")]) else {
            Issue.record("QueueAdd failed"); return
        }
        #expect(added == "Added interface to queue")
        guard case .error(let again) = try await run([("Action", "QueueAdd"), ("Queue", "600"), ("Interface", "SIP/1002")]) else {
            Issue.record("QueueAdd accepted a duplicate"); return
        }
        #expect(again == "Unable to add interface: Already there")
        guard case .error(let staticMember) = try await run([("Action", "QueueRemove"), ("Queue", "600"), ("Interface", "SIP/811")]) else {
            Issue.record("QueueRemove removed a static member"); return
        }
        #expect(staticMember == "Member not dynamic")
        guard case .list(let message, let items, let complete, _) = try await run([("Action", "QueueStatus")]) else {
            Issue.record("QueueStatus is no list"); return
        }
        #expect(message == "Queue status will follow" && complete == "QueueStatusComplete")
        #expect(items.map(\.name) == ["QueueParams", "QueueMember", "QueueMember"])
        #expect(items[2]["Location"] == "SIP/1002" && items[2]["Paused"] == "1" && items[2]["Membership"] == "dynamic")
        #expect(items[0].fields.map(\.key) == ["Queue", "Max", "Strategy", "Calls", "Holdtime", "TalkTime", "Completed", "Abandoned",
                                               "ServiceLevel", "ServicelevelPerf", "ServicelevelPerf2", "Weight"])
        guard case .error(let notInWrapup) = try await run([("Action", "QueueWrapupEnd"), ("Interface", "SIP/811")]) else {
            Issue.record("QueueWrapupEnd ended a wrap-up that wasn't there"); return
        }
        #expect(notInWrapup == "Interface not in wrap-up")
        _ = try await run([("Action", "QueueLog"), ("Queue", "600"), ("Event", "CUSTOM"), ("Message", "a|b")])
        #expect(f.log.lines.last == "1795306651|NONE|600|NONE|CUSTOM|a|b")
        #expect(f.log.lines.first == "1795306651|MANAGER|600|SIP/1002|ADDMEMBER|PAUSED")
    }
}
