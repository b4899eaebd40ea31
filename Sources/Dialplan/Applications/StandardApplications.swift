import Logging
import PBXCore

/// The basic call-control applications of Asterisk's `pbx_builtin` and `app_verbose`:
/// Answer, Hangup, Wait, NoOp, Set, MSet, Busy, Congestion, Ringing, Progress, Verbose, Log.
enum StandardApplications {
    static let all: [Application] = [
        answer, hangup, wait, noOp, set, mSet, busy, congestion, ringing, progress, verbose, log,
    ]

    /// How long Busy()/Congestion() without a timeout keep indicating before giving up on the
    /// caller hanging up. Asterisk waits forever; a bound keeps a stuck peer from holding a task.
    static let indicationHoldLimit: Duration = .seconds(3600)

    /// `Answer([delay ms])`
    static let answer = Application(name: "Answer") { execution, data in
        if await execution.channel.state == .up { execution.returnedWithoutWaiting() }
        try await execution.channel.answer()
        if let delay = Int(data.trimmingCharacters(in: .whitespaces)), delay > 0 {
            let duration = min(Duration.milliseconds(delay), Duration.dialplanMaximum)
            if await execution.channel.waitForHangup(timeout: duration) { return .hangup(nil) }
        }
        return .proceed
    }

    /// `Hangup([cause])`: cause as a number (`17`) or an Asterisk name (`USER_BUSY`).
    static let hangup = Application(name: "Hangup") { execution, data in
        let text = data.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return .hangup(execution.hangupCause) }
        guard let cause = HangupCause(dialplanText: text) else {
            execution.logger.warning("Hangup: unknown cause '\(text)'; using Normal Clearing")
            return .hangup(.normalClearing)
        }
        execution.hangupCause = cause
        return .hangup(cause)
    }

    /// `Wait(seconds)`: fractional seconds; returns early (and ends the dialplan) on hangup.
    static let wait = Application(name: "Wait") { execution, data in
        guard let duration = Duration.dialplanSeconds(data) else {
            if Double(data.trimmingCharacters(in: .whitespaces)) != 0 {
                execution.logger.warning("Wait: '\(data)' is not a number of seconds; not waiting")
            }
            execution.returnedWithoutWaiting()
            return .proceed
        }
        let hungUp = await execution.channel.waitForHangup(timeout: duration)
        return hungUp ? .hangup(nil) : .proceed
    }

    /// `NoOp(text)`: does nothing; its (substituted) argument shows in debug logs.
    static let noOp = Application(name: "NoOp", isInstant: true) { _, _ in .proceed }

    /// `Set(name=value)`: the value keeps its commas (Asterisk splits only at the first `=`);
    /// `_name`/`__name` mark inheritance; `FUNC(args)=value` writes a function.
    static let set = Application(name: "Set", isInstant: true) { execution, data in
        let (name, value) = ArgumentSplitter.splitOnce(data, at: "=")
        guard let value, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            execution.logger.warning("Set: '\(data)' has no 'name=value'; ignored", metadata: ["location": "\(execution.location)"])
            return .proceed
        }
        try await execution.assign(name, value: value)
        return .proceed
    }

    /// `MSet(name1=value1,name2=value2,...)`: several assignments at once. Unlike Set, the
    /// arguments are split at commas with quotes removed (Asterisk warns that MSet strips
    /// double quotes from values); a pair without `=` is skipped with a warning.
    static let mSet = Application(name: "MSet", isInstant: true) { execution, data in
        for pair in ArgumentSplitter.split(data) where !pair.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let equals = pair.firstIndex(of: "=") else {
                execution.logger.warning("MSet: ignoring entry '\(pair)' with no '='", metadata: ["location": "\(execution.location)"])
                continue
            }
            try await execution.assign(String(pair[..<equals]), value: String(pair[pair.index(after: equals)...]))
        }
        return .proceed
    }

    /// `Busy([timeout])`: busy to the caller, hang up with User Busy (17).
    static let busy = Application(name: "Busy") { execution, data in
        await indicateThenHangUp(execution, indication: .busy, cause: .userBusy, timeout: data)
    }

    /// `Congestion([timeout])`: congestion to the caller, hang up with cause 34.
    static let congestion = Application(name: "Congestion") { execution, data in
        await indicateThenHangUp(execution, indication: .congestion, cause: .normalCircuitCongestion, timeout: data)
    }

    /// Asterisk's `indicate_busy`/`indicate_congestion`: indicate, wait for the caller to hang
    /// up (at most `timeout` seconds when given), then hang up with the cause.
    private static func indicateThenHangUp(_ execution: ChannelExecution, indication: ChannelIndication, cause: HangupCause, timeout: String) async -> ApplicationResult {
        execution.hangupCause = cause
        await execution.channel.indicate(indication)
        let text = timeout.trimmingCharacters(in: .whitespaces)
        // Busy(0) hangs up at once; no (or a bad) timeout waits for the caller to hang up.
        let limit: Duration = Double(text) == 0 ? .zero : (Duration.dialplanSeconds(text) ?? indicationHoldLimit)
        _ = await execution.channel.waitForHangup(timeout: limit)
        return .hangup(cause)
    }

    /// `Ringing()`: 180 Ringing to the caller.
    static let ringing = Application(name: "Ringing", isInstant: true) { execution, _ in
        await execution.channel.indicate(.ringing)
        return .proceed
    }

    /// `Progress()`: 183 Session Progress to the caller.
    static let progress = Application(name: "Progress", isInstant: true) { execution, _ in
        await execution.channel.indicate(.progress)
        return .proceed
    }

    /// `Verbose([level,]message)`: the message to the log at info level.
    static let verbose = Application(name: "Verbose", isInstant: true) { execution, data in
        let (first, rest) = ArgumentSplitter.splitOnce(data, at: ",")
        var message = data
        if let rest, Int(first.trimmingCharacters(in: .whitespaces)) != nil { message = rest }
        execution.logger.info("\(message)", metadata: ["location": "\(execution.location)"])
        return .proceed
    }

    /// `Log(level,message)` with Asterisk's levels (ERROR, WARNING, NOTICE, DEBUG, VERBOSE, DTMF).
    static let log = Application(name: "Log", isInstant: true) { execution, data in
        let (levelText, rest) = ArgumentSplitter.splitOnce(data, at: ",")
        guard let message = rest else {
            execution.logger.warning("Log: expected Log(level,message), got '\(data)'")
            return .proceed
        }
        let level: Logger.Level = switch levelText.trimmingCharacters(in: .whitespaces).uppercased() {
        case "ERROR": .error
        case "WARNING": .warning
        case "NOTICE": .notice
        case "DEBUG", "DTMF": .debug
        default: .info
        }
        execution.logger.log(level: level, "\(message)", metadata: ["location": "\(execution.location)"])
        return .proceed
    }
}

