/// Builds CDRs from the switch's events the way Asterisk 12+'s `cdr.c` does from its channel,
/// dial and bridge messages. A value-type state machine: `handle(_:)` takes one bus event and
/// returns the records that became final (a channel's whole chain when it hangs up), so tests
/// feed it event sequences and the service does the I/O.
///
/// The model (cdr-queue-log.md §1): each channel is Party A of a chain of records. A record gets
/// its Party B from `DialBegin` (one record per dialed target: ringall and queues give one row
/// per rung phone) or from sharing a bridge; `DialEnd` sets the disposition, the Party A
/// channel going Up (or entering a bridge) sets `answer`, leaving the bridge or hanging up ends
/// it. When Party A runs a new application after its record ended (Dial failed, then Playback;
/// a redirected callee) a new record starts. On `Hangup` the chain is dispatched, dropping
/// records of dialed channels with no Party B and — unless `logUnanswered` — unanswered
/// records with no Party B, as Asterisk's `unanswered = no` does.
///
/// Not modelled (documented gaps): transfers (attended/blind forks), `endbeforehexten`,
/// `CDR_PROP`/`NoCDR`/`ResetCDR`/`ForkCDR`, more than two parties in one bridge.
public struct CDREngine: Sendable {
    /// cdr.conf `[general]` switches that change what is built.
    public struct Options: Sendable, Equatable {
        /// `unanswered = yes`: also log unanswered records that have no Party B.
        public var logUnanswered: Bool
        /// `congestion = yes`: report CONGESTION instead of FAILED.
        public var reportCongestion: Bool
        public init(logUnanswered: Bool = false, reportCongestion: Bool = false) {
            self.logUnanswered = logUnanswered
            self.reportCongestion = reportCongestion
        }
    }

    private var channels: [String: TrackedChannel] = [:]
    private var uniqueIDByName: [String: String] = [:]
    private var chains: [String: [OpenRecord]] = [:]
    private var bridges: [String: [String]] = [:]
    private var nextSequence = 0
    public var options: Options
    public let variables: CDRVariableStore

    public init(options: Options = Options(), variables: CDRVariableStore = CDRVariableStore(), firstSequence: Int = 0) {
        self.options = options
        self.variables = variables
        self.nextSequence = firstSequence
    }

    /// The sequence the next record gets (a replacement engine continues from it).
    public var nextSequenceNumber: Int { nextSequence }

    /// Channels still tracked (a leak check for tests).
    public var trackedChannelCount: Int { channels.count }

    /// Applies one event; returns the records finished by it, in chain order.
    public mutating func handle(_ managerEvent: ManagerEvent) -> [CallDetailRecord] {
        let event = EventFields(managerEvent)
        let time = event.timestamp
        switch managerEvent.name {
        case "Newexten":
            if let id = track(event, prefix: "") { applicationChanged(id, event: event, at: time) }
        case "DialBegin":
            dialBegan(event, at: time)
        case "DialEnd":
            dialEnded(event, at: time)
        case "BridgeEnter":
            if let id = track(event, prefix: ""), let bridge = event["BridgeUniqueid"] { entered(bridge, id, at: time) }
        case "BridgeLeave":
            if let id = track(event, prefix: ""), let bridge = event["BridgeUniqueid"] { left(bridge, id, at: time) }
        case "Hangup":
            if let id = track(event, prefix: "") { return hungUp(id, cause: Int(event["Cause"] ?? "") ?? 0, at: time) }
        default:
            // Newchannel, Newstate, NewCallerid, NewAccountCode, VarSet…: the channel block keeps
            // the channel's caller ID, account and state fresh (and starts its first record).
            _ = track(event, prefix: "")
        }
        return []
    }

    // MARK: Channels

    /// Updates (or starts tracking) the channel an event's block describes; returns its Uniqueid.
    /// DialBegin's destination block lacks `DestUniqueid` in Asterisk 18, so names resolve too.
    private mutating func track(_ event: EventFields, prefix: String) -> String? {
        guard let name = event[prefix + "Channel"], !name.isEmpty else { return nil }
        // OriginateResponse's failure form names a dial string with `Uniqueid: <unknown>`.
        let stated = event[prefix + "Uniqueid"].flatMap { $0.isEmpty || $0 == "<unknown>" ? nil : $0 }
        guard let id = stated ?? (event[prefix + "Uniqueid"] == nil ? uniqueIDByName[name] : nil) else { return nil }
        var channel = channels[id] ?? TrackedChannel(name: name, uniqueID: id, created: event.timestamp)
        channel.update(from: event, prefix: prefix)
        if channels[id] == nil { uniqueIDByName[name] = id }
        channels[id] = channel
        if chains[id] == nil { startRecord(for: id, at: event.timestamp) }
        if event[prefix + "ChannelState"] == "6" { markAnswered(id, at: event.timestamp) }
        return id
    }

