import Dialplan
import Foundation
import Logging
import PBXCore

/// Originate (ami.md §8.1): rings `Channel` with `CallDialer.place` (no caller, own media) and,
/// once it answers, runs it from `Exten@Context:Priority` — or runs `Application(Data)` on it —
/// in the dialplan executor. Sync replies when the call is answered or fails; `Async: true`
/// replies at once and reports the outcome as `OriginateResponse` (class call) with the
/// request's ActionID. Handled by the session (not the registry) because the application
/// blacklist depends on the user's write classes.
///
/// Not supported: `ChannelId`/`OtherChannelId` (the channel driver picks Uniqueids; the header
/// is ignored with a log line), `Account`, `Codecs`, `EarlyMedia`, `PreDialGoSub`.
public struct Originator: Sendable {
    let dialer: any CallDialer
    let executor: DialplanExecutor
    let bus: EventBus
    let logger: Logger

    public init(dialer: any CallDialer, executor: DialplanExecutor, bus: EventBus, logger: Logger) {
        self.dialer = dialer
        self.executor = executor
        self.bus = bus
        self.logger = logger
    }

    /// Applications (and words in Data) that need `system` write permission on top of
    /// `originate`: they run commands, scripts or change the system (Asterisk's list).
    static let blacklistedApplications: Set<String> = [
        "system", "exec", "agi", "eagi", "externalivr", "mixmonitor", "originate", "reload", "dbdeltree",
    ]
    static let blacklistedDataWords = ["SHELL", "EVAL", "FILE", "CURL", "ODBC", "DB", "REALTIME", "SYSTEM", "EXEC"]

    /// What to run once the channel answers.
    enum Destination {
        case dialplan(context: String, exten: String, priority: Int)
        case application(name: String, data: String)
    }

    struct Request {
        var target: CallTarget
        var destination: Destination
        var timeout: Duration
        var callerID: CallerID?
        var variables: [String: String]
        var async: Bool
    }

