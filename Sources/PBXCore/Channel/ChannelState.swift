/// Asterisk's channel states with the numbers AMI reports as `ChannelState`.
public enum ChannelState: Int, Sendable, Hashable {
    case down = 0
    case reserved = 1
    case offHook = 2
    case dialing = 3
    case ring = 4
    case ringing = 5
    case up = 6
    case busy = 7

    /// `ChannelStateDesc` as AMI prints it.
    public var description: String {
        switch self {
        case .down: "Down"
        case .reserved: "Rsrvd"
        case .offHook: "OffHook"
        case .dialing: "Dialing"
        case .ring: "Ring"
        case .ringing: "Ringing"
        case .up: "Up"
        case .busy: "Busy"
        }
    }
}

/// What a channel can signal to its peer before or instead of answering.
public enum ChannelIndication: Sendable, Hashable {
    case ringing
    case progress
    case busy
    case congestion
}

/// `DIALSTATUS` values set by Dial().
public enum DialStatus: String, Sendable {
    case answer = "ANSWER"
    case busy = "BUSY"
    case noAnswer = "NOANSWER"
    case cancel = "CANCEL"
    case congestion = "CONGESTION"
    case chanUnavail = "CHANUNAVAIL"
    case dontCall = "DONTCALL"
    case torture = "TORTURE"
    case invalidArgs = "INVALIDARGS"
}
