import Foundation
import PBXCore

/// queues.conf (Asterisk syntax): `[general]`, one section per queue, and pbxd's `[agents]`
/// for hot-desking agents. Invalid values fail with `file:line`; unknown keys warn.
///
/// ```
/// [600]
/// strategy = leastrecent
/// member => SIP/811,0,Agent 811
/// announce-agent-id = yes
///
/// [agents]
/// agent => 811,1234,Alice,600&601
/// ```
public struct QueuesConfig: Sendable {
    public var queues: [QueueSettings] = []
    public var agents: [AgentDefinition] = []
    /// queuerules.conf, read beside queues.conf (`attach`).
    public private(set) var penaltyRules = PenaltyRules()
    /// Where each queue's `defaultrule` was given, to check against queuerules.conf.
    private var ruleReferences: [(rule: String, location: SourceLocation)] = []
    public var warnings: [ConfigWarning] = []

    public init(queues: [QueueSettings] = [], agents: [AgentDefinition] = []) {
        self.queues = queues
        self.agents = agents
    }

    /// Adds queuerules.conf; a `defaultrule` that names no rule there stops start-up.
    public mutating func attach(_ rules: PenaltyRules) throws(ConfigError) {
        for reference in ruleReferences where rules.rules[reference.rule] == nil {
            throw ConfigError("defaultrule '\(reference.rule)' is not a rule in queuerules.conf", at: reference.location)
        }
        penaltyRules = rules
        warnings += rules.warnings
    }

