/// `QUEUESTATUS` after Queue() returns without a bridged call (app_queue's `queue_result`).
public enum QueueStatus: String, Sendable, Equatable {
    case timeout = "TIMEOUT"
    case full = "FULL"
    case joinEmpty = "JOINEMPTY"
    case leaveEmpty = "LEAVEEMPTY"
    case joinUnavailable = "JOINUNAVAIL"
    case leaveUnavailable = "LEAVEUNAVAIL"
    case `continue` = "CONTINUE"
}

/// What the engine tells a waiting caller's task to do.
public enum QueueInstruction: Sendable, Equatable {
    /// Ring this member for the caller.
    case ring(RingAssignment)
    /// Stop ringing this member (another member's call was bridged, or it was removed).
    case cancelRing(interface: String)
    /// The queue became empty under `leavewhenempty`: leave with this status.
    case leave(QueueStatus)
    /// The caller's place in line changed (sent only by queues that announce positions).
    case positionChanged(Int)
}

/// Why a caller left the waiting list without being connected.
public enum QueueExit: Sendable, Equatable {
    /// Hung up while waiting (ABANDON).
    case abandon
    /// The Queue() timeout passed (EXITWITHTIMEOUT).
    case timeout
    /// leavewhenempty (EXITEMPTY).
    case empty
    /// Pressed a key that is an extension of the queue's context (EXITWITHKEY).
    case key(Character)
}

/// Who ended a bridged queue call (COMPLETECALLER / COMPLETEAGENT, AgentComplete `Reason`).
public enum CompletionReason: Sendable, Equatable {
    case caller
    case agent
    /// The caller was blind-transferred (AMI BlindTransfer/Redirect) to `exten@context`.
    case transfer(exten: String, context: String)
    /// An attended transfer put the caller (or agent) in a bridge with its target.
    case attendedTransfer(bridge: String)

    /// AgentComplete's `Reason`.
    var eventReason: String {
        switch self {
        case .caller: "caller"
        case .agent: "agent"
        case .transfer, .attendedTransfer: "transfer"
        }
    }
}

/// Why a member change was refused (the manager actions' error messages).
public enum MemberChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    case noSuchQueue
    case alreadyMember
    case notMember
    case notDynamic
    case noSuchAgent
    case wrongPIN

    public var description: String {
        switch self {
        case .noSuchQueue: "No such queue"
        case .alreadyMember: "Already there"
        case .notMember: "Not there"
        case .notDynamic: "Member not dynamic"
        case .noSuchAgent: "No such agent"
        case .wrongPIN: "Wrong PIN"
        }
    }
}
