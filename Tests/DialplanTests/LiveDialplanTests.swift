import Foundation
import PBXCore
import Testing
@testable import Dialplan

/// `dialplan reload`: a good file swaps in whole, a broken one changes nothing and says where,
/// a call already running keeps its dialplan; and the console commands around it.
@Suite struct LiveDialplanTests {
    static let original = """
        [globals]
        GREETING=hello
        [internal]
        exten => 100,1,NoOp(old)
        """

    /// A LiveDialplan over a temporary extensions.conf holding `text`.
    final class Fixture: Sendable {
        let directory: URL
        let path: String
        let live: LiveDialplan
        let log = LogCapture()

        init(_ text: String = LiveDialplanTests.original) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("pbxd-reload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("extensions.conf").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let executor = DialplanExecutor(
                dialplan: try Dialplan.load(path: path).dialplan, dialer: FakeDialer(), logger: log.logger)
            live = LiveDialplan(executor: executor, path: path)
        }

        func write(_ text: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }

        func console() -> CLICommandRegistry {
            let registry = CLICommandRegistry()
            live.registerCommands(into: registry, logger: log.logger)
            return registry
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func aGoodFileIsSwappedInAndARunningCallKeepsItsDialplan() throws {
        let fixture = try Fixture()
        let running = fixture.live.executor
        try fixture.write(
            """
            [internal]
            exten => 200,1,NoOp(new)
            """)
        let reload = try fixture.live.reload().get()
        #expect(reload.contexts == 1 && reload.extensions == 1 && reload.priorities == 1)
        #expect(fixture.live.executor.hasExtension(context: "internal", exten: "200", callerID: nil))
        #expect(!fixture.live.executor.hasExtension(context: "internal", exten: "100", callerID: nil))
        // The executor a call started with is a value: the reload did not change it.
        #expect(running.hasExtension(context: "internal", exten: "100", callerID: nil))
        #expect(!running.hasExtension(context: "internal", exten: "200", callerID: nil))
    }

    @Test func aBrokenFileKeepsTheOldDialplanAndSaysWhere() throws {
        let fixture = try Fixture()
        try fixture.write(
            """
            [internal]
            exten => 200,1,NoOp(new)
             same => n,Answer()
            exten => 300
            """)
        guard case .failure(let error) = fixture.live.reload() else {
            Issue.record("a file with a missing priority reloaded")
            return
        }
        #expect(error.location?.line == 4)
        #expect(error.description.hasPrefix(fixture.path + ":4: missing priority"))
        #expect(fixture.live.executor.hasExtension(context: "internal", exten: "100", callerID: nil))
        #expect(!fixture.live.executor.hasExtension(context: "internal", exten: "200", callerID: nil))
    }

    @Test func fileGlobalsAreRewrittenAndRuntimeGlobalsStay() throws {
        let fixture = try Fixture()
        let globals = fixture.live.executor.globals
        globals["SET_AT_RUNTIME"] = "yes"
        globals["GREETING"] = "changed by a call"
        try fixture.write(
            """
            [globals]
            GREETING=welcome
            HOURS=08:00-18:00
            [internal]
            exten => 100,1,NoOp()
            """)
        _ = try fixture.live.reload().get()
        #expect(fixture.live.executor.globals["GREETING"] == "welcome")
        #expect(fixture.live.executor.globals["HOURS"] == "08:00-18:00")
        #expect(fixture.live.executor.globals["SET_AT_RUNTIME"] == "yes")
        #expect(fixture.live.executor.globals === globals)
    }

    @Test func unknownApplicationsWarnWithTheirLine() throws {
        let fixture = try Fixture()
        try fixture.write(
            """
            [internal]
            exten => 100,1,NoOp()
             same => n,NoSuchApp(x)
            """)
        let reload = try fixture.live.reload().get()
        #expect(reload.warnings == ["\(fixture.path):3: no application 'NoSuchApp'; a call reaching it hangs up"])
    }

    @Test func dialplanReloadCommandAnswersAndLogs() async throws {
        let fixture = try Fixture()
        let console = fixture.console()
        try fixture.write("[internal]\nexten => 200,1,NoOp()\n same => n,Hangup()\n")
        let good = await console.run("dialplan reload")
        #expect(good == CLIResult(lines: ["Dialplan reloaded: 1 contexts, 1 extensions, 2 priorities."]))

        try fixture.write("[internal]\n same => n,Hangup()\n")
        let bad = await console.run("Dialplan Reload")
        #expect(!bad.succeeded)
        #expect(
            bad.lines == [
                "Dialplan reload failed: \(fixture.path):2: 'same =>' without a preceding 'exten =>' in context 'internal' (the running dialplan is kept)"
            ])
        #expect(
            fixture.log.messages.contains {
                $0.hasPrefix("Dialplan reload failed, keeping the running dialplan: \(fixture.path):2:")
            })
        #expect(fixture.live.executor.hasExtension(context: "internal", exten: "200", callerID: nil))
    }

    @Test func dialplanShowListsAContextAsAsteriskDoes() async throws {
        let fixture = try Fixture(
            """
            [internal]
            include => ivr
            exten => 1001,hint,SIP/1001
            exten => 1001,1,Dial(SIP/1001,20)
             same => n(done),Hangup()
            [ivr]
            exten => s,1,Answer()
            """)
        let console = fixture.console()
        let shown = await console.run("dialplan show internal")
        #expect(shown.succeeded)
        #expect(
            shown.lines == [
                "[ Context 'internal' created by 'pbx_config' ]",
                "  '1001' =>         hint: SIP/1001                                [extensions.conf:3]",
                "                    1. Dial(SIP/1001,20)                          [extensions.conf:4]",
                "  [done]            2. Hangup()                                   [extensions.conf:5]",
                "  Include =>        'ivr'                                         [extensions.conf:2]",
                "",
                "-= 1 extension (3 priorities) in 1 context. =-",
            ])
        let all = await console.run("dialplan show")
        #expect(
            all.lines.filter { $0.hasPrefix("[ Context") } == [
                "[ Context 'internal' created by 'pbx_config' ]", "[ Context 'ivr' created by 'pbx_config' ]",
            ])
        #expect(all.lines.last == "-= 2 extensions (4 priorities) in 2 contexts. =-")
        let matched = await console.run("dialplan show s@internal")
        #expect(matched.lines.first == "[ Context 'ivr' created by 'pbx_config' ]")
        #expect(matched.lines.last == "-= 1 extension matched. =-")
        #expect(await console.run("dialplan show nowhere") == .failure("There is no existence of 'nowhere' context"))
        #expect(await console.run("dialplan show a b") == .failure("Usage: dialplan show [[exten@]context]"))
    }

    @Test func registryPicksTheLongestCommandAndRefusesUnknownOnes() async {
        let registry = CLICommandRegistry()
        registry.register(CLICommand("core show", summary: "short") { args in CLIResult(lines: ["short \(args)"]) })
        registry.register(CLICommand("core show channels", summary: "long") { args in CLIResult(lines: ["long \(args)"]) })
        #expect(await registry.run("core show channels concise") == CLIResult(lines: ["long [\"concise\"]"]))
        #expect(await registry.run("CORE  show version") == CLIResult(lines: ["short [\"version\"]"]))
        let unknown = await registry.run("sip show peers")
        #expect(!unknown.succeeded)
        #expect(unknown.lines == ["No such command 'sip show peers' (type 'core show help sip' for other possible commands)"])
        #expect(registry.help.map { $0.split(separator: " ").first.map(String.init) } == ["core", "core"])
    }
}
