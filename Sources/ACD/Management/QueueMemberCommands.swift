import PBXCore

/// Asterisk's console commands for members, with its wording:
/// `queue add member <interface> to <queue> [penalty <n> [as <name> [state_interface <if>]]]`,
/// `queue remove member <interface> from <queue>`,
/// `queue {pause|unpause} member <interface> [queue <queue> [reason <reason>]]`.
/// Changes made here are logged in queue_log with callid `CLI`.
enum QueueMemberCommands {
    static func all(_ engine: QueueEngine) -> [CLICommand] {
        [add(engine), remove(engine), pause(engine, true), pause(engine, false)]
    }

    static func add(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue add member", summary: "Add a channel to a specified queue") { words in
            let usage = "Usage: queue add member <dial string> to <queue> [penalty <penalty> [as <membername> [state_interface <interface>]]]"
            guard words.count >= 3, words[1].lowercased() == "to" else { return .failure(usage) }
            let interface = words[0], queue = words[2]
            let options = keywordValues(Array(words.dropFirst(3)), keys: ["penalty", "as", "state_interface"])
            guard let options else { return .failure(usage) }
            var penalty = 0
            if let text = options["penalty"] {
                guard let value = Int(text), value >= 0 else { return .failure(usage) }
                penalty = value
            }
            switch await engine.addMember(queue: queue, interface: interface, penalty: penalty, memberName: options["as"],
                                          stateInterface: options["state_interface"], callID: "CLI") {
            case .success: return CLIResult(lines: ["Added interface '\(interface)' to queue '\(queue)'"])
            case .failure(let error): return .failure("Unable to add interface '\(interface)' to queue '\(queue)': \(error)")
            }
        }
    }

    static func remove(_ engine: QueueEngine) -> CLICommand {
        CLICommand("queue remove member", summary: "Removes a channel from a specified queue") { words in
            guard words.count == 3, words[1].lowercased() == "from" else {
                return .failure("Usage: queue remove member <channel> from <queue>")
            }
            let interface = words[0], queue = words[2]
            switch await engine.removeMember(queue: queue, interface: interface, callID: "CLI") {
            case .success: return CLIResult(lines: ["Removed interface \(interface) from queue '\(queue)'"])
            case .failure(let error): return .failure("Unable to remove interface '\(interface)' from queue '\(queue)': \(error)")
            }
        }
    }

    static func pause(_ engine: QueueEngine, _ paused: Bool) -> CLICommand {
        let verb = paused ? "pause" : "unpause"
        return CLICommand("queue \(verb) member", summary: "\(paused ? "Pause" : "Unpause") a queue member") { words in
            let usage = "Usage: queue \(verb) member <actual interface> [queue <queue> [reason <reason>]]"
            guard let interface = words.first, let options = keywordValues(Array(words.dropFirst()), keys: ["queue", "reason"]) else {
                return .failure(usage)
            }
            let reason = options["reason"] ?? ""
            var line = "\(paused ? "paused" : "unpaused") interface '\(interface)'"
            if let queue = options["queue"] { line += " in queue '\(queue)'" }
            if !reason.isEmpty { line += " for reason '\(reason)'" }
            switch await engine.setPaused(paused, interface: interface, queue: options["queue"], reason: reason) {
            case .success: return CLIResult(lines: [line])
            case .failure: return .failure("Unable to \(verb) interface '\(interface)'" + (options["queue"].map { " in queue '\($0)'" } ?? ""))
            }
        }
    }

    /// `key value` pairs among `keys`, in any order; nil when a word is not a known key or has
    /// no value.
    static func keywordValues(_ words: [String], keys: Set<String>) -> [String: String]? {
        var values: [String: String] = [:]
        var index = 0
        while index < words.count {
            let key = words[index].lowercased()
            guard keys.contains(key), index + 1 < words.count else { return nil }
            values[key] = words[index + 1]
            index += 2
        }
        return values
    }
}
