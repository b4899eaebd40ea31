/// The manager events of the switch as a whole and of its SIP peers (class system, ami.md
/// §10.11 and §10.13), with chan_sip's field order.
extension ManagerEvent {
    /// `Uptime` and `LastReload` in whole seconds, then `Status: Fully Booted` (the captured
    /// Asterisk 18 order, transcripts/ami-02-basic-call.txt).
    public static func fullyBooted(uptime: Int, lastReload: Int) -> ManagerEvent {
        ManagerEvent(name: "FullyBooted", class: .system, fields: [
            Field("Uptime", String(uptime)), Field("LastReload", String(lastReload)), Field("Status", "Fully Booted"),
        ])
    }

    public static func shutdown(cleanly: Bool, restart: Bool) -> ManagerEvent {
        ManagerEvent(name: "Shutdown", class: .system, fields: [
            Field("Shutdown", cleanly ? "Cleanly" : "Uncleanly"), Field("Restart", restart ? "True" : "False"),
        ])
    }

    /// `Module` is the reloaded module's name, or `All`.
    public static func reload(module: String, status: ReloadStatus) -> ManagerEvent {
        ManagerEvent(name: "Reload", class: .system, fields: [Field("Module", module), Field("Status", String(status.rawValue))])
    }

    /// A SIP peer's registration or reachability changed (chan_sip's PeerStatus).
    public static func peerStatus(peer: String, _ status: PeerStatusChange) -> ManagerEvent {
        var fields = [Field("ChannelType", "SIP"), Field("Peer", "SIP/\(peer)")]
        switch status {
        case .registered(let address):
            fields += [Field("PeerStatus", "Registered"), Field("Address", address)]
        case .unregistered(let cause):
            fields += [Field("PeerStatus", "Unregistered"), Field("Cause", cause)]
        case .reachable(let milliseconds):
            fields += [Field("PeerStatus", "Reachable"), Field("Time", String(milliseconds))]
        case .lagged(let milliseconds):
            fields += [Field("PeerStatus", "Lagged"), Field("Time", String(milliseconds))]
        case .unreachable(let milliseconds):
            fields += [Field("PeerStatus", "Unreachable"), Field("Time", String(milliseconds))]
        }
        return ManagerEvent(name: "PeerStatus", class: .system, fields: fields)
    }
}

/// What a PeerStatus event reports.
public enum PeerStatusChange: Sendable, Equatable {
    /// Registered from `ip:port`.
    case registered(address: String)
    /// The registration ended; chan_sip says `Expired` both for `Expires: 0` and a lapsed one.
    case unregistered(cause: String)
    case reachable(milliseconds: Int)
    case lagged(milliseconds: Int)
    /// No answer to qualify; chan_sip reports `Time: -1`.
    case unreachable(milliseconds: Int)
}

/// Asterisk's `ast_module_reload_result` numbers, as the Reload event's `Status` prints them.
public enum ReloadStatus: Int, Sendable {
    case success = 0
    case queued = 1
    case notFound = 2
    case error = 3
    case inProgress = 4
    case uninitialized = 5
    case notImplemented = 6
}
