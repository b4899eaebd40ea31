/// Q.850 hangup causes as Asterisk uses them (`HANGUPCAUSE`, AMI `Cause`), with the SIP mapping
/// of RFC 3398 / chan_sip in both directions.
public enum HangupCause: Int, Sendable, Hashable {
    case unallocated = 1
    case noRouteDestination = 3
    case normalClearing = 16
    case userBusy = 17
    case noUserResponse = 18
    case noAnswer = 19
    case subscriberAbsent = 20
    case callRejected = 21
    case numberChanged = 22
    case destinationOutOfOrder = 27
    case invalidNumberFormat = 28
    case facilityRejected = 29
    case normalUnspecified = 31
    case normalCircuitCongestion = 34
    case networkOutOfOrder = 38
    case temporaryFailure = 41
    case switchCongestion = 42
    case bearerCapabilityNotAvailable = 58
    case incompatibleDestination = 88
    case recoveryOnTimerExpire = 102
    case interworking = 127

    /// Asterisk's text for the cause (`AST_CAUSE_*` names as shown by `Cause-txt`).
    public var text: String {
        switch self {
        case .unallocated: "Unallocated (unassigned) number"
        case .noRouteDestination: "No route to destination"
        case .normalClearing: "Normal Clearing"
        case .userBusy: "User busy"
        case .noUserResponse: "No user responding"
        case .noAnswer: "User alerting, no answer"
        case .subscriberAbsent: "Subscriber absent"
        case .callRejected: "Call Rejected"
        case .numberChanged: "Number changed"
        case .destinationOutOfOrder: "Destination out of order"
        case .invalidNumberFormat: "Invalid number format"
        case .facilityRejected: "Facility rejected"
        case .normalUnspecified: "Normal, unspecified"
        case .normalCircuitCongestion: "Circuit/channel congestion"
        case .networkOutOfOrder: "Network out of order"
        case .temporaryFailure: "Temporary failure"
        case .switchCongestion: "Switching equipment congestion"
        case .bearerCapabilityNotAvailable: "Bearer capability not available"
        case .incompatibleDestination: "Incompatible destination"
        case .recoveryOnTimerExpire: "Recovery on timer expiry"
        case .interworking: "Interworking, unspecified"
        }
    }

    /// The cause for a final SIP failure response (chan_sip `hangup_sip2cause`).
    public init(sipStatus code: Int) {
        switch code {
        case 401, 402, 403: self = .callRejected
        case 404, 604: self = .unallocated
        case 405, 406, 407: self = .interworking
        case 408: self = .noUserResponse
        case 410: self = .numberChanged
        case 413, 414, 416, 420, 421, 423, 505: self = .interworking
        case 480: self = .noAnswer
        case 481, 482, 483, 485: self = .interworking
        case 484: self = .invalidNumberFormat
        case 486, 600: self = .userBusy
        case 487: self = .normalClearing
        case 488, 606: self = .incompatibleDestination
        case 500: self = .temporaryFailure
        case 501: self = .facilityRejected
        case 502: self = .destinationOutOfOrder
        case 503: self = .normalCircuitCongestion
        case 504: self = .recoveryOnTimerExpire
        case 603: self = .callRejected
        default: self = code >= 600 ? .callRejected : (code >= 500 ? .temporaryFailure : .interworking)
        }
    }

    /// The SIP response to send to a caller for this cause (chan_sip `hangup_cause2sip`).
    public var sipStatus: Int {
        switch self {
        case .unallocated, .noRouteDestination: 404
        case .userBusy: 486
        case .noUserResponse: 408
        case .noAnswer, .subscriberAbsent: 480
        case .callRejected: 603
        case .numberChanged: 410
        case .destinationOutOfOrder: 502
        case .invalidNumberFormat: 484
        case .facilityRejected: 501
        case .normalCircuitCongestion, .switchCongestion: 503
        case .networkOutOfOrder, .temporaryFailure: 500
        case .bearerCapabilityNotAvailable, .incompatibleDestination: 488
        case .recoveryOnTimerExpire: 504
        case .interworking: 500
        // chan_sip has no mapping for these and declines the call.
        case .normalClearing, .normalUnspecified: 603
        }
    }
}