    private mutating func startRecord(for id: String, at time: Double) {
        guard let channel = channels[id] else { return }
        var record = OpenRecord(sequence: nextSequence, start: time)
        nextSequence += 1
        record.context = channel.context
        record.exten = channel.exten
        if let previous = chains[id]?.last {
            record.application = previous.application
            record.data = previous.data
            record.context = previous.context
            record.exten = previous.exten
        }
        if channel.answeredAt != nil { record.answer = time }
        chains[id, default: []].append(record)
        variables.set("start", String(time), channel: id)
    }

    /// Party A went Up: its open record is answered — unless that record is a Dial target
    /// still ringing (ringall), whose answer comes from its own DialEnd.
    private mutating func markAnswered(_ id: String, at time: Double) {
        guard channels[id]?.answeredAt == nil else { return }
        channels[id]?.answeredAt = time
        guard let index = openIndex(id), chains[id]![index].answer == nil else { return }
        let record = chains[id]![index]
        guard record.partyB == nil || record.disposition == .answered else { return }
        chains[id]![index].answer = time
        variables.set("answer", String(time), channel: id)
    }

    /// Newexten: the dialplan moved on. Dial's placeholder (`AppDial`) is not an application.
    private mutating func applicationChanged(_ id: String, event: EventFields, at time: Double) {
        guard let application = event["Application"], !application.isEmpty,
              !Self.isOutgoingLinePlaceholder(application, data: event["AppData"] ?? "") else { return }
        let context = event["Context"] ?? "", exten = event["Extension"] ?? event["Exten"] ?? ""
        // A dialed channel that runs dialplan (redirected out of its bridge) is now a caller.
        channels[id]?.isDialed = false
        if openIndex(id) == nil {
            guard exten != "h" else { return }
            startRecord(for: id, at: time)
        }
        let index = openIndex(id)!
        chains[id]![index].application = application
        chains[id]![index].data = event["AppData"] ?? ""
        chains[id]![index].context = context
        chains[id]![index].exten = exten
    }

    /// What Dial/Queue put in a callee's dialplan fields while it is only a dialed line
    /// (`AppDial`/`AppDial2`/`AppQueue`, data `(Outgoing Line)`): not an application it ran.
    static func isOutgoingLinePlaceholder(_ application: String, data: String) -> Bool {
        let name = application.lowercased()
        return data == "(Outgoing Line)" || name.hasPrefix("appdial") || name == "appqueue"
    }

    // MARK: Dial

    private mutating func dialBegan(_ event: EventFields, at time: Double) {
        guard let callee = track(event, prefix: "Dest") else { return }
        channels[callee]?.isDialed = true
        // Originate with no caller channel: only the destination block is present.
        guard let caller = track(event, prefix: "") else { return }
        if let index = openIndex(caller), chains[caller]![index].partyB == nil {
            chains[caller]![index].partyB = callee
        } else {
            closeOpen(caller, at: time, keepingDialState: true)
            startRecord(for: caller, at: time)
            chains[caller]![chains[caller]!.count - 1].partyB = callee
        }
    }

    private mutating func dialEnded(_ event: EventFields, at time: Double) {
        guard let callee = track(event, prefix: "Dest"), let caller = track(event, prefix: ""),
              let status = event["DialStatus"], !status.isEmpty,
              let index = chains[caller]?.lastIndex(where: { $0.partyB == callee && $0.end == nil }) else { return }
        let disposition = CDRDisposition.fromDialStatus(status, reportCongestion: options.reportCongestion)
        chains[caller]![index].disposition = disposition
        variables.set("disposition", disposition.rawValue, channel: caller)
        if disposition == .answered {
            if chains[caller]![index].answer == nil { chains[caller]![index].answer = time }
        } else {
            finish(caller, index, at: time)
        }
    }

    // MARK: Bridges

