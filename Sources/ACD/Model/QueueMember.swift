import Foundation
import PBXCore

/// An agent's state as the ACD reports it: one value per member, derived from the member's
/// activity and pause, so there is a single answer to "what is this agent doing".
public enum AgentState: Sendable, Equatable, CustomStringConvertible {
    case loggedOut
    case available
    case ringing(caller: String)
    case onCall(caller: String)
    case wrapUp(until: Date)
    case paused(reason: String)
    /// Missed a ring; not offered calls again until `until` (the queue's `retry`).
    case ringNoAnswer(until: Date)

    public var description: String {
        switch self {
        case .loggedOut: "logged out"
        case .available: "available"
        case .ringing: "ringing"
        case .onCall: "on call"
        case .wrapUp: "wrap-up"
        case .paused(let reason): reason.isEmpty ? "paused" : "paused (\(reason))"
        case .ringNoAnswer: "ring-no-answer"
        }
    }
}

/// What a member is doing with calls, apart from being paused (a member may be paused while on
/// a call, and the pause holds once the call ends, as in app_queue).
public enum MemberActivity: Sendable, Equatable, Codable {
    case idle
    case ringing(caller: String, since: Date)
    case onCall(caller: String, since: Date)
    case wrapUp(until: Date)
    case ringNoAnswer(until: Date)
}

/// One member of one queue: its configuration, its call activity as a value state machine
/// (each input a `mutating func` that says whether anything changed, so the engine knows when
/// to announce `QueueMemberStatus`), and its statistics.
public struct QueueMember: Sendable, Equatable, Codable {
    public var interface: String
    public var name: String
    public var stateInterface: String
    public var penalty: Int
    /// Added at run time (AddQueueMember, QueueAdd, agent login) rather than by queues.conf.
    public var isDynamic: Bool
    /// The hot-desking agent number logged in on this interface, if any.
    public var agentNumber: String?
    public var loginTime: Date
    public private(set) var activity: MemberActivity = .idle
    public private(set) var paused = false
    public private(set) var pausedReason = ""
    public private(set) var lastPause: Date?
    public private(set) var callsTaken = 0
    public private(set) var lastCall: Date?
    /// Consecutive rings missed (autopause).
    public private(set) var missedRings = 0
    /// Position in config order (rrordered, linear).
    public var order: Int
    /// The member's own `ringinuse` (QueueMemberRingInUse, `QUEUE_MEMBER(…,ringinuse,…)`, the
    /// member line's fifth field); nil follows the queue's.
    public var ringInUse: Bool?

    public init(interface: String, name: String, stateInterface: String, penalty: Int, isDynamic: Bool,
                agentNumber: String? = nil, loginTime: Date, order: Int) {
        self.interface = interface
        self.name = name
        // Normalised once (`sip/811` → `SIP/811`): device states are looked up by it constantly.
        self.stateInterface = stateInterface.uppercasedTechnology
        self.penalty = penalty
        self.isDynamic = isDynamic
        self.agentNumber = agentNumber
        self.loginTime = loginTime
        self.order = order
    }

    public var state: AgentState {
        switch activity {
        case .ringing(let caller, _): return .ringing(caller: caller)
        case .onCall(let caller, _): return .onCall(caller: caller)
        case .wrapUp(let until) where !paused: return .wrapUp(until: until)
        case .ringNoAnswer(let until) where !paused: return .ringNoAnswer(until: until)
        default: return paused ? .paused(reason: pausedReason) : .available
        }
    }

    /// Whether the member may be offered a call now (device permitting).
    public var isFree: Bool { !paused && activity == .idle }

    /// Whether the member may be rung while its device is in use, in `settings`' queue.
    public func ringsInUse(_ settings: QueueSettings) -> Bool { ringInUse ?? settings.ringInUse }

    public var inWrapUp: Bool {
        if case .wrapUp = activity { return true }
        return false
    }

    public var inCall: Bool {
        if case .onCall = activity { return true }
        return false
    }

