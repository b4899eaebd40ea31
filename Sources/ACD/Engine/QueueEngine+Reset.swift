import Foundation
import PBXCore

/// QueueReset / `queue reset stats` and QueueReload / `queue reload`: an operator starting a
/// queue's figures afresh, or re-reading queues.conf without a restart.
extension QueueEngine {
    /// Forgets the statistics of `queue` (nil: every queue) and its members' calls taken and
    /// last call (app_queue's clear_queue). False when `queue` names no queue.
    @discardableResult
    public func resetStatistics(queue only: String? = nil) -> Bool {
        if let only, queues[only] == nil { return false }
        for name in only.map({ [$0] }) ?? queueNames {
            guard var queue = queues[name] else { continue }
            queue.statistics = QueueStatistics()
            for m in queue.members.indices { queue.members[m].resetStatistics() }
            queues[name] = queue
        }
        persist()
        return true
    }

    /// What QueueReload / `queue reload` re-reads (app_queue's QUEUE_RELOAD_* mask).
    public struct ReloadParts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The queues' settings (new queues are added whatever the mask).
        public static let parameters = ReloadParts(rawValue: 1 << 0)
        /// Static members (`member =>`): added, removed, updated; dynamic ones stay.
        public static let members = ReloadParts(rawValue: 1 << 1)
        /// queuerules.conf.
        public static let rules = ReloadParts(rawValue: 1 << 2)
        public static let all: ReloadParts = [.parameters, .members, .rules]
    }

    /// Applies a freshly read queues.conf (and its queuerules.conf) to `queue` (nil: all).
    /// Queues gone from the file are dropped once nobody waits in them; a static member gone
    /// from the file is dropped unless it is ringing or on a call (it goes with the next
    /// reload). Agents (`[agents]`) are re-read with the members.
    public func reload(_ config: QueuesConfig, parts: ReloadParts, queue only: String? = nil) -> Result<Void, MemberChangeError> {
        if let only, queues[only] == nil, !config.queues.contains(where: { $0.name == only }) { return .failure(.noSuchQueue) }
        if parts.contains(.rules) { penaltyRules = config.penaltyRules.rules }
        if parts.contains(.members) {
            agents = Dictionary(config.agents.map { ($0.number, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let now = clock()
        for settings in config.queues where only == nil || settings.name == only {
            guard var queue = queues[settings.name] else {
                add(settings, at: now)
                continue
            }
            if parts.contains(.parameters) {
                if queue.settings.strategy != settings.strategy { queue.selection = MemberSelection(strategy: settings.strategy) }
                var kept = settings
                kept.members = queue.settings.members
                queue.settings = kept
            }
            if parts.contains(.members) {
                queue.members = reconciled(queue.members, with: settings.members, at: now)
                queue.settings.members = settings.members
            }
            queues[settings.name] = queue
        }
        if only == nil, parts.contains(.parameters) {
            let names = Set(config.queues.map(\.name))
            for name in queueNames where !names.contains(name) && (queues[name]?.callers.isEmpty ?? true) {
                queues[name] = nil
            }
            queueNames.removeAll { queues[$0] == nil }
        }
        persist()
        checkLeaveWhenEmpty()
        dispatchAll()
        return .success(())
    }

    private func add(_ settings: QueueSettings, at now: Date) {
        var members: [QueueMember] = []
        for definition in settings.members {
            members.append(staticMember(definition, at: now))
        }
        queues[settings.name] = QueueState(settings: settings, members: members, selection: MemberSelection(strategy: settings.strategy))
        queueNames.append(settings.name)
    }

    private func staticMember(_ definition: MemberDefinition, at now: Date) -> QueueMember {
        var member = QueueMember(interface: definition.interface, name: definition.name, stateInterface: definition.stateInterface,
                                 penalty: definition.penalty, isDynamic: false, loginTime: now, order: nextMemberOrder)
        member.ringInUse = definition.ringInUse
        nextMemberOrder += 1
        return member
    }

    /// The queue's members after re-reading its `member =>` lines: listed ones updated or
    /// added, unlisted static ones dropped unless busy with a caller, dynamic ones kept.
    private func reconciled(_ members: [QueueMember], with definitions: [MemberDefinition], at now: Date) -> [QueueMember] {
        var result: [QueueMember] = []
        for var member in members {
            if let definition = definitions.first(where: { $0.interface.caseInsensitiveCompare(member.interface) == .orderedSame }) {
                member.penalty = definition.penalty
                member.name = definition.name
                member.stateInterface = definition.stateInterface.uppercasedTechnology
                member.ringInUse = definition.ringInUse
                member.isDynamic = false
                result.append(member)
            } else if member.isDynamic || member.state.isBusyWithCaller {
                result.append(member)
            }
        }
        for definition in definitions where !result.contains(where: { $0.interface.caseInsensitiveCompare(definition.interface) == .orderedSame }) {
            result.append(staticMember(definition, at: now))
        }
        return result
    }
}

extension AgentState {
    /// Ringing for or talking to a caller: a member in this state is not dropped by a reload.
    var isBusyWithCaller: Bool {
        switch self {
        case .ringing, .onCall: true
        default: false
        }
    }
}
