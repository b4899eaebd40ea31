import ArgumentParser
import Foundation
import Logging
import PBXCore

/// `pbxd`: runs the switch in the foreground until SIGTERM/SIGINT.
@main
struct PBXDCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pbxd",
        abstract: "A SIP softswitch for call centers, compatible with Asterisk's configuration.",
        version: version
    )

    @Option(name: .long, help: "Directory with sip.conf, extensions.conf, rtp.conf and pbxd.conf.")
    var configDir: String = "conf"

    @Option(name: .long, help: "Directory for registrations and other state that survives a restart.")
    var dataDir: String?

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Option(name: [.customLong("rx", withSingleDash: true), .customLong("rx")],
            help: ArgumentHelp("Run one console command on the running pbxd (e.g. \"dialplan reload\") and exit.",
                               valueName: "command"))
    var remoteCommand: String?

    func run() async throws {
        if let remoteCommand {
            try await runRemote(remoteCommand)
            return
        }
        let level = try parseLogLevel()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pbxd")
        let server: PBXServer
        do {
            server = try PBXServer.load(configDirectory: configDir, dataDirectory: dataDir, logger: logger)
        } catch {
            logger.critical("\(error.description)")
            throw ExitCode(78)
        }
        do {
            try await server.run()
        } catch let error as StartupError {
            logger.critical("\(error.description)")
            throw ExitCode(78)
        }
    }

    /// `-rx`: the running pbxd is found through its data directory (`--data-dir`, else pbxd.conf's
    /// `datadir` in `--config-dir`). Its output goes to stdout; a failed command or a pbxd that
    /// isn't running exits 1 with the reason on stderr.
    private func runRemote(_ command: String) async throws {
        let dataDirectory: String
        if let dataDir {
            dataDirectory = dataDir
        } else {
            let path = (configDir as NSString).appendingPathComponent("pbxd.conf")
            do {
                dataDirectory = FileManager.default.fileExists(atPath: path) ? try PBXDConfig.load(path: path).dataDirectory
                    : PBXDConfig().dataDirectory
            } catch {
                FileHandle.standardError.write(Data("pbxd: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
        }
        let result: CLIResult
        do {
            result = try await RemoteConsole.run(command, dataDirectory: dataDirectory)
        } catch {
            FileHandle.standardError.write(Data("pbxd: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        for line in result.lines { print(line) }
        if !result.succeeded { throw ExitCode(1) }
    }

    private func parseLogLevel() throws -> Logger.Level {
        guard let logLevel else { return .info }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("unknown log level '\(logLevel)' (use trace, debug, info, notice, warning, error or critical)")
        }
        return level
    }
}

/// A reason pbxd cannot start, already phrased for the operator (usually with file:line).
struct StartupError: Error, CustomStringConvertible {
    var description: String
}
