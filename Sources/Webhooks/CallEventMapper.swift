import PBXCore

/// Turns the bus's manager events into CRM events (the Bitrix24-style flow):
///
/// - `call.incoming` — the screen pop: caller number and name, number called, queue. Sent when
///   the call is first routed to someone (it joins a queue, or a phone starts ringing), so the
///   queue is known; a call that ends before that gets it just before `call.ended`.
/// - `call.ringing` — an agent's phone rings (`DialBegin`, `AgentCalled`).
/// - `call.answered` — an agent answered (`DialEnd` ANSWER, `AgentConnect`); only the first.
/// - `call.ended` — the caller's channel hung up: duration, billsec, disposition (ANSWERED,
///   NO ANSWER, BUSY, FAILED as in CDRs), the hangup cause, the MixMonitor file
///   (`recording_file`) and, when pbxd's HTTP port serves recordings, a signed, expiring link
///   to it (`recording_url`).
/// - `agent.state` — `QueueMemberStatus`, `QueueMemberPause`, `QueueMemberAdded`,
///   `QueueMemberRemoved`.
/// - `ami.<Event>` — any manager event as it is (fields as strings), for webhooks that ask.
///
/// A call is its Linkedid; its caller is the channel whose Uniqueid equals it. State is kept per
/// call from its `Newchannel` to its caller's `Hangup`.
public struct CallEventMapper {
    struct Call {
        var start: Double
        var callerNumber: String?
        var callerName: String?
        var called: String?
        var queue: String?
        var answered: Double?
        var recording: String?
        var announced = false
    }

    private var calls: [String: Call] = [:]
    /// Calls tracked at once; beyond it the oldest are dropped (a bus missing Hangups must not
    /// grow memory without bound).
    static let maximumCalls = 100_000

    /// Makes the signed link to a recording file; nil when recordings are not served.
    public typealias RecordingLink = @Sendable (_ file: String) -> String?
    private let recordingLink: RecordingLink?

    public init(recordingLink: RecordingLink? = nil) {
        self.recordingLink = recordingLink
    }

    /// The CRM events `event` gives, in order (often none); with `raw`, first its `ami.` form.
    public mutating func map(_ event: ManagerEvent, raw includeRaw: Bool = false) -> [WebhookEvent] {
        var out: [WebhookEvent] = includeRaw ? [make("ami." + event.name, call: event["Linkedid"], event, raw(event))] : []
        switch event.name {
        case "Newchannel":
            guard let id = event["Uniqueid"], id == event["Linkedid"] else { break }
            if calls.count >= Self.maximumCalls, let oldest = calls.min(by: { $0.value.start < $1.value.start })?.key {
                calls[oldest] = nil
            }
            calls[id] = Call(
                start: event.timestamp, callerNumber: event["CallerIDNum"], callerName: event["CallerIDName"], called: event["Exten"])
        case "QueueCallerJoin":
            guard let id = event["Linkedid"], calls[id] != nil else { break }
            calls[id]!.queue = event["Queue"]
            out += announce(id, event)
        case "DialBegin", "AgentCalled":
            guard let id = event["Linkedid"], calls[id] != nil else { break }
            if let queue = event["Queue"] { calls[id]!.queue = queue }
            out += announce(id, event)
            out.append(make("call.ringing", call: id, event, agentData(event, call: calls[id]!)))
        case "DialEnd", "AgentConnect":
            guard let id = event["Linkedid"], calls[id] != nil, calls[id]!.answered == nil else { break }
            guard event.name == "AgentConnect" || event["DialStatus"] == "ANSWER" else { break }
            calls[id]!.answered = event.timestamp
            out.append(make("call.answered", call: id, event, agentData(event, call: calls[id]!)))
        case "VarSet":
            guard event["Variable"] == "MIXMONITOR_FILENAME", let id = event["Linkedid"], calls[id] != nil else { break }
            calls[id]!.recording = event["Value"]
        case "Hangup":
            guard let id = event["Uniqueid"], id == event["Linkedid"], let call = calls.removeValue(forKey: id) else { break }
            if !call.announced { out.append(incoming(id, call, event)) }
            out.append(ended(id, call, event))
        case "QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved":
            out.append(make("agent.state", call: nil, event, agentState(event)))
        default:
            break
        }
        return out
    }

    private mutating func announce(_ id: String, _ event: ManagerEvent) -> [WebhookEvent] {
        guard let call = calls[id], !call.announced else { return [] }
        calls[id]!.announced = true
        return [incoming(id, call, event)]
    }

    private func incoming(_ id: String, _ call: Call, _ event: ManagerEvent) -> WebhookEvent {
        make("call.incoming", call: id, event, [
            "caller_number": .text(call.callerNumber), "caller_name": .text(call.callerName),
            "called_number": .text(call.called), "queue": .text(call.queue),
        ])
    }

    private func ended(_ id: String, _ call: Call, _ event: ManagerEvent) -> WebhookEvent {
        let cause = Int(event["Cause"] ?? "") ?? 0
        let disposition: String
        if call.answered != nil { disposition = "ANSWERED" }
        else if cause == 17 { disposition = "BUSY" }
        else if [16, 18, 19, 21, 0].contains(cause) { disposition = "NO ANSWER" }
        else { disposition = "FAILED" }
        return make("call.ended", call: id, event, [
            "caller_number": .text(call.callerNumber), "called_number": .text(call.called), "queue": .text(call.queue),
            "duration": .number(Int((event.timestamp - call.start).rounded(.down))),
            "billsec": .number(call.answered.map { Int((event.timestamp - $0).rounded(.down)) } ?? 0),
            "disposition": .string(disposition), "cause": .number(cause), "recording_file": .text(call.recording),
            "recording_url": .text(call.recording.flatMap { recordingLink?($0) }),
        ])
    }

    private func agentData(_ event: ManagerEvent, call: Call) -> [String: WebhookValue] {
        [
            "agent": .text(event["MemberName"] ?? event["DestCallerIDNum"]),
            "agent_channel": .text(event["DestChannel"] ?? event["Interface"]),
            "queue": .text(call.queue), "caller_number": .text(call.callerNumber),
        ]
    }

    private func agentState(_ event: ManagerEvent) -> [String: WebhookValue] {
        var data: [String: WebhookValue] = ["change": .string(event.name)]
        for (key, name) in [("Queue", "queue"), ("MemberName", "agent"), ("Interface", "interface"), ("Status", "status"),
                            ("Paused", "paused"), ("PausedReason", "reason"), ("InCall", "in_call")] {
            if let value = event[key] { data[name] = .string(value) }
        }
        return data
    }

    private func raw(_ event: ManagerEvent) -> [String: WebhookValue] {
        var data: [String: WebhookValue] = [:]
        for field in event.fields where data[field.key] == nil { data[field.key] = .string(field.value) }
        return data
    }

    private func make(_ name: String, call: String?, _ event: ManagerEvent, _ data: [String: WebhookValue]) -> WebhookEvent {
        WebhookEvent(event: name, call: call, timestamp: event.timestamp, data: data)
    }
}
