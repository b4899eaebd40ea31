import Foundation
import PBXCore

/// A caller waiting in a queue, as the engine tracks it.
struct QueueCaller: Sendable {
    var uniqueID: String
    var snapshot: ChannelSnapshot
    /// `QUEUE_PRIO`: higher priorities are served first; equal ones in arrival order.
    var priority: Int
    var joinedAt: Date
    /// Position when it joined (queue_log `origposition`).
    var originalPosition: Int
    /// Arrival counter: ties on priority are broken by it.
    var sequence: UInt64
    /// Where the engine sends ring assignments for this caller.
    var assignments: AsyncStream<QueueInstruction>.Continuation
    /// Members ringing for this caller now.
    var ringing: Set<String> = []
    /// Members already tried in this round (not rung again until the round restarts).
    var tried: Set<String> = []
    /// After a round in which nobody answered, no new ring before this (`retry`).
    var retryAfter: Date?
    /// Set once a member answered; the caller stops being offered members.
    var answeredBy: String?
    /// Which member penalties it may reach, widening as it waits (queuerules.conf).
    var penalties = CallerPenalties()
    /// When the current ring attempt began (app_queue's `start_time_tv` in wait_for_answer):
    /// a member rung because the previous one refused (busy, congestion) gets only what is
    /// left of the queue's `timeout`, unless `timeoutrestart`. Nil between attempts.
    var attemptStartedAt: Date?
}

/// A member the caller's task should ring now.
public struct RingAssignment: Sendable, Equatable {
    public var interface: String
    public var memberName: String
    /// The digits announced to the caller (`announce-agent-id`).
    public var spokenNumber: String
    /// How long to ring before RINGNOANSWER: the queue's `timeout`, or what is left of it
    /// after another member refused (see `timeoutrestart`).
    public var timeout: Duration
}

/// Per-queue statistics (app_queue's `callscompleted`, `callsabandoned`, `holdtime`…), kept
/// across restarts.
public struct QueueStatistics: Sendable, Equatable, Codable {
    public var completed = 0
    public var abandoned = 0
    public var completedInServiceLevel = 0
    public var abandonedInServiceLevel = 0
    /// Exponentially weighted averages, as app_queue keeps them (new = (3·old + sample) / 4).
    public var holdTime = 0
    public var talkTime = 0

    public init() {}

    mutating func recordAnswer(holdTime seconds: Int, serviceLevel: Int) {
        completed += 1
        if serviceLevel > 0, seconds <= serviceLevel { completedInServiceLevel += 1 }
        holdTime = (holdTime * 3 + seconds) / 4
    }

    mutating func recordTalk(seconds: Int) {
        talkTime = (talkTime * 3 + seconds) / 4
    }

    mutating func recordAbandon(waited seconds: Int, serviceLevel: Int) {
        abandoned += 1
        if serviceLevel > 0, seconds <= serviceLevel { abandonedInServiceLevel += 1 }
    }

    /// `ServicelevelPerf`: % of answered calls answered within the service level.
    public var serviceLevelPerformance: Double {
        completed > 0 ? Double(completedInServiceLevel) * 100 / Double(completed) : 0
    }

    /// `ServicelevelPerf2`: abandons within the service level count as good too.
    public var serviceLevelPerformance2: Double {
        let total = completed + abandoned
        return total > 0 ? Double(completedInServiceLevel + abandonedInServiceLevel) * 100 / Double(total) : 0
    }
}
