import ArgumentParser
import Foundation
import Logging

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

    func run() async throws {
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
        try await server.run()
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