    private mutating func entered(_ bridge: String, _ id: String, at time: Double) {
        let others = bridges[bridge] ?? []
        bridges[bridge] = others + [id]
        for other in others {
            let (a, b) = pickPartyA(id, other)
            guard let chain = chains[a] else { continue }
            // The Dial record with this Party B, else an open record still without one.
            guard let index = chain.lastIndex(where: { $0.end == nil && $0.partyB == b })
                ?? chain.lastIndex(where: { $0.end == nil && $0.partyB == nil }) else { continue }
            chains[a]![index].partyB = b
            if chains[a]![index].answer == nil { chains[a]![index].answer = time }
        }
    }

    /// Leaving the bridge ends the leaver's record and every open record it is Party B of.
    private mutating func left(_ bridge: String, _ id: String, at time: Double) {
        bridges[bridge]?.removeAll { $0 == id }
        if bridges[bridge]?.isEmpty == true { bridges[bridge] = nil }
        closeOpen(id, at: time, keepingDialState: false)
        closeRecords(withPartyB: id, at: time)
    }

    /// Asterisk's `cdr_object_pick_party_a`: a channel that was dialed is Party B against one
    /// that wasn't; otherwise the older channel is Party A.
    private func pickPartyA(_ x: String, _ y: String) -> (String, String) {
        let cx = channels[x], cy = channels[y]
        if cx?.isDialed == true, cy?.isDialed != true { return (y, x) }
        if cy?.isDialed == true, cx?.isDialed != true { return (x, y) }
        return (cx?.created ?? 0) <= (cy?.created ?? 0) ? (x, y) : (y, x)
    }

    // MARK: Hangup

    private mutating func hungUp(_ id: String, cause: Int, at time: Double) -> [CallDetailRecord] {
        channels[id]?.hangupCause = cause
        closeOpen(id, at: time, keepingDialState: false)
        closeRecords(withPartyB: id, at: time)
        for (bridge, members) in bridges where members.contains(id) {
            bridges[bridge]!.removeAll { $0 == id }
            if bridges[bridge]!.isEmpty { bridges[bridge] = nil }
        }
        guard let channel = channels.removeValue(forKey: id) else { return [] }
        if uniqueIDByName[channel.name] == id { uniqueIDByName[channel.name] = nil }
        let chain = chains.removeValue(forKey: id) ?? []
        let variables = self.variables.finish(channel: id)
        return chain.compactMap { dispatchable($0, partyA: channel, variables: variables) }
    }

    /// The public record, or nil when Asterisk's filters drop it.
    private func dispatchable(_ record: OpenRecord, partyA: TrackedChannel, variables: [String: String]) -> CallDetailRecord? {
        if record.partyADialed && record.partyB == nil { return nil }
        let disposition = record.disposition ?? defaultDisposition(record, partyA: partyA)
        let unanswered: Set<CDRDisposition> = [.noAnswer, .failed, .busy]
        if !options.logUnanswered && unanswered.contains(disposition) && record.partyB == nil { return nil }
        var userField = variables["userfield"] ?? ""
        if !record.partyBUserField.isEmpty {
            userField = userField.isEmpty ? record.partyBUserField : userField + ";" + record.partyBUserField
        }
        let reserved = Set(["userfield", "accountcode", "amaflags"]).union(CDRVariableStore.liveFields)
        return CallDetailRecord(
            accountCode: variables["accountcode"] ?? partyA.accountCode,
            source: partyA.callerIDNumber,
            destination: record.exten,
            destinationContext: record.context,
            callerID: "\"\(partyA.callerIDName)\" <\(partyA.callerIDNumber)>",
            channel: partyA.name,
            destinationChannel: record.partyBName,
            lastApplication: record.application,
            lastData: record.data,
            start: record.start,
            answer: record.answer,
            end: record.end ?? record.start,
            disposition: disposition,
            amaFlags: variables["amaflags"].flatMap { AMAFlags(rawValue: $0.uppercased()) } ?? .documentation,
            uniqueID: partyA.uniqueID,
            linkedID: partyA.linkedID,
            userField: userField,
            peerAccount: record.partyBAccount,
            sequence: record.sequence,
            variables: variables.filter { !reserved.contains($0.key) })
    }

