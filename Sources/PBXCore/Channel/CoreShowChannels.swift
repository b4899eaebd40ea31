/// The console's `core show channels` (and AMI `Command` of it), with Asterisk's layout:
/// `%-64.64s %-32.32s %-7.7s %-30.30s` columns, then the channel, call and processed counts.
public enum CoreShowChannels {
    /// `core show channels [count]` over the live channels. `calls` gives the calls in the
    /// dialplan now and those started since boot (the dialplan's run registry knows them).
    public static func command(channels: ChannelRegistry, calls: @escaping @Sendable () -> (active: Int, processed: Int)) -> CLICommand {
        CLICommand("core show channels", summary: "Display information on channels") { arguments in
            let counts = calls()
            switch arguments.map({ $0.lowercased() }) {
            case []:
                return CLIResult(lines: lines(await channels.list(), activeCalls: counts.active, callsProcessed: counts.processed))
            case ["count"]:
                return CLIResult(lines: totals(channels: channels.count, activeCalls: counts.active, callsProcessed: counts.processed))
            default:
                return .failure("Usage: core show channels [count]")
            }
        }
    }

    /// The table and the totals, one string per output line.
    public static func lines(_ channels: [LiveChannel], activeCalls: Int, callsProcessed: Int) -> [String] {
        var lines = [row("Channel", "Location", "State", "Application(Data)")]
        for channel in channels {
            let snapshot = channel.snapshot
            let located = !snapshot.context.isEmpty && !snapshot.exten.isEmpty
            let location = located ? "\(snapshot.exten)@\(snapshot.context):\(snapshot.priority)" : "(None)"
            let application = channel.application.isEmpty ? "(None)" : "\(channel.application)(\(channel.applicationData))"
            lines.append(row(snapshot.name, location, snapshot.state.description, application))
        }
        return lines + totals(channels: channels.count, activeCalls: activeCalls, callsProcessed: callsProcessed)
    }

    static func totals(channels: Int, activeCalls: Int, callsProcessed: Int) -> [String] {
        [
            "\(channels) active channel\(channels == 1 ? "" : "s")",
            "\(activeCalls) active call\(activeCalls == 1 ? "" : "s")",
            "\(callsProcessed) call\(callsProcessed == 1 ? "" : "s") processed",
        ]
    }

    /// One line of the table: each column cut or padded to its width, as `%-N.Ns` does.
    private static func row(_ channel: String, _ location: String, _ state: String, _ application: String) -> String {
        func column(_ text: String, _ width: Int) -> String {
            String(text.prefix(width)).padding(toLength: width, withPad: " ", startingAt: 0)
        }
        return [column(channel, 64), column(location, 32), column(state, 7), column(application, 30)].joined(separator: " ")
    }
}
