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

    /// `QUEUE_MEMBER(queue,option)` counts, as app_queue's queue_function_mem_read: `count`
    /// all members, `logged` those whose device is reachable, `free` those idle and not
    /// paused, `ready` free ones not in wrap-up. Nil for an unknown queue or option.
    public func memberCount(queue name: String, option: String) -> Int? {
        guard let queue = queues[name] else { return nil }
        let free = { (member: QueueMember) in self.device(of: member).isReachable && self.device(of: member).isIdle && !member.paused }
        switch option.lowercased() {
        case "count": return queue.members.count
        case "logged": return queue.members.filter { device(of: $0).isReachable }.count
        case "free": return queue.members.filter(free).count
        case "ready": return queue.members.filter { free($0) && !$0.inWrapUp }.count
        default: return nil
        }
    }

    /// One member of one queue with that queue's settings (`QUEUE_MEMBER(…,penalty,SIP/811)`).
    public func member(queue name: String, interface: String) -> (member: QueueMember, settings: QueueSettings)? {
        guard let queue = queues[name], let m = queue.memberIndex(interface) else { return nil }
        return (queue.members[m], queue.settings)
    }

    /// The channel waiting at `position` (1 = first in line), for `QUEUE_GET_CHANNEL`.
    public func callerChannel(queue name: String, position: Int) -> String? {
        guard let callers = queues[name]?.callers, position >= 1, position <= callers.count else { return nil }
        return callers[position - 1].snapshot.name
    }
}
