import PBXCore

/// Asterisk's console commands for queue administration:
/// `queue reset stats [<queue>…]`, `queue reload {parameters|members|rules|all} [<queue>…]`,
/// `queue set ringinuse {on|off} on <interface> [in <queue>]`,
/// `queue set penalty <penalty> on <interface> [in <queue>]`.
enum QueueAdminCommands {
    static func all(_ engine: QueueEngine, reloadConfig: (@Sendable () throws(ConfigError) -> QueuesConfig)?) -> [CLICommand] {
        [resetStats(engine), reload(engine, reloadConfig), setRingInUse(engine), setPenalty(engine)]
    }

    static func resetStats(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue reset stats", summary: "Reset statistics for a queue") { words in
            for queue in words where await engine.settings(of: queue) == nil { return .failure("No such queue: '\(queue)'") }
            if words.isEmpty {
                await engine.resetStatistics()
            } else {
                for queue in words { await engine.resetStatistics(queue: queue) }
            }
            return CLIResult(lines: ["Queue stats reset successfully"])
        }
    }

    static func reload(_ engine: QueueEngine, _ reloadConfig: (@Sendable () throws(ConfigError) -> QueuesConfig)?) -> CLICommand {
        CLICommand("queue reload", summary: "Reload queues, members, queue rules, or parameters") { words in
            let kinds: [String: QueueEngine.ReloadParts] = ["all": .all, "members": .members, "rules": .rules, "parameters": .parameters]
            guard let kind = words.first?.lowercased(), let parts = kinds[kind] else {
                return .failure("Usage: queue reload {parameters|members|rules|all} [<queuenames>]")
            }
            for queue in words.count > 1 ? words.dropFirst().map(Optional.some) : [nil] {
                if let why = await QueueAdminActions.reload(engine, reloadConfig, parts: parts, queue: queue) {
                    return .failure("Unable to reload \(kind)\(queue.map { " of queue '\($0)'" } ?? ""): \(why)")
                }
            }
            return CLIResult(lines: ["Queue \(kind) reloaded successfully"])
        }
    }

    static func setRingInUse(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue set ringinuse", summary: "Set ringinuse for a channel of a specified queue") { words in
            let usage = "Usage: queue set ringinuse {on|off} on <interface> [in <queue>]"
            guard words.count == 3 || words.count == 5, words[1].lowercased() == "on", words.count == 3 || words[3].lowercased() == "in",
                  let ringInUse = ["on": true, "off": false][words[0].lowercased()] else { return .failure(usage) }
            let interface = words[2], queue = words.count == 5 ? words[4] : nil
            switch await engine.setRingInUse(ringInUse, interface: interface, queue: queue) {
            case .success: return CLIResult(lines: ["Set ringinuse on interface '\(interface)'" + (queue.map { " in queue '\($0)'" } ?? "")])
            case .failure(let error): return .failure("Failed to set ringinuse on interface '\(interface)': \(error)")
            }
        }
    }

    static func setPenalty(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue set penalty", summary: "Set penalty for a channel of a specified queue") { words in
            let usage = "Usage: queue set penalty <penalty> on <interface> [in <queue>]"
            guard words.count == 3 || words.count == 5, words[1].lowercased() == "on", words.count == 3 || words[3].lowercased() == "in",
                  let penalty = Int(words[0]), penalty >= 0 else { return .failure(usage) }
            let interface = words[2], queue = words.count == 5 ? words[4] : nil
            switch await engine.setPenalty(penalty, interface: interface, queue: queue) {
            case .success: return CLIResult(lines: ["Set penalty on interface '\(interface)'" + (queue.map { " in queue '\($0)'" } ?? "")])
            case .failure(let error): return .failure("Failed to set penalty on interface '\(interface)': \(error)")
            }
        }
    }
}
