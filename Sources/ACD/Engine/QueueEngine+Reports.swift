import Foundation
import PBXCore

/// A queue as listings show it (`queue show`, QueueStatus, QueueSummary), taken in one go so
/// a listing never mixes two moments.
public struct QueueReport: Sendable {
    public struct Member: Sendable {
        public var member: QueueMember
        public var device: DeviceState
    }
    public struct Caller: Sendable {
        public var snapshot: ChannelSnapshot
        public var waited: Int
        public var priority: Int
    }
    public var settings: QueueSettings
    public var members: [Member]
    public var callers: [Caller]
    public var statistics: QueueStatistics
    public var now: Date
}

extension QueueEngine {
    /// Every queue (or just `name`), in config order; nil entries are left out.
    public func reports(queue name: String? = nil) -> [QueueReport] {
        let now = clock()
        return queueNames.filter { name == nil || $0 == name }.compactMap { queueName in
            guard let queue = queues[queueName] else { return nil }
            return QueueReport(
                settings: queue.settings,
                members: queue.members.map { QueueReport.Member(member: $0, device: device(of: $0)) },
                callers: queue.callers.map { QueueReport.Caller(snapshot: $0.snapshot, waited: seconds(from: $0.joinedAt, to: now), priority: $0.priority) },
                statistics: queue.statistics, now: now)
        }
    }

    public var names: [String] { queueNames }

    public func settings(of name: String) -> QueueSettings? { queues[name]?.settings }

    /// A queuerules.conf rule's changes, in time order; nil when there is no such rule.
    public func penaltyRule(named name: String) -> [PenaltyChange]? { penaltyRules[name] }

    /// `QUEUE_WAITING_COUNT(queue)`.
    public func waitingCount(queue name: String) -> Int? { queues[name]?.callers.count }

    /// The agent logged in at `interface` (for the hot-desking feature codes' prompts).
    public func agentNumber(at interface: String) -> String? { memberRecord(interface)?.agentNumber }

    /// `QUEUE_MEMBER(queue,option)`: logged, free, ready, count, penalty/paused/ignorebusy
    /// for an interface are not supported here (app_queue's per-interface options).
    public func memberCount(queue name: String, option: String) -> Int? {
        guard let queue = queues[name] else { return nil }
        switch option.lowercased() {
        case "count": return queue.members.count
        case "logged": return queue.members.filter { device(of: $0).isReachable }.count
        case "free": return queue.members.filter { device(of: $0).isReachable && !$0.paused && device(of: $0).isIdle }.count
        case "ready": return queue.members.filter { canRing($0, in: queue.settings) }.count
        default: return nil
        }
    }
}
