/// Asterisk's device states (`enum ast_device_state`) with the numbers AMI prints as
/// `QueueMemberStatus`/`QueueMember` `Status:` (ami.md §9.6). A device is what a queue member's
/// `state_interface` names (`SIP/811`); app_queue rings a member only when its device allows.
public enum DeviceState: Int, Sendable, Hashable, Codable, CaseIterable {
    case unknown = 0
    case notInUse = 1
    case inUse = 2
    case busy = 3
    case invalid = 4
    case unavailable = 5
    case ringing = 6
    case ringInUse = 7
    case onHold = 8

    /// `DeviceStateChange` `State:` (`NOT_INUSE`, `RINGINUSE`…).
    public var token: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .notInUse: "NOT_INUSE"
        case .inUse: "INUSE"
        case .busy: "BUSY"
        case .invalid: "INVALID"
        case .unavailable: "UNAVAILABLE"
        case .ringing: "RINGING"
        case .ringInUse: "RINGINUSE"
        case .onHold: "ONHOLD"
        }
    }

    /// The text `queue show` and PJSIP's `DeviceState:` use (`Not in use`, `Ring+Inuse`…).
    public var description: String {
        switch self {
        case .unknown: "Unknown"
        case .notInUse: "Not in use"
        case .inUse: "In use"
        case .busy: "Busy"
        case .invalid: "Invalid"
        case .unavailable: "Unavailable"
        case .ringing: "Ringing"
        case .ringInUse: "Ring+Inuse"
        case .onHold: "On Hold"
        }
    }

    /// Whether a call could reach the device at all (app_queue skips invalid and unavailable
    /// members whatever `ringinuse` says).
    public var isReachable: Bool { self != .invalid && self != .unavailable }

    /// Whether the device is idle enough to ring with `ringinuse=no` (Asterisk treats UNKNOWN
    /// as idle: a device nobody reports on is still tried).
    public var isIdle: Bool { self == .notInUse || self == .unknown }

    /// A SIP peer's state as chan_sip's `sip_devicestate` derives it: unregistered or
    /// unreachable (qualify) → UNAVAILABLE; a call the phone put on hold → ONHOLD; then ringing
    /// legs (RINGING, or RINGINUSE beside a talking one); at its `call-limit` (or, with one, at
    /// its `busylevel`) → BUSY; else INUSE or NOT_INUSE from its live calls.
    public static func of(
        registered: Bool, reachable: Bool, calls: Int, ringing: Int, onHold: Int = 0, callLimit: Int?, busyLevel: Int? = nil
    ) -> DeviceState {
        guard registered, reachable else { return .unavailable }
        if onHold > 0 { return .onHold }
        if ringing > 0 { return calls > ringing ? .ringInUse : .ringing }
        if let callLimit, calls >= callLimit { return .busy }
        if callLimit != nil, let busyLevel, busyLevel > 0, calls >= busyLevel { return .busy }
        return calls > 0 ? .inUse : .notInUse
    }

    /// Several devices as one (a hint `SIP/1001&SIP/1002`), as Asterisk's
    /// `ast_devstate_aggregate` combines them: a ringing device beside one in use, on hold or
    /// busy makes RINGINUSE; otherwise the state ranked highest in
    /// INVALID < UNKNOWN < UNAVAILABLE < NOT_INUSE < ONHOLD < RINGING < INUSE < BUSY < RINGINUSE.
    public static func aggregate(_ states: [DeviceState]) -> DeviceState {
        let rank: [DeviceState: Int] = [
            .invalid: 0, .unknown: 1, .unavailable: 2, .notInUse: 3, .onHold: 4, .ringing: 5, .inUse: 6, .busy: 7,
            .ringInUse: 8,
        ]
        var result = DeviceState.invalid
        var ringing = false
        var inUse = false
        for state in states {
            if state == .ringing { ringing = true }
            if state == .inUse || state == .onHold || state == .busy { inUse = true }
            if ringing && inUse {
                result = .ringInUse
            } else if rank[state, default: 0] > rank[result, default: 0] {
                result = state
            }
        }
        return result
    }
}

/// A device changed state: published on the event bus as AMI's `DeviceStateChange` (class
/// call) and read by the ACD to follow its members.
public struct DeviceStateChange: Sendable, Equatable {
    /// `SIP/811`.
    public var device: String
    public var state: DeviceState

    public init(device: String, state: DeviceState) {
        self.device = device
        self.state = state
    }

    public static let eventName = "DeviceStateChange"

    public var event: ManagerEvent {
        ManagerEvent(name: Self.eventName, class: .call, fields: [.init("Device", device), .init("State", state.token)])
    }

    /// Reads a `DeviceStateChange` event back (nil for any other event or an unknown state).
    public init?(_ event: ManagerEvent) {
        guard event.name == Self.eventName, let device = event["Device"], let token = event["State"],
            let state = DeviceState.allCases.first(where: { $0.token == token })
        else { return nil }
        self.init(device: device, state: state)
    }
}
