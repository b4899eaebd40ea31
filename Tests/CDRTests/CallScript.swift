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

    /// Call number `index` (channels 2i, 2i+1; starting at 100·i s): 1001 dials 1002, which ends
    /// with `status` (ANSWER: talk 5 s after 2 s of ringing; else the DialEnd at 2 s).
    static func dial(index: Int, status: String) -> [ManagerEvent] {
        var script = CallScript()
        let t0 = Double(index * 100)
        script.at(t0)
        var caller = Leg(name: "SIP/1001-\(hex(2 * index))", uniqueID: "9.\(2 * index)", linkedID: "9.\(2 * index)",
                         number: "1001", callerName: "Alice")
        var callee = Leg(name: "SIP/1002-\(hex(2 * index + 1))", uniqueID: "9.\(2 * index + 1)", linkedID: "9.\(2 * index)",
                         number: "1002", callerName: "", state: .down)
        script.newChannel(caller)
        script.exten(&caller, exten: "1002", application: "Dial", data: "SIP/1002,30")
        script.newChannel(callee)
        script.dialBegin(caller, callee, dialString: "1002")
        script.at(t0 + 2)
        if status == "ANSWER" {
            script.state(&callee, .up)
            script.dialEnd(caller, callee, status: status)
            script.state(&caller, .up)
            script.bridge("BridgeEnter", callee)
            script.bridge("BridgeEnter", caller)
            script.at(t0 + 7)
            script.bridge("BridgeLeave", caller)
            script.bridge("BridgeLeave", callee)
        } else {
            script.dialEnd(caller, callee, status: status)
        }
        script.hangup(callee, cause: status == "BUSY" ? .userBusy : .normalClearing)
        script.hangup(caller, cause: .normalClearing)
        return script.events
    }

    /// `0000000a`: Asterisk's channel-name suffix.
    static func hex(_ n: Int) -> String {
        let digits = String(n, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
