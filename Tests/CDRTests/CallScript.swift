import PBXCore

/// Builds the bus events of a call the way pbxd's SIP driver, Dial and bridges publish them
/// (Asterisk's shapes: channel blocks, `Dest` blocks, DialStatus), with explicit times, for
/// scenarios the captures don't cover (ringall, busy, cancel, CDR variables).
struct CallScript {
    struct Leg {
        var name: String
        var uniqueID: String
        var linkedID: String
        var number: String
        var callerName: String
        var state = ChannelState.ring
        var context = "internal"
        var exten = "s"
    }

    var events: [ManagerEvent] = []
    var now: Double = 1_795_306_000

    mutating func at(_ time: Double) { now = 1_795_306_000 + time }

    func snapshot(_ leg: Leg) -> ChannelSnapshot {
        ChannelSnapshot(name: leg.name, state: leg.state, callerIDNumber: leg.number, callerIDName: leg.callerName,
                        context: leg.context, exten: leg.exten, uniqueID: leg.uniqueID, linkedID: leg.linkedID)
    }

    mutating func emit(_ name: String, _ fields: [ManagerEvent.Field]) {
        events.append(ManagerEvent(name: name, class: .call, fields: fields, timestamp: now))
    }

    mutating func newChannel(_ leg: Leg) { emit("Newchannel", snapshot(leg).fields()) }

    mutating func state(_ leg: inout Leg, _ state: ChannelState) {
        leg.state = state
        emit("Newstate", snapshot(leg).fields())
    }

    mutating func exten(_ leg: inout Leg, exten: String, application: String, data: String) {
        leg.exten = exten
        emit("Newexten", snapshot(leg).fields() + [.init("Extension", exten), .init("Application", application), .init("AppData", data)])
    }

    mutating func dialBegin(_ caller: Leg, _ callee: Leg, dialString: String) {
        emit("DialBegin", snapshot(caller).fields() + snapshot(callee).fields(prefix: "Dest") + [.init("DialString", dialString)])
    }

    mutating func dialEnd(_ caller: Leg, _ callee: Leg, status: String) {
        emit("DialEnd", snapshot(caller).fields() + snapshot(callee).fields(prefix: "Dest") + [.init("DialStatus", status)])
    }

    mutating func bridge(_ event: String, _ leg: Leg, bridge: String = "b1") {
        emit(event, [.init("BridgeUniqueid", bridge), .init("BridgeType", "basic")] + snapshot(leg).fields())
    }

    mutating func hangup(_ leg: Leg, cause: HangupCause) {
        emit("Hangup", snapshot(leg).fields() + [.init("Cause", String(cause.rawValue)), .init("Cause-txt", cause.text)])
    }
}