    /// Parses and checks a request (errors worded as Asterisk's).
    func parse(_ request: ManagerRequest, maySystem: Bool) -> Result<Request, OriginateError> {
        guard let channel = nonEmpty(request["Channel"]) else { return .failure("Channel not specified") }
        guard let target = CallTarget(channel) else { return .failure("Invalid channel") }
        var timeout = Duration.seconds(30)
        if let text = nonEmpty(request["Timeout"]) {
            guard let ms = Int(text), ms >= 0 else { return .failure("Invalid timeout") }
            timeout = .milliseconds(ms)
        }
        let destination: Destination
        if let application = nonEmpty(request["Application"]) {
            let data = request["Data"] ?? ""
            let dangerous = Self.blacklistedApplications.contains(application.lowercased())
                || Self.blacklistedDataWords.contains { data.uppercased().contains($0) }
                || (application.lowercased() == "queue" && data.uppercased().contains("AGI"))
            guard maySystem || !dangerous else { return .failure("Originate Access Forbidden: app or data blacklisted") }
            destination = .application(name: application, data: data)
        } else {
            guard let exten = nonEmpty(request["Exten"]), let context = nonEmpty(request["Context"]),
                  let priorityText = nonEmpty(request["Priority"]) else {
                return .failure("Originate with 'Exten' requires 'Context' and 'Priority'")
            }
            guard let priority = Int(priorityText) ?? executor.dialplan.findLabel(context: context, exten: exten, label: priorityText),
                  priority > 0 else { return .failure("Invalid priority") }
            guard executor.hasExtension(context: context, exten: exten, callerID: nil) else { return .failure("Extension does not exist.") }
            destination = .dialplan(context: context, exten: exten, priority: priority)
        }
        if nonEmpty(request["ChannelId"]) != nil {
            logger.notice("Originate: ChannelId is not supported; the channel gets its own Uniqueid")
        }
        var variables: [String: String] = [:]
        for header in request.values("Variable") {
            for pair in header.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2, !parts[0].isEmpty { variables[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1] }
            }
        }
        let async = ["true", "yes", "1", "on", "y", "t"].contains((request["Async"] ?? "").lowercased())
        return .success(Request(target: target, destination: destination, timeout: timeout,
                                callerID: nonEmpty(request["CallerID"]).flatMap(CallerID.init(parsing:)),
                                variables: variables, async: async))
    }

    /// Runs an Originate. Sync: returns once the call is answered or failed. Async: returns the
    /// reply at once and the attempt as `background`, which the session starts only after it
    /// wrote the reply — so OriginateResponse can never overtake "successfully queued".
    func originate(_ request: ManagerRequest, maySystem: Bool) async -> (reply: ManagerReply, background: (@Sendable () async -> Void)?) {
        let parsed: Request
        switch parse(request, maySystem: maySystem) {
        case .success(let ok): parsed = ok
        case .failure(let error): return (.error(error.message), nil)
        }
        let actionID = request["ActionID"]
        if parsed.async {
            return (.success(message: "Originate successfully queued"), { [self] in
                let outcome = await place(parsed)
                bus.publish(originateResponse(parsed, outcome: outcome, actionID: actionID))
            })
        }
        let outcome = await place(parsed)
        return (outcome.reason == 4 ? .success(message: "Originate successfully queued") : .error("Originate failed"), nil)
    }

    /// How an attempt ended: OriginateResponse's `Reason` (4 answered, 5 busy, 3 no answer,
    /// 8 congestion, 1 hung up before answer, 0 could not dial) and the answered channel.
    struct Outcome {
        var reason: Int
        var snapshot: ChannelSnapshot?
    }

    private func place(_ request: Request) async -> Outcome {
        let options = PlaceOptions(callerID: request.callerID.map { ($0.number ?? "", $0.name ?? "") }, timeout: request.timeout)
        let placed: PlacedCall
        switch await dialer.place(request.target, for: nil, options: options) {
        case .failure(let failure):
            logger.notice("Originate could not dial", metadata: ["channel": "\(request.target)", "reason": "\(failure.description)"])
            return Outcome(reason: 0)
        case .success(let call):
            placed = call
        }
        for await progress in placed.progress {
            switch progress {
            case .ringing:
                continue
            case .answered:
                let snapshot = await placed.channel.snapshot
                run(request, on: placed.channel)
                return Outcome(reason: 4, snapshot: snapshot)
            case .failed(let cause):
                return Outcome(reason: Self.reason(for: cause))
            }
        }
        return Outcome(reason: 1)
    }

    static func reason(for cause: HangupCause) -> Int {
        switch cause {
        case .userBusy: 5
        case .noAnswer, .noUserResponse: 3
        case .normalCircuitCongestion, .switchCongestion: 8
        case .normalClearing, .callRejected: 1
        default: 0
        }
    }

    /// Starts the answered channel on its destination, in its own task (the channel's thread).
    private func run(_ request: Request, on channel: any CallChannel) {
        switch request.destination {
        case .dialplan(let context, let exten, let priority):
            Task { await executor.run(channel: channel, context: context, exten: exten, priority: priority, variables: request.variables) }
        case .application(let name, let data):
            var single = executor
            let context = "pbxd-originate-application"
            guard let built = Self.singleApplicationContext(context, application: name, data: data) else {
                logger.warning("Originate: cannot run application", metadata: ["application": "\(name)"])
                Task { await channel.hangup(cause: .normalClearing) }
                return
            }
            single.dialplan.contexts[context] = built
            Task { await single.run(channel: channel, context: context, exten: "s", priority: 1, variables: request.variables) }
        }
    }

    /// A context whose `s` extension runs one application, so Originate's Application/Data
    /// goes through the executor like any priority (hang-up after it, as Asterisk does). Built
    /// by the dialplan's own loader (`;` in Data escaped); nil when it refuses the text.
    static func singleApplicationContext(_ name: String, application: String, data: String) -> DialplanContext? {
        let escaped = data.replacingOccurrences(of: ";", with: "\\;")
        let text = "[\(name)]\nexten => s,1,\(application)(\(escaped))\n"
        guard let (dialplan, _) = try? Dialplan.parse(text, fileName: "AMI Originate") else { return nil }
        return dialplan.contexts[name]
    }

    /// OriginateResponse as captured (transcript ami-05): on failure the requested dial string,
    /// `Uniqueid: <unknown>` and unknown caller ID.
    func originateResponse(_ request: Request, outcome: Outcome, actionID: String?) -> ManagerEvent {
        var fields: [ManagerEvent.Field] = []
        if let actionID, !actionID.isEmpty { fields.append(.init("ActionID", actionID)) }
        let answered = outcome.reason == 4
        fields.append(.init("Response", answered ? "Success" : "Failure"))
        fields.append(.init("Channel", outcome.snapshot?.name ?? request.target.description))
        switch request.destination {
        case .dialplan(let context, let exten, _):
            fields += [.init("Context", context), .init("Exten", exten)]
        case .application(let name, let data):
            fields += [.init("Application", name), .init("Data", data)]
        }
        func known(_ value: String?) -> String { (value?.isEmpty ?? true) ? "<unknown>" : value! }
        fields += [
            .init("Reason", String(outcome.reason)), .init("Uniqueid", known(outcome.snapshot?.uniqueID)),
            .init("CallerIDNum", known(outcome.snapshot?.callerIDNumber)), .init("CallerIDName", known(outcome.snapshot?.callerIDName)),
        ]
        return ManagerEvent(name: "OriginateResponse", class: .call, fields: fields)
    }
}

/// An Originate request that is refused before dialing, with Asterisk's message.
struct OriginateError: Error, ExpressibleByStringLiteral {
    var message: String
    init(stringLiteral message: String) { self.message = message }
}