extension HangupCause {
    /// `17`, or Asterisk's cause name as `Hangup()` accepts it (`USER_BUSY`, `CONGESTION`, …).
    init?(dialplanText text: String) {
        if let number = Int(text) {
            self.init(rawValue: number)
            return
        }
        let names: [String: HangupCause] = [
            "UNALLOCATED": .unallocated, "NO_ROUTE_DESTINATION": .noRouteDestination,
            "NORMAL_CLEARING": .normalClearing, "NORMAL": .normalClearing,
            "USER_BUSY": .userBusy, "BUSY": .userBusy,
            "NO_USER_RESPONSE": .noUserResponse, "NO_ANSWER": .noAnswer, "NOANSWER": .noAnswer,
            "SUBSCRIBER_ABSENT": .subscriberAbsent, "CALL_REJECTED": .callRejected,
            "NUMBER_CHANGED": .numberChanged, "DESTINATION_OUT_OF_ORDER": .destinationOutOfOrder,
            "INVALID_NUMBER_FORMAT": .invalidNumberFormat, "FACILITY_REJECTED": .facilityRejected,
            "NORMAL_UNSPECIFIED": .normalUnspecified,
            "NORMAL_CIRCUIT_CONGESTION": .normalCircuitCongestion, "CONGESTION": .normalCircuitCongestion,
            "NETWORK_OUT_OF_ORDER": .networkOutOfOrder, "NORMAL_TEMPORARY_FAILURE": .temporaryFailure,
            "SWITCH_CONGESTION": .switchCongestion, "BEARERCAPABILITY_NOTAVAIL": .bearerCapabilityNotAvailable,
            "INCOMPATIBLE_DESTINATION": .incompatibleDestination,
            "RECOVERY_ON_TIMER_EXPIRE": .recoveryOnTimerExpire, "INTERWORKING": .interworking,
        ]
        guard let cause = names[text.uppercased()] else { return nil }
        self = cause
    }
}
