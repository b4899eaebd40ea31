/// A hint's state as AMI reports it (ExtensionState `Status:`, the ExtensionStatus event):
/// Asterisk's `AST_EXTENSION_*` bit values and the `StatusText` names `ast_extension_state2str`
/// gives them.
public enum ExtensionState: Int, Sendable, CaseIterable {
    /// The extension has no hint (`Status: -1`, `StatusText: Unknown`).
    case noHint = -1
    case idle = 0
    case inUse = 1
    case busy = 2
    case unavailable = 4
    case ringing = 8
    case inUseRinging = 9
    case onHold = 16

    public var text: String {
        switch self {
        case .noHint: "Unknown"
        case .idle: "Idle"
        case .inUse: "InUse"
        case .busy: "Busy"
        case .unavailable: "Unavailable"
        case .ringing: "Ringing"
        case .inUseRinging: "InUse&Ringing"
        case .onHold: "Hold"
        }
    }

    /// `ast_devstate_to_extenstate`: what a (combined) device state shows as.
    public init(_ device: DeviceState) {
        switch device {
        case .unknown, .notInUse: self = .idle
        case .inUse: self = .inUse
        case .busy: self = .busy
        case .invalid, .unavailable: self = .unavailable
        case .ringing: self = .ringing
        case .ringInUse: self = .inUseRinging
        case .onHold: self = .onHold
        }
    }

    /// The state of a hint whose devices are in `devices` (`SIP/1001&SIP/1002`).
    public init(hintDevices devices: [DeviceState]) {
        self.init(DeviceState.aggregate(devices))
    }

    /// AMI's ExtensionStatus event (class call), sent when a hint's state changes.
    public static func statusEvent(exten: String, context: String, hint: String, state: ExtensionState) -> ManagerEvent {
        ManagerEvent(name: "ExtensionStatus", class: .call, fields: [
            .init("Exten", exten), .init("Context", context), .init("Hint", hint),
            .init("Status", String(state.rawValue)), .init("StatusText", state.text),
        ])
    }
}