    private func defaultDisposition(_ record: OpenRecord, partyA: TrackedChannel) -> CDRDisposition {
        if record.answer != nil { return .answered }
        let cause = partyA.hangupCause ?? 0 != 0 ? partyA.hangupCause! : record.partyBCause
        guard cause != 0 else { return .failed }
        return .fromHangupCause(cause, reportCongestion: options.reportCongestion)
    }

    // MARK: Record bookkeeping

    private func openIndex(_ id: String) -> Int? {
        guard let chain = chains[id], let last = chain.indices.last, chain[last].end == nil else { return nil }
        return last
    }

    /// Ends the channel's open record. A new DialBegin while the previous target is still
    /// ringing (ringall) leaves that record open: its DialEnd ends it.
    private mutating func closeOpen(_ id: String, at time: Double, keepingDialState: Bool) {
        guard let chain = chains[id] else { return }
        for index in chain.indices where chain[index].end == nil {
            if keepingDialState && chain[index].partyB != nil && chain[index].disposition == nil { continue }
            finish(id, index, at: time)
        }
    }

    private mutating func closeRecords(withPartyB partyB: String, at time: Double) {
        for (a, chain) in chains {
            for index in chain.indices where chain[index].partyB == partyB && chain[index].end == nil {
                finish(a, index, at: time)
            }
        }
    }

    /// Ends a record, copying what it needs of Party B (which may hang up and vanish first).
    private mutating func finish(_ a: String, _ index: Int, at time: Double) {
        var record = chains[a]![index]
        record.end = time
        record.partyADialed = channels[a]?.isDialed ?? false
        if let b = record.partyB, let partyB = channels[b] {
            record.partyBName = partyB.name
            record.partyBAccount = variables.value("accountcode", channel: b) ?? partyB.accountCode
            record.partyBUserField = variables.value("userfield", channel: b) ?? ""
            record.partyBCause = partyB.hangupCause ?? 0
        }
        chains[a]![index] = record
    }
}

/// What the engine knows of a live channel, from the channel blocks of its events.
struct TrackedChannel: Sendable {
    var name: String
    var uniqueID: String
    var linkedID = ""
    var callerIDNumber = ""
    var callerIDName = ""
    var accountCode = ""
    var context = ""
    var exten = ""
    var created: Double
    var answeredAt: Double?
    /// Created by Dial/Queue/Originate's outbound leg, not by a caller (`AST_FLAG_OUTGOING`).
    var isDialed = false
    var hangupCause: Int?

    init(name: String, uniqueID: String, created: Double) {
        self.name = name
        self.uniqueID = uniqueID
        self.created = created
    }

    mutating func update(from event: EventFields, prefix: String) {
        func known(_ key: String) -> String? {
            guard let value = event[prefix + key] else { return nil }
            return value == "<unknown>" ? "" : value
        }
        if let value = known("Channel") { name = value }
        if let value = known("Linkedid"), !value.isEmpty { linkedID = value }
        if let value = known("CallerIDNum") { callerIDNumber = value }
        if let value = known("CallerIDName") { callerIDName = value }
        if let value = known("AccountCode") { accountCode = value }
        if let value = known("Context") { context = value }
        if let value = known("Exten") { exten = value }
    }
}

/// A record being built: Party A is the chain's channel.
struct OpenRecord: Sendable {
    var sequence: Int
    var start: Double
    var answer: Double?
    var end: Double?
    var application = ""
    var data = ""
    var context = ""
    var exten = ""
    var partyB: String?
    var partyBName = ""
    var partyBAccount = ""
    var partyBUserField = ""
    var partyBCause = 0
    var disposition: CDRDisposition?
    /// Party A was a dialed leg when the record ended (such records without Party B are dropped).
    var partyADialed = false

    init(sequence: Int, start: Double) {
        self.sequence = sequence
        self.start = start
    }
}

/// An event's fields by key, built once per event: the engine looks up a dozen keys per event,
/// and AMI's case-insensitive linear search per key dominated its cost. Keys are matched
/// exactly (the bus's producers spell them as AMI does); the first of repeated keys wins, as
/// with `ManagerEvent`'s subscript (DialBegin repeats `Uniqueid` in Asterisk 18).
struct EventFields {
    let timestamp: Double
    private var values: [String: String] = [:]

    init(_ event: ManagerEvent) {
        timestamp = event.timestamp
        values.reserveCapacity(event.fields.count)
        for field in event.fields where values[field.key] == nil {
            values[field.key] = field.value
        }
    }

    subscript(key: String) -> String? { values[key] }
}
