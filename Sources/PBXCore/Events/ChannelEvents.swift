/// The manager events a channel produces (ami.md §10.3), built from a snapshot so the channel
/// block is the 14 keys in AMI order, followed by each event's own fields in Asterisk 18's order.
extension ManagerEvent {
    private static func channel(_ name: String, _ eventClass: EventClass, _ snapshot: ChannelSnapshot, _ extra: [Field] = []) -> ManagerEvent {
        ManagerEvent(name: name, class: eventClass, fields: snapshot.fields() + extra)
    }

    // MARK: Lifecycle (class call)

    public static func newchannel(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("Newchannel", .call, snapshot)
    }

    public static func newstate(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("Newstate", .call, snapshot)
    }

    /// Caller ID changed after creation (`Set(CALLERID(...))`). Presentation is always
    /// "allowed, not screened": pbxd has no CALLERPRES() yet.
    public static func newCallerid(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("NewCallerid", .call, snapshot, [Field("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
    }

    public static func newConnectedLine(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("NewConnectedLine", .call, snapshot)
    }

    /// A hard hangup was asked for: the far end hung up (BYE, CANCEL).
    public static func hangupRequest(_ snapshot: ChannelSnapshot, cause: HangupCause) -> ManagerEvent {
        channel("HangupRequest", .call, snapshot, [Field("Cause", String(cause.rawValue))])
    }

    /// A soft hangup was asked for: AMI Hangup, or a bridge ending because this side left.
    public static func softHangupRequest(_ snapshot: ChannelSnapshot, cause: HangupCause) -> ManagerEvent {
        channel("SoftHangupRequest", .call, snapshot, [Field("Cause", String(cause.rawValue))])
    }

    /// The channel is gone: always its last event.
    public static func hangup(_ snapshot: ChannelSnapshot, cause: HangupCause) -> ManagerEvent {
        channel("Hangup", .call, snapshot, [Field("Cause", String(cause.rawValue)), Field("Cause-txt", cause.text)])
    }

    /// The phone put the call on hold (re-INVITE with sendonly/inactive).
    public static func hold(_ snapshot: ChannelSnapshot, musicClass: String? = nil) -> ManagerEvent {
        channel("Hold", .call, snapshot, musicClass.map { [Field("MusicClass", $0)] } ?? [])
    }

    public static func unhold(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("Unhold", .call, snapshot)
    }

    public static func musicOnHoldStart(_ snapshot: ChannelSnapshot, musicClass: String) -> ManagerEvent {
        channel("MusicOnHoldStart", .call, snapshot, [Field("Class", musicClass)])
    }

    public static func musicOnHoldStop(_ snapshot: ChannelSnapshot) -> ManagerEvent {
        channel("MusicOnHoldStop", .call, snapshot)
    }

    // MARK: DTMF (class dtmf)

    public static func dtmfBegin(_ snapshot: ChannelSnapshot, digit: Character, direction: DTMFDirection) -> ManagerEvent {
        channel("DTMFBegin", .dtmf, snapshot, [Field("Digit", String(digit)), Field("Direction", direction.rawValue)])
    }

    public static func dtmfEnd(_ snapshot: ChannelSnapshot, digit: Character, durationMs: Int, direction: DTMFDirection) -> ManagerEvent {
        channel("DTMFEnd", .dtmf, snapshot, [
            Field("Digit", String(digit)), Field("DurationMs", String(durationMs)), Field("Direction", direction.rawValue),
        ])
    }

    // MARK: Dialplan (class dialplan)

    /// A dialplan priority is about to run. `Extension` repeats `Exten` (legacy key).
    public static func newexten(_ snapshot: ChannelSnapshot, application: String, data: String) -> ManagerEvent {
        channel("Newexten", .dialplan, snapshot, [
            Field("Extension", snapshot.exten), Field("Application", application), Field("AppData", data),
        ])
    }

    /// A channel variable was set.
    public static func varSet(_ snapshot: ChannelSnapshot, variable: String, value: String) -> ManagerEvent {
        channel("VarSet", .dialplan, snapshot, [Field("Variable", variable), Field("Value", value)])
    }

    /// A global variable was set: no channel block, just `Channel: none` / `Uniqueid: none`.
    public static func globalVarSet(variable: String, value: String) -> ManagerEvent {
        ManagerEvent(name: "VarSet", class: .dialplan, fields: [
            Field("Channel", "none"), Field("Uniqueid", "none"), Field("Variable", variable), Field("Value", value),
        ])
    }
}

/// Which way a DTMF key went, from the channel's point of view.
public enum DTMFDirection: String, Sendable {
    /// The phone pressed it.
    case received = "Received"
    /// pbxd sent it to the phone (SendDTMF, or a key passed across a bridge).
    case sent = "Sent"
}
