import Dialplan
import Logging
import NIOCore
import PBXCore

/// The core console commands, with Asterisk's names: `core show help`, `core show version`,
/// `reload` and `core show channels`.
enum CoreCommands {
    static func register(into registry: CLICommandRegistry, dialplan: LiveDialplan, driver: SIPChannelDriver, logger: Logger) {
        registry.register(
            CLICommand("core show help", summary: "Display help list, or specific help on a command") { arguments in
                let prefix = arguments.map { $0.lowercased() }
                let lines = registry.help.filter { $0.lowercased().split(separator: " ").map(String.init).starts(with: prefix) }
                return lines.isEmpty
                    ? .failure("No such command '\(arguments.joined(separator: " "))'.") : CLIResult(lines: lines)
            })
        registry.register(
            CLICommand("core show version", summary: "Display version info") { _ in
                CLIResult(lines: ["pbxd \(PBXDCommand.version)"])
            })
        // Everything that can be reloaded today is the dialplan; sip.conf and the rest follow.
        registry.register(
            CLICommand("reload", summary: "Reload configuration (for now: extensions.conf)") { _ in
                dialplan.reloadCommand(logger: logger)
            })
        registry.register(
            CLICommand("core show channels", summary: "Display information on channels") { _ in
                await channelTable(driver: driver, dialplan: dialplan.executor.dialplan)
            })
    }

    /// Asterisk's `core show channels` table: name, `exten@context:priority`, state, and the
    /// application at that priority with its arguments as written (Asterisk shows them
    /// substituted; pbxd keeps no per-channel copy of the substituted text).
    static func channelTable(driver: SIPChannelDriver, dialplan: Dialplan) async -> CLIResult {
        let channels = (try? await driver.eventLoop.submit { driver.liveChannels }.get()) ?? []
        var snapshots: [ChannelSnapshot] = []
        for channel in channels { snapshots.append(await channel.snapshot) }
        snapshots.sort { $0.name < $1.name }
        func column(_ text: String, _ width: Int) -> String {
            String(text.prefix(width)).padding(toLength: width, withPad: " ", startingAt: 0)
        }
        func row(_ fields: [String]) -> String {
            zip(fields, [20, 20, 7, 30]).map { column($0, $1) }.joined(separator: " ")
        }
        var lines = [row(["Channel", "Location", "State", "Application(Data)"])]
        for snapshot in snapshots {
            var location = "(None)"
            var application = "(None)"
            if !snapshot.context.isEmpty {
                location = "\(snapshot.exten)@\(snapshot.context):\(snapshot.priority)"
                if let step = dialplan.findPriority(context: snapshot.context, exten: snapshot.exten, priority: snapshot.priority)
                {
                    application = "\(step.application)(\(step.arguments))"
                }
            }
            lines.append(row([snapshot.name, location, snapshot.state.description, application]))
        }
        let calls = Set(snapshots.map(\.linkedID)).count
        lines.append("\(snapshots.count) active channel\(snapshots.count == 1 ? "" : "s")")
        lines.append("\(calls) active call\(calls == 1 ? "" : "s")")
        return CLIResult(lines: lines)
    }
}
