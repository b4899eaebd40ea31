import Foundation
import Testing
@testable import AGI

/// `AGI()` itself: reaching servers and scripts, and AGISTATUS. Serialized: a script written
/// while another test spawns a process can be held open by that child ("text file busy").
@Suite(.serialized) struct AGIApplicationTests {
    /// A directory with executable shell scripts.
    private func scripts(_ files: [String: String]) throws -> String {
        let directory = NSTemporaryDirectory() + "agi-bin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, body) in files {
            let path = directory + "/" + name
            try body.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        return directory
    }

    @Test func statusTellsUnreachableMissingFailingAndGoodScriptsApart() async throws {
        let directory = try scripts([
            // Reads the environment, sets a variable from its first argument, exits 0.
            "good.sh": """
                #!/bin/sh
                while read line && [ -n "$line" ]; do :; done
                echo "SET VARIABLE FROMSCRIPT $1"
                read reply
                """,
            "fails.sh": "#!/bin/sh\nexit 3\n",
            "notexec.sh": "",
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/notexec.sh")
        let dialplan = """
            [default]
            exten => s,1,AGI(agi://127.0.0.1:1/nobody-listens)
             same => n,Probe(${AGISTATUS})
             same => n,AGI(no-such-script)
             same => n,Probe(${AGISTATUS})
             same => n,AGI(fails.sh)
             same => n,Probe(${AGISTATUS})
             same => n,AGI(notexec.sh)
             same => n,Probe(${AGISTATUS})
             same => n,AGI(hagi://service)
             same => n,Probe(${AGISTATUS})
             same => n,AGI(good.sh,hello)
             same => n,Probe(${AGISTATUS} ${FROMSCRIPT})
            """
        let run = try await runAGI(
            dialplan, transport: ScriptedTransport([]), channel: AGIFakeChannel(), settings: testSettings(agiDirectory: directory))
        #expect(run.probes == ["FAILURE", "NOTFOUND", "FAILURE", "FAILURE", "FAILURE", "SUCCESS hello"])
    }

    @Test func scriptThatLingersAfterClosingItsOutputDoesNotHoldTheChannel() async throws {
        let directory = try scripts([
            "lingers.sh": "#!/bin/sh\nwhile read line && [ -n \"$line\" ]; do :; done\nexec >/dev/null\nsleep 8\n",
        ])
        let dialplan = """
            [default]
            exten => s,1,AGI(lingers.sh)
             same => n,Probe(${AGISTATUS})
            """
        let started = ContinuousClock.now
        let run = try await runAGI(
            dialplan, transport: ScriptedTransport([]), channel: AGIFakeChannel(), settings: testSettings(agiDirectory: directory))
        #expect(run.probes == ["SUCCESS"])
        let waited = ContinuousClock.now - started
        #expect(waited >= AGIProgram.exitGrace && waited < .seconds(7))
    }

    @Test func localScriptIsSignalledWhenTheCallerHangsUp() async throws {
        // The script plays a prompt during which the caller hangs up, then waits for SIGHUP and
        // reports it with a dead-safe command before exiting.
        let directory = try scripts([
            "hup.sh": """
                #!/bin/sh
                trap 'echo "SET VARIABLE GOTHUP yes"; read r; exit 0' HUP
                while read line && [ -n "$line" ]; do :; done
                echo 'STREAM FILE demo-congrats ""'
                read reply
                sleep 5 >/dev/null </dev/null & wait
                """,
        ])
        let dialplan = """
            [default]
            exten => s,1,AGI(hup.sh)
            exten => h,1,Probe(${AGISTATUS} ${GOTHUP})
            """
        let started = ContinuousClock.now
        let run = try await runAGI(
            dialplan, transport: ScriptedTransport([]), channel: AGIFakeChannel(hangUpDuring: ["demo-congrats"]),
            settings: testSettings(agiDirectory: directory))
        #expect(run.probes == ["HANGUP yes"])
        #expect(ContinuousClock.now - started < .seconds(4), "the script was not signalled")
    }
}
