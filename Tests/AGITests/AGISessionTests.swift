import Foundation
import PBXCore
import Testing
@testable import AGI
@testable import Dialplan

/// Sessions driven by a scripted AGI client against a fake channel, checked against Asterisk
/// 18's captures (shared/reference/transcripts/agi-07*.txt).
@Suite struct AGISessionTests {
    static let dialplan = """
        [default]
        exten => s,1,TestAGI()
         same => n,Probe(after ${MYVAR})
        exten => h,1,Probe(h)
        """

    @Test func capturedSessionGivesAsterisksReplies() async throws {
        let channel = AGIFakeChannel()
        await channel.press("42")
        let transport = ScriptedTransport([
            "ANSWER", "STREAM FILE beep \"\"", "GET DATA beep 3000 2", "SET VARIABLE MYVAR \"hello world\"",
            "GET VARIABLE MYVAR", "GET VARIABLE CALLERID(num)", "GET VARIABLE NOSUCHVAR", "FOO BAR", "HANGUP",
        ])
        let run = try await runAGI(Self.dialplan, transport: transport, channel: channel)
        #expect(transport.replies == [
            "200 result=0",
            "200 result=0 endpos=2000",
            "200 result=42",
            "200 result=1",
            "200 result=1 (hello world)",
            "200 result=1 (1001)",
            "200 result=0",
            "510 Invalid or unknown command",
            "200 result=1",
            "HANGUP",
        ])
        #expect(run.outcome.hungUp)
        #expect(run.probes == ["h"])
    }

    @Test func environmentBlockHasAsterisksKeysInOrder() async throws {
        let transport = ScriptedTransport([])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: AGIFakeChannel())
        let block = transport.received
        #expect(block.hasSuffix("\n\n"))
        let lines = block.split(separator: "\n").map(String.init)
        #expect(lines.map { String($0.prefix { $0 != ":" }) } == [
            "agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language", "agi_type",
            "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname", "agi_callingpres", "agi_callingani2",
            "agi_callington", "agi_callingtns", "agi_dnid", "agi_rdnis", "agi_context", "agi_extension", "agi_priority",
            "agi_enhanced", "agi_accountcode", "agi_threadid",
        ])
        #expect(Array(lines[0..<15]) == [
            "agi_network: yes", "agi_network_script: test", "agi_request: agi://127.0.0.1/test",
            "agi_channel: SIP/1001-0000000c", "agi_language: en", "agi_type: SIP", "agi_uniqueid: 1795306812.12",
            "agi_version: 0.1.0", "agi_callerid: 1001", "agi_calleridname: User 1001", "agi_callingpres: 0",
            "agi_callingani2: 0", "agi_callington: 0", "agi_callingtns: 0", "agi_dnid: 520",
        ])
        #expect(Array(lines[15..<21]) == [
            "agi_rdnis: unknown", "agi_context: default", "agi_extension: s", "agi_priority: 1", "agi_enhanced: 0.0",
            "agi_accountcode: ",
        ])
    }

    @Test func hangupDuringStreamIsNotifiedThenDeadModeAllowsOnlyDeadSafeCommands() async throws {
        let channel = AGIFakeChannel(hangUpDuring: ["demo-congrats"])
        let transport = ScriptedTransport([
            "ANSWER", "STREAM FILE demo-congrats \"#\"", "SET VARIABLE X 1", "GET VARIABLE X", "SAY DIGITS 123 \"\"",
            "CHANNEL STATUS", "NOOP done",
        ])
        let run = try await runAGI(Self.dialplan, transport: transport, channel: channel)
        let replies = transport.replies
        #expect(replies.count == 8)
        #expect(replies.first == "200 result=0")
        #expect(replies[1].hasPrefix("200 result=-1 endpos="))
        #expect(Array(replies.dropFirst(2)) == [
            "HANGUP",
            "200 result=1",
            "200 result=1 (1)",
            "511 Command Not Permitted on a dead channel or intercept routine",
            "511 Command Not Permitted on a dead channel or intercept routine",
            "200 result=0",
        ])
        #expect(run.outcome.hungUp)
        // The dialplan stopped at the hangup: no "after", but `h` ran.
        #expect(run.probes == ["h"])
    }

    @Test func hangupWhileTheScriptIsIdleIsNotifiedAtOnce() async throws {
        let channel = AGIFakeChannel()
        // The script answers, then waits; only pbxd's HANGUP line makes it go on.
        let transport = ScriptedTransport(["ANSWER"], closeWhen: "HANGUP\n", thenSend: ["NOOP after", "ANSWER"])
        channel.hangUp(after: .milliseconds(100))
        let run = try await runAGI(Self.dialplan, transport: transport, channel: channel)
        #expect(transport.replies == [
            "200 result=0", "HANGUP", "200 result=0", "511 Command Not Permitted on a dead channel or intercept routine",
        ])
        #expect(run.outcome.hungUp)
        #expect(run.probes == ["h"])
    }

    @Test func exitOnHangupEndsTheSessionWithoutWaitingForTheScript() async throws {
        let dialplan = """
            [default]
            exten => s,1,Set(AGIEXITONHANGUP=yes)
             same => n,TestAGI()
            exten => h,1,Probe(h)
            """
        let channel = AGIFakeChannel()
        // This script never closes its end.
        let transport = ScriptedTransport(["ANSWER"], closeWhen: "never")
        channel.hangUp(after: .milliseconds(100))
        let run = try await runAGI(dialplan, transport: transport, channel: channel)
        #expect(transport.replies == ["200 result=0", "HANGUP"])
        #expect(run.outcome.hungUp && run.probes == ["h"])
    }

    @Test func digitStopsStreamFileWithItsCode() async throws {
        let channel = AGIFakeChannel()
        await channel.press("#")
        let transport = ScriptedTransport(["STREAM FILE beep \"#5\"", "GET VARIABLE PLAYBACKSTATUS", "STREAM FILE no-such-prompt \"\""])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: channel)
        #expect(transport.replies.count == 3)
        #expect(transport.replies[0].hasPrefix("200 result=35 endpos="))
        #expect(transport.replies[1] == "200 result=1 (FAILED)")
        #expect(transport.replies[2] == "200 result=-1 endpos=0")
    }

    @Test func getDataStopsAtPoundAndReportsTimeoutWithDigitsSoFar() async throws {
        let channel = AGIFakeChannel()
        await channel.press("12#7")
        let transport = ScriptedTransport(["GET DATA beep 100", "GET DATA beep 100 5", "WAIT FOR DIGIT 100", "SAY NUMBER 15 \"\""])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: channel)
        #expect(transport.replies == ["200 result=12", "200 result=7 (timeout)", "200 result=0", "200 result=0"])
        #expect(await channel.played.last == ["digits/15"])
    }

    @Test func setContextExtensionPriorityChooseWhereTheDialplanGoesOn() async throws {
        let dialplan = """
            [default]
            exten => s,1,TestAGI()
             same => n,Probe(not here)
            [other]
            exten => 7,1,Probe(wrong priority)
             same => n(there),Probe(at 7 there ${X})
            """
        let transport = ScriptedTransport(["SET CONTEXT other", "SET EXTENSION 7", "SET PRIORITY there", "SET VARIABLE X y"])
        let run = try await runAGI(dialplan, transport: transport, channel: AGIFakeChannel())
        #expect(transport.replies == ["200 result=0", "200 result=0", "200 result=0", "200 result=1"])
        #expect(run.probes == ["at 7 there y"])
    }

    @Test func unknownPriorityLabelAnswersUsage() async throws {
        let transport = ScriptedTransport(["SET PRIORITY nolabel", "WAIT FOR DIGIT", "NOOP"])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: AGIFakeChannel())
        #expect(transport.replies == [
            "520-Invalid command syntax.  Proper usage follows:", " Usage: SET PRIORITY <priority>", "520 End of proper usage.",
            "520-Invalid command syntax.  Proper usage follows:", " Usage: WAIT FOR DIGIT <timeout>", "520 End of proper usage.",
            "200 result=0",
        ])
    }

    @Test func execRunsApplicationsAndReportsMissingOnes() async throws {
        let dialplan = """
            [default]
            exten => s,1,TestAGI()
             same => n,Probe(not reached)
            exten => 9,1,Probe(jumped by Goto ${Y})
            """
        let transport = ScriptedTransport([
            "EXEC Set \"Y=${CALLERID(num)}\"", "GET VARIABLE Y", "EXEC NoSuchApp x", "EXEC Goto 9,1",
        ])
        let run = try await runAGI(dialplan, transport: transport, channel: AGIFakeChannel())
        // Options are not substituted without AGIEXECFULL=yes, as in Asterisk.
        #expect(transport.replies == ["200 result=0", "200 result=1 (${CALLERID(num)})", "200 result=-2", "200 result=0"])
        #expect(run.probes == ["jumped by Goto ${CALLERID(num)}"])
    }

    @Test func databaseCommandsUseTheAstDB() async throws {
        let database = InMemoryAstDB()
        let transport = ScriptedTransport([
            "DATABASE PUT cidname 5551234 \"John Smith\"", "DATABASE GET cidname 5551234", "DATABASE DEL cidname 5551234",
            "DATABASE GET cidname 5551234", "DATABASE PUT tree a/b 1", "DATABASE PUT tree a/c 2", "DATABASE PUT tree d 3",
            "DATABASE DELTREE tree a", "DATABASE GET tree d", "DATABASE GET tree a/b",
        ])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: AGIFakeChannel(), astDB: database)
        #expect(transport.replies == [
            "200 result=1", "200 result=1 (John Smith)", "200 result=1", "200 result=0", "200 result=1", "200 result=1",
            "200 result=1", "200 result=1", "200 result=1 (3)", "200 result=0",
        ])
    }

    @Test func recordFileReportsDigitAndEndPosition() async throws {
        let channel = AGIFakeChannel()
        await channel.press("#")
        let settings = testSettings()
        let transport = ScriptedTransport([
            "RECORD FILE msg wav \"#\" 5000 0 BEEP s=3", "RECORD FILE msg2 wav \"\" 5000", "RECORD FILE x gsm \"#\" 100",
        ])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: channel, settings: settings)
        #expect(transport.replies == [
            "200 result=35 (dtmf) endpos=4000", "200 result=0 (timeout) endpos=4000", "200 result=-1 (writefile)",
        ])
        let requests = await channel.recorded
        #expect(requests.first?.path == settings.recordingsDirectory + "/msg.wav")
        #expect(requests.first?.silence == .seconds(3))
        #expect(requests.first?.maxDuration == .milliseconds(5000))
        #expect(await channel.played.first == ["beep"])
    }

    @Test func execEventsBracketEveryCommand() async throws {
        let bus = EventBus()
        let subscription = bus.subscribe(label: "test")
        let transport = ScriptedTransport(["NOOP hi", "FOO"])
        _ = try await runAGI(Self.dialplan, transport: transport, channel: AGIFakeChannel(), settings: testSettings(events: bus))
        subscription.cancel()
        var events: [ManagerEvent] = []
        for await event in subscription.events { events.append(event) }
        #expect(events.map(\.name) == ["AGIExecStart", "AGIExecEnd", "AGIExecStart", "AGIExecEnd"])
        #expect(events.allSatisfy { $0.eventClass == .agi })
        #expect(events[0]["Channel"] == "SIP/1001-0000000c")
        #expect(events[0]["Command"] == "NOOP hi")
        #expect(events[0]["CommandId"] == events[1]["CommandId"])
        #expect(events[1].fields.suffix(4).map(\.key) == ["CommandId", "Command", "ResultCode", "Result"])
        #expect(events[1]["ResultCode"] == "200" && events[1]["Result"] == "Success")
        #expect(events[3]["ResultCode"] == "510" && events[3]["Result"] == "Invalid or unknown command")
    }
}
