import Dialplan
import Foundation
import Logging
import NIOCore
import PBXCore
import RTPMedia

/// What the AGI application needs from pbxd.
public struct AGISettings: Sendable {
    /// Event loops for the FastAGI sockets and script pipes.
    public var group: any EventLoopGroup
    /// Where relative script names are found (Asterisk's `astagidir`).
    public var agiDirectory: String
    /// Where RECORD FILE puts relative names.
    public var recordingsDirectory: String
    /// The prompts, to report STREAM FILE's `endpos` of a file played to its end.
    public var sounds: SoundLibrary
    /// `agi_version`.
    public var version: String
    /// Where `AGIExecStart`/`AGIExecEnd` go (none: not published).
    public var events: EventBus?
    /// How long a FastAGI server may take to accept (res_agi: `MAX_AGI_CONNECT`, 2 s).
    public var connectTimeout: Duration

    public init(
        group: any EventLoopGroup, agiDirectory: String, recordingsDirectory: String, sounds: SoundLibrary,
        version: String, events: EventBus? = nil, connectTimeout: Duration = .seconds(2)
    ) {
        self.group = group
        self.agiDirectory = agiDirectory
        self.recordingsDirectory = recordingsDirectory
        self.sounds = sounds
        self.version = version
        self.events = events
        self.connectTimeout = connectTimeout
    }
}

/// `AGI(command[,arg1[,arg2...]])` (res_agi): runs a FastAGI session (`agi://host[:port]/script`)
/// or a local script (a path, relative to the AGI directory) against the channel, then sets
/// `AGISTATUS`: SUCCESS (the script ended), FAILURE (it could not be reached or started, or
/// exited non-zero), NOTFOUND (no such script) or HANGUP (the channel hung up; the dialplan then
/// stops, and `h` runs). `SET CONTEXT`/`EXTENSION`/`PRIORITY` and a Goto run by EXEC decide where
/// the dialplan goes on. `hagi://` (SRV lookup) and `agi:async` (AsyncAGI over AMI) are not
/// supported: they set FAILURE with a log line.
public enum AGIApplication {
    public static func application(settings: AGISettings) -> Application {
        Application(name: "AGI") { execution, data in
            let arguments = ArgumentSplitter.split(data)
            let command = arguments[0].trimmingCharacters(in: .whitespaces)
            guard !command.isEmpty else {
                execution.logger.warning("AGI requires an argument (script)", metadata: ["location": "\(execution.location)"])
                return .hangup(nil)
            }
            let status = await run(command, arguments: Array(arguments.dropFirst()), execution: execution, settings: settings)
            execution.setVariable("AGISTATUS", status.rawValue)
            if status == .hangup { return .hangup(nil) }
            return .proceed
        }
    }

    /// Registers AGI into a registry.
    public static func register(into registry: inout ApplicationRegistry, settings: AGISettings) {
        registry.register(application(settings: settings))
    }

    enum Status: String {
        case success = "SUCCESS"
        case failure = "FAILURE"
        case notFound = "NOTFOUND"
        case hangup = "HANGUP"
    }

    static func run(_ command: String, arguments: [String], execution: ChannelExecution, settings: AGISettings) async -> Status {
        let context = AGICommandContext(execution: execution, settings: settings)
        let logger = execution.logger
        let lowered = command.lowercased()
        if lowered.hasPrefix("hagi://") || lowered.hasPrefix("agi:async") {
            logger.warning("AGI: \(command) is not supported (only agi:// and local scripts)")
            return .failure
        }
        let outcome: AGISession.Outcome
        var exitCode: Int32 = 0
        if lowered.hasPrefix("agi://") {
            guard let address = FastAGIAddress(url: command) else {
                logger.warning("AGI: cannot read the FastAGI URL '\(command)'")
                return .failure
            }
            let transport: AGIChannelTransport
            do {
                transport = try await FastAGIConnector.connect(
                    to: address, group: settings.group, timeout: settings.connectTimeout, logger: logger)
            } catch {
                logger.warning("AGI: FastAGI server \(address.host):\(address.port) unreachable: \(error)")
                return .failure
            }
            let request = AGIEnvironment.Request(
                request: command, networkScript: address.script, arguments: arguments, version: settings.version)
            let session = AGISession(transport: transport, context: context, commands: .standard) {
                try? await transport.send("HANGUP\n")
            }
            outcome = await session.run(environment: await AGIEnvironment.block(request, execution: execution))
        } else {
            let path = AGIProgramLauncher.resolve(command, directory: settings.agiDirectory)
            let program: AGIProgram
            do {
                program = try await AGIProgramLauncher.launch(path: path, arguments: arguments, group: settings.group, logger: logger)
            } catch AGILaunchError.notFound(let missing) {
                logger.warning("AGI: script \(missing) not found")
                return .notFound
            } catch {
                logger.warning("AGI: \(error)")
                return .failure
            }
            let request = AGIEnvironment.Request(request: command, networkScript: nil, arguments: arguments, version: settings.version)
            let session = AGISession(transport: program.transport, context: context, commands: .standard) {
                program.signalHangup()
            }
            outcome = await session.run(environment: await AGIEnvironment.block(request, execution: execution))
            if let status = await program.exitStatusAfterClose() {
                exitCode = status
                if status != 0 { logger.notice("AGI script \(path) exited with status \(status)") }
            } else {
                logger.notice("AGI script \(path) closed its output but is still running; not waiting for it")
            }
        }
        if outcome.hungUp { return .hangup }
        do {
            try await context.applyContinuation()
        } catch {
            logger.warning("AGI: cannot continue where the script asked: \(error)")
        }
        return exitCode == 0 ? .success : .failure
    }
}
