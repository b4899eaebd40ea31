/// How a queue picks which member(s) to ring (queues.conf `strategy=`), as app_queue defines it.
public enum QueueStrategy: String, Sendable, Codable, CaseIterable {
    /// Ring every available member; the first to answer gets the call.
    case ringall
    /// The member whose last queue call ended longest ago.
    case leastrecent
    /// The member who has taken the fewest calls.
    case fewestcalls
    case random
    /// Round robin, remembering where the last caller stopped.
    case rrmemory
    /// Round robin in config order, remembering where the last caller stopped.
    case rrordered
    /// Always in config order, starting from the first.
    case linear
    /// Random, weighted by penalty (a higher penalty makes a member less likely).
    case wrandom
}

/// `joinempty=` / `leavewhenempty=`: which member conditions count as "empty" (app_queue's
/// `QUEUE_EMPTY_*` flags). `yes` for joinempty means "never refuse", for leavewhenempty "leave
/// when no member is available at all".
public struct EmptyConditions: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// No member is logged in (or all were removed).
    public static let penalty = EmptyConditions(rawValue: 1 << 0)
    public static let paused = EmptyConditions(rawValue: 1 << 1)
    public static let inUse = EmptyConditions(rawValue: 1 << 2)
    public static let ringing = EmptyConditions(rawValue: 1 << 3)
    public static let unavailable = EmptyConditions(rawValue: 1 << 4)
    public static let invalid = EmptyConditions(rawValue: 1 << 5)
    public static let unknown = EmptyConditions(rawValue: 1 << 6)
    public static let wrapup = EmptyConditions(rawValue: 1 << 7)

    /// What `strict`, `loose`, `no` mean (app_queue's `parse_empty_options`).
    public static let strict: EmptyConditions = [.penalty, .paused, .unavailable]
    public static let loose: EmptyConditions = [.penalty, .invalid]
    /// `joinempty=no` / `leavewhenempty=yes`: no member, or only paused/invalid ones.
    public static let plainNo: EmptyConditions = [.penalty, .invalid, .paused]
}

/// A static member line: `member => interface,penalty,name,state_interface,ringinuse`.
public struct MemberDefinition: Sendable, Hashable, Codable {
    public var interface: String
    public var penalty: Int
    public var name: String
    public var stateInterface: String
    /// The member's own `ringinuse`; nil follows the queue's.
    public var ringInUse: Bool?

    public init(interface: String, penalty: Int = 0, name: String? = nil, stateInterface: String? = nil, ringInUse: Bool? = nil) {
        self.interface = interface
        self.penalty = penalty
        self.name = name ?? interface
        self.stateInterface = stateInterface ?? interface
        self.ringInUse = ringInUse
    }
}

/// One `[queue]` of queues.conf, with app_queue's defaults.
public struct QueueSettings: Sendable, Hashable {
    public var name: String
    public var strategy: QueueStrategy = .ringall
    /// Seconds a member rings before RINGNOANSWER (`timeout`, default 15).
    public var memberTimeout = 15
    /// Seconds to wait before ringing members again after a round (`retry`, default 5).
    public var retry = 5
    public var wrapupTime = 0
    /// Most callers waiting; 0 = no limit (`maxlen`).
    public var maxLength = 0
    /// Priority of this queue's calls for members shared with other queues (`weight`).
    public var weight = 0
    public var serviceLevel = 0
    public var joinEmpty: EmptyConditions = []
    public var leaveWhenEmpty: EmptyConditions = []
    public var ringInUse = true
    /// Missed rings before a member is paused (`autopause=yes` → 1, `no` → off).
    public var autoPause = false
    /// Music on hold class for waiting callers (`musicclass`), `default` unless set.
    public var musicClass = "default"
    /// Played to the member who answers, before the bridge (`announce`).
    public var announce: String?
    /// Tell the member how long the caller waited (`reportholdtime`).
    public var reportHoldTime = false
    /// `timeoutrestart`: when a member refuses (busy, congestion), the next member rung in the
    /// same attempt gets the whole `timeout` again instead of what is left of it (app_queue's
    /// wait_for_answer; not for `ringall`, which rings everyone at once).
    public var timeoutRestart = false
    /// Seconds between position/hold-time announcements; 0 = off (`announce-frequency`).
    public var announceFrequency = 0
    /// At least this long between two position announcements to one caller; once it has
    /// passed, a change of position is said at once (`min-announce-frequency`, say_position).
    public var minAnnounceFrequency = 15
    /// `announce-position`: yes, no, limit or more.
    public var announcePosition: PositionAnnouncement = .yes
    public var announcePositionLimit = 5
    /// `announce-holdtime`: yes, no, once.
    public var announceHoldTime: HoldTimeAnnouncement = .no
    public var periodicAnnounce: [String] = []
    public var periodicAnnounceFrequency = 0
    /// A caller pressing a key that is an extension here leaves the queue to it (`context`).
    public var context: String?
    /// pbxd: play `agentIDPrompt` then the agent's number digit by digit to the caller.
    public var announceAgentID = false
    public var agentIDPrompt = "agent-id"
    public var members: [MemberDefinition] = []
    /// The queuerules.conf rule a caller follows unless Queue() names one (`defaultrule`).
    public var defaultRule: String?
    /// `monitor-format`: record every answered call of this queue, from the bridge on, in this
    /// format (`wav`, or `ogg`/`opus` for Ogg/Opus); nil: no recording.
    public var monitorFormat: String?
    /// `monitor-type` (default from `[general]`): pbxd records with MixMonitor either way.
    public var monitorType: MonitorType = .monitor

    public init(name: String) { self.name = name }

    /// app_queue's `monitor-type`: `MixMonitor`, or anything else for res_monitor's Monitor.
    public enum MonitorType: Sendable, Hashable {
        case monitor, mixMonitor

        init(_ value: String) { self = value.lowercased() == "mixmonitor" ? .mixMonitor : .monitor }
    }

    public enum PositionAnnouncement: String, Sendable, Hashable {
        case yes, no, limit, more
    }

    public enum HoldTimeAnnouncement: String, Sendable, Hashable {
        case yes, no, once
    }
}

/// A hot-desking agent from queues.conf `[agents]`: `agent => number,pin,name,queue1&queue2`.
/// Logging in (`*45<number><pin>`) adds the phone the agent dials from to those queues.
public struct AgentDefinition: Sendable, Hashable {
    public var number: String
    public var pin: String
    public var name: String
    public var queues: [String]

    public init(number: String, pin: String, name: String, queues: [String]) {
        self.number = number
        self.pin = pin
        self.name = name
        self.queues = queues
    }
}
