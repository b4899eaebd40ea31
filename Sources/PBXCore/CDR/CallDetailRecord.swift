import Foundation

/// One finished CDR: Party A's leg of a call, optionally against one Party B
/// (cdr-queue-log.md §1). Field names are Asterisk's; times are seconds since the epoch
/// (`answer` nil when the leg was never answered).
public struct CallDetailRecord: Sendable, Equatable, Codable {
    public var accountCode: String
    public var source: String
    public var destination: String
    public var destinationContext: String
    public var callerID: String
    public var channel: String
    public var destinationChannel: String
    public var lastApplication: String
    public var lastData: String
    public var start: Double
    public var answer: Double?
    public var end: Double
    public var disposition: CDRDisposition
    public var amaFlags: AMAFlags
    public var uniqueID: String
    public var linkedID: String
    public var userField: String
    public var peerAccount: String
    public var sequence: Int
    /// Variables the dialplan set with `Set(CDR(name)=…)` other than the built-in fields —
    /// `recordingfile`, `did`, … — written by backends into columns of the same name.
    public var variables: [String: String]

    public init(
        accountCode: String = "", source: String, destination: String, destinationContext: String,
        callerID: String, channel: String, destinationChannel: String = "", lastApplication: String,
        lastData: String, start: Double, answer: Double?, end: Double, disposition: CDRDisposition,
        amaFlags: AMAFlags = .documentation, uniqueID: String, linkedID: String, userField: String = "",
        peerAccount: String = "", sequence: Int, variables: [String: String] = [:]
    ) {
        self.accountCode = accountCode
        self.source = source
        self.destination = destination
        self.destinationContext = destinationContext
        self.callerID = callerID
        self.channel = channel
        self.destinationChannel = destinationChannel
        self.lastApplication = lastApplication
        self.lastData = lastData
        self.start = start
        self.answer = answer
        self.end = end
        self.disposition = disposition
        self.amaFlags = amaFlags
        self.uniqueID = uniqueID
        self.linkedID = linkedID
        self.userField = userField
        self.peerAccount = peerAccount
        self.sequence = sequence
        self.variables = variables
    }

    /// `end - start` in whole seconds, truncated (includes ring time).
    public var duration: Int { Self.wholeSeconds(from: start, to: end) }

    /// `end - answer` in whole seconds, truncated; 0 when never answered (talk time).
    public var billableSeconds: Int {
        guard let answer else { return 0 }
        return Self.wholeSeconds(from: answer, to: end)
    }

    /// The MixMonitor file name, if the dialplan or MixMonitor set `CDR(recordingfile)`.
    public var recordingFile: String { variables["recordingfile"] ?? "" }

    /// Asterisk computes in milliseconds, then divides: the same truncation here.
    static func wholeSeconds(from start: Double, to end: Double) -> Int {
        let milliseconds = Int64(((end - start) * 1000).rounded(.down))
        return Int(max(0, milliseconds / 1000))
    }
}

/// How the leg ended (Asterisk `ast_cdr_disp_str`), with the integer codes of numeric columns.
public enum CDRDisposition: String, Sendable, Codable, CaseIterable {
    case noAnswer = "NO ANSWER"
    case failed = "FAILED"
    case busy = "BUSY"
    case answered = "ANSWERED"
    case congestion = "CONGESTION"

    public var code: Int {
        switch self {
        case .noAnswer: 0
        case .failed: 2
        case .busy: 4
        case .answered: 8
        case .congestion: 16
        }
    }

    /// Dial()'s `DIALSTATUS` (DialEnd `DialStatus`) as a disposition, as `dial_status_to_disposition`
    /// does: CONGESTION is FAILED unless cdr.conf `congestion = yes`.
    public static func fromDialStatus(_ status: String, reportCongestion: Bool) -> CDRDisposition {
        switch status.uppercased() {
        case "ANSWER": .answered
        case "BUSY": .busy
        case "CANCEL", "NOANSWER": .noAnswer
        case "CONGESTION": reportCongestion ? .congestion : .failed
        default: .failed
        }
    }

    /// A Q.850 cause as a disposition, for legs that never dialed (`hangup_cause_to_disposition`).
    public static func fromHangupCause(_ cause: Int, reportCongestion: Bool) -> CDRDisposition {
        switch cause {
        case HangupCause.userBusy.rawValue: .busy
        case HangupCause.normalCircuitCongestion.rawValue: reportCongestion ? .congestion : .failed
        case HangupCause.normalClearing.rawValue, HangupCause.noAnswer.rawValue: .noAnswer
        default: .failed
        }
    }
}

/// Automatic Message Accounting flags (`CHANNEL(amaflags)`); DOCUMENTATION by default.
public enum AMAFlags: String, Sendable, Codable {
    case omit = "OMIT"
    case billing = "BILLING"
    case documentation = "DOCUMENTATION"

    public var code: Int {
        switch self {
        case .omit: 1
        case .billing: 2
        case .documentation: 3
        }
    }
}