    /// queues.conf with queuerules.conf beside it in `directory`, either may be absent
    /// (QueueReload and `queue reload` read them again this way).
    public static func load(directory: String) throws(ConfigError) -> QueuesConfig {
        func path(_ name: String) -> String? {
            let path = (directory as NSString).appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        var config = try path("queues.conf").map { path throws(ConfigError) in try QueuesConfig.load(path: path) } ?? QueuesConfig()
        try config.attach(try path("queuerules.conf").map { path throws(ConfigError) in try PenaltyRules.load(path: path) } ?? PenaltyRules())
        return config
    }

    public static func load(path: String) throws(ConfigError) -> QueuesConfig {
        try QueuesConfig(try ConfigFile.load(path: path))
    }

    public init(_ file: ConfigFile) throws(ConfigError) {
        // [general] monitor-type is every queue's default, wherever the section is.
        var monitorType = QueueSettings.MonitorType.monitor
        for section in file.sections where section.name.lowercased() == "general" {
            for entry in section.entries where entry.key.lowercased() == "monitor-type" { monitorType = .init(entry.value) }
        }
        for section in file.sections {
            switch section.name.lowercased() {
            case "general":
                for entry in section.entries where !Self.generalKeys.contains(entry.key.lowercased()) {
                    warnings.append(ConfigWarning("unknown option '\(entry.key)' in queues.conf [general]; ignored", at: entry.location))
                }
            case "agents":
                for entry in section.entries {
                    guard entry.key.lowercased() == "agent" else {
                        warnings.append(ConfigWarning("unknown option '\(entry.key)' in [agents]; ignored", at: entry.location))
                        continue
                    }
                    agents.append(try Self.agent(entry))
                }
            default:
                guard !queues.contains(where: { $0.name == section.name }) else {
                    throw ConfigError("queue '\(section.name)' is defined twice", at: section.location)
                }
                queues.append(try parseQueue(section, monitorType: monitorType))
            }
        }
        let names = Set(queues.map(\.name))
        var seen = Set<String>()
        for agent in agents {
            guard seen.insert(agent.number).inserted else {
                throw ConfigError("agent \(agent.number) is defined twice in [agents]", at: nil)
            }
            for queue in agent.queues where !names.contains(queue) {
                throw ConfigError("agent \(agent.number) names queue '\(queue)', which queues.conf does not define", at: nil)
            }
        }
    }

    static let generalKeys: Set<String> = [
        "persistentmembers", "autofill", "monitor-type", "updatecdr", "shared_lastcall", "log_membername_as_agent",
        "negative_penalty_invokes_empty", "keepstats", "log_restricted_caller_id",
    ]

    private mutating func parseQueue(_ section: ConfigSection, monitorType: QueueSettings.MonitorType) throws(ConfigError) -> QueueSettings {
        var queue = QueueSettings(name: section.name)
        queue.monitorType = monitorType
        var monitorFormatAt = section.location
        for entry in section.entries {
            if entry.key.lowercased() == "defaultrule", !entry.value.isEmpty {
                ruleReferences.append((entry.value, entry.location))
            }
            if try !Self.apply(entry, to: &queue) {
                warnings.append(ConfigWarning("unknown option '\(entry.key)' in queue '\(section.name)'; ignored", at: entry.location))
            } else if entry.key.lowercased() == "monitor-format" {
                monitorFormatAt = entry.location
                if let format = queue.monitorFormat, !["wav", "ogg", "opus"].contains(format.lowercased()) {
                    warnings.append(ConfigWarning(
                        "monitor-format=\(format): pbxd records wav, ogg or opus; queue '\(section.name)' is recorded as wav", at: entry.location))
                    queue.monitorFormat = "wav"
                }
            }
        }
        if queue.monitorFormat != nil, queue.monitorType == .monitor {
            // res_monitor's Monitor (two files mixed afterwards) is not in pbxd; the result a
            // site wants — one file of the whole conversation — is what MixMonitor writes.
            warnings.append(ConfigWarning(
                "queue '\(section.name)': monitor-type Monitor is not supported; its calls are recorded with MixMonitor", at: monitorFormatAt))
        }
        return queue
    }

    /// Sets one queue option; false for a key app_queue (or pbxd) doesn't know.
    static func apply(_ entry: ConfigEntry, to queue: inout QueueSettings) throws(ConfigError) -> Bool {
        let seconds = 0...86_400
        switch entry.key.lowercased() {
        case "strategy":
            guard let strategy = QueueStrategy(rawValue: entry.value.lowercased()) else {
                throw entry.failure("expected one of \(QueueStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            queue.strategy = strategy
        case "timeout": queue.memberTimeout = try entry.intValue(in: seconds)
        case "retry": queue.retry = try entry.intValue(in: seconds)
        case "wrapuptime": queue.wrapupTime = try entry.intValue(in: seconds)
        case "maxlen": queue.maxLength = try entry.intValue(in: 0...1_000_000)
        case "weight": queue.weight = try entry.intValue(in: 0...1_000_000)
        case "servicelevel": queue.serviceLevel = try entry.intValue(in: seconds)
        case "joinempty": queue.joinEmpty = try emptyConditions(entry, yes: [], no: .plainNo)
        case "leavewhenempty": queue.leaveWhenEmpty = try emptyConditions(entry, yes: .plainNo, no: [])
        case "ringinuse": queue.ringInUse = try entry.boolValue()
        case "autopause":
            switch entry.value.lowercased() {
            case "all": queue.autoPause = true
            default: queue.autoPause = try entry.boolValue()
            }
        case "musicclass", "musiconhold": queue.musicClass = entry.value
        case "announce": queue.announce = entry.value.isEmpty ? nil : entry.value
        case "reportholdtime": queue.reportHoldTime = try entry.boolValue()
        case "timeoutrestart": queue.timeoutRestart = try entry.boolValue()
        case "announce-frequency": queue.announceFrequency = try entry.intValue(in: seconds)
        case "min-announce-frequency": queue.minAnnounceFrequency = try entry.intValue(in: seconds)
        case "announce-position":
            guard let value = QueueSettings.PositionAnnouncement(rawValue: entry.value.lowercased()) else {
                throw entry.failure("expected yes, no, limit or more")
            }
            queue.announcePosition = value
        case "announce-position-limit": queue.announcePositionLimit = try entry.intValue(in: 0...1000)
        case "announce-holdtime":
            guard let value = QueueSettings.HoldTimeAnnouncement(rawValue: entry.value.lowercased()) else {
                throw entry.failure("expected yes, no or once")
            }
            queue.announceHoldTime = value
        case "periodic-announce":
            queue.periodicAnnounce = entry.value.split(separator: "|").flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case "periodic-announce-frequency": queue.periodicAnnounceFrequency = try entry.intValue(in: seconds)
        case "context": queue.context = entry.value.isEmpty ? nil : entry.value
        case "announce-agent-id": queue.announceAgentID = try entry.boolValue()
        case "agent-id-prompt":
            guard !entry.value.isEmpty else { throw entry.failure("expected a sound name") }
            queue.agentIDPrompt = entry.value
        case "member": queue.members.append(try member(entry, in: queue))
        case "defaultrule": queue.defaultRule = entry.value.isEmpty ? nil : entry.value
        case "monitor-format": queue.monitorFormat = entry.value.isEmpty ? nil : entry.value
        case "monitor-type": queue.monitorType = .init(entry.value)
        default: return false
        }
        return true
    }

    /// `member => SIP/811,penalty,name,state_interface,ringinuse`.
    static func member(_ entry: ConfigEntry, in queue: QueueSettings) throws(ConfigError) -> MemberDefinition {
        let parts = entry.value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let interface = parts[0]
        guard interface.contains("/"), !interface.hasPrefix("/"), !interface.hasSuffix("/") else {
            throw entry.failure("expected an interface such as SIP/811")
        }
        var penalty = 0
        if parts.count > 1, !parts[1].isEmpty {
            guard let value = Int(parts[1]), value >= 0 else { throw entry.failure("penalty must be a whole number ≥ 0") }
            penalty = value
        }
        let name = parts.count > 2 && !parts[2].isEmpty ? parts[2] : nil
        let state = parts.count > 3 && !parts[3].isEmpty ? parts[3] : nil
        var ringInUse: Bool?
        if parts.count > 4, !parts[4].isEmpty {
            switch parts[4].lowercased() {
            case "yes", "true", "y", "t", "1", "on": ringInUse = true
            case "no", "false", "n", "f", "0", "off": ringInUse = false
            default: throw entry.failure("ringinuse (fifth field) must be yes or no")
            }
        }
        guard !queue.members.contains(where: { $0.interface == interface }) else {
            throw entry.failure("member listed twice in queue '\(queue.name)'")
        }
        return MemberDefinition(interface: interface, penalty: penalty, name: name, stateInterface: state, ringInUse: ringInUse)
    }

    static func agent(_ entry: ConfigEntry) throws(ConfigError) -> AgentDefinition {
        let parts = entry.value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 4, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber)
        else { throw entry.failure("expected 'number,pin,name,queue1&queue2' with a numeric number and PIN") }
        let queues = parts[3].split(separator: "&").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !queues.isEmpty else { throw entry.failure("the agent belongs to no queue") }
        return AgentDefinition(number: parts[0], pin: parts[1], name: parts[2].isEmpty ? parts[0] : parts[2], queues: queues)
    }

    /// `yes`/`no`/`strict`/`loose` or a list (`paused,penalty,inuse…`), as app_queue parses it.
    static func emptyConditions(_ entry: ConfigEntry, yes: EmptyConditions, no: EmptyConditions) throws(ConfigError) -> EmptyConditions {
        switch entry.value.lowercased() {
        case "yes", "true", "1": return yes
        case "no", "false", "0": return no
        case "strict": return .strict
        case "loose": return .loose
        default: break
        }
        var result: EmptyConditions = []
        for word in entry.listValue.map({ $0.lowercased() }) {
            switch word {
            case "penalty": result.insert(.penalty)
            case "paused": result.insert(.paused)
            case "inuse": result.insert(.inUse)
            case "ringing": result.insert(.ringing)
            case "unavailable": result.insert(.unavailable)
            case "invalid": result.insert(.invalid)
            case "unknown": result.insert(.unknown)
            case "wrapup": result.insert(.wrapup)
            default: throw entry.failure("unknown condition '\(word)' (yes, no, strict, loose, or paused,penalty,inuse,ringing,unavailable,invalid,unknown,wrapup)")
            }
        }
        return result
    }
}

extension ConfigEntry {
    func failure(_ expectation: String) -> ConfigError {
        ConfigError("\(key): \(expectation), found '\(value)'", at: location)
    }
}