    /// The digits announced to callers: the agent number, else the peer of `SIP/811`.
    public var spokenNumber: String {
        if let agentNumber { return agentNumber }
        return String(interface.split(separator: "/").last ?? Substring(interface))
    }

    // MARK: Transitions

    mutating func ring(caller: String, at now: Date) -> Bool {
        guard activity == .idle else { return false }
        activity = .ringing(caller: caller, since: now)
        return true
    }

    /// The ring ended without an answer; `autoPause` pauses the member (app_queue's autopause).
    mutating func missedRing(caller: String, at now: Date, retry: Int, autoPause: Bool) -> Bool {
        guard case .ringing(let ringing, _) = activity, ringing == caller else { return false }
        missedRings += 1
        activity = retry > 0 ? .ringNoAnswer(until: now.addingTimeInterval(TimeInterval(retry))) : .idle
        if autoPause, !paused { _ = pause(reason: "Auto-Pause", at: now) }
        return true
    }

    /// When the member started ringing for `caller`, if it still does (RINGCANCELED's ring time).
    func ringingSince(caller: String) -> Date? {
        guard case .ringing(let ringing, let since) = activity, ringing == caller else { return nil }
        return since
    }

    /// Ringing stopped because someone else answered or the caller left.
    mutating func ringCancelled(caller: String) -> Bool {
        guard case .ringing(let ringing, _) = activity, ringing == caller else { return false }
        activity = .idle
        return true
    }

    mutating func connect(caller: String, at now: Date) -> Bool {
        guard case .ringing(let ringing, _) = activity, ringing == caller else { return false }
        activity = .onCall(caller: caller, since: now)
        missedRings = 0
        return true
    }

    /// The call ended after the bridge: counts it and starts wrap-up.
    mutating func complete(caller: String, at now: Date, wrapup: Int) -> Bool {
        guard case .onCall(let current, _) = activity, current == caller else { return false }
        callsTaken += 1
        lastCall = now
        activity = wrapup > 0 ? .wrapUp(until: now.addingTimeInterval(TimeInterval(wrapup))) : .idle
        return true
    }

    /// The member answered then hung up before the bridge (AgentDump).
    mutating func dumped(caller: String) -> Bool {
        switch activity {
        case .ringing(let current, _) where current == caller, .onCall(let current, _) where current == caller:
            activity = .idle
            return true
        default:
            return false
        }
    }

    /// Ends wrap-up or ring-no-answer once their time has come (or at once with `force`).
    mutating func expire(at now: Date, force: Bool = false) -> Bool {
        switch activity {
        case .wrapUp(let until), .ringNoAnswer(let until):
            guard force || until <= now else { return false }
            activity = .idle
            return true
        default:
            return false
        }
    }

    /// When wrap-up or ring-no-answer ends, if the member is in either.
    var expiry: Date? {
        switch activity {
        case .wrapUp(let until), .ringNoAnswer(let until): until
        default: nil
        }
    }

    mutating func pause(reason: String, at now: Date) -> Bool {
        guard !paused || pausedReason != reason else { return false }
        paused = true
        pausedReason = reason
        lastPause = now
        return true
    }

    mutating func unpause() -> Bool {
        guard paused else { return false }
        paused = false
        pausedReason = ""
        missedRings = 0
        return true
    }

    /// QueueReset / `queue reset stats`: calls taken and the last call are forgotten
    /// (app_queue's clear_queue).
    mutating func resetStatistics() {
        callsTaken = 0
        lastCall = nil
    }

    /// Restores persisted statistics and pause (a restart keeps them).
    mutating func restore(from saved: QueueMember) {
        ringInUse = saved.ringInUse
        callsTaken = saved.callsTaken
        lastCall = saved.lastCall
        lastPause = saved.lastPause
        paused = saved.paused
        pausedReason = saved.pausedReason
        loginTime = saved.loginTime
        penalty = saved.penalty
    }

    /// What a restart keeps: no call survives a restart, so activity goes back to idle.
    var persisted: QueueMember {
        var copy = self
        copy.activity = .idle
        copy.missedRings = 0
        return copy
    }
}
