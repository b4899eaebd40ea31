import Dialplan
import PBXCore

/// ExtensionState (ami.md §8.9): the state of an extension's hint, from its SIP devices: a
/// device with a live channel that is up (or that is placing a call) is InUse, one being rung
/// (its channel Ringing) is Ringing,
/// a dynamic peer without registration is Unavailable, anything else Idle. Several devices
/// (`SIP/1001&SIP/1002`) combine as Asterisk does: InUse beats Ringing beats Idle beats
/// Unavailable (InUse&Ringing is reported as InUse).
enum ExtensionStateAction {
    /// Asterisk's extension states, with StatusText.
    enum State: Int {
        case noHint = -1, idle = 0, inUse = 1, busy = 2, unavailable = 4, ringing = 8

        var text: String {
            switch self {
            case .noHint: "Unknown"
            case .idle: "Idle"
            case .inUse: "InUse"
            case .busy: "Busy"
            case .unavailable: "Unavailable"
            case .ringing: "Ringing"
            }
        }
    }

    static func register(into registry: ManagerActionRegistry, dialplan: Dialplan, peers: SIPPeerDirectory, channels: ChannelRegistry) {
        registry.register(ManagerAction(name: "ExtensionState", authority: [.call, .reporting]) { request in
            guard let exten = nonEmpty(request["Exten"]) else { return .error("Extension not specified") }
            let context = nonEmpty(request["Context"]) ?? "default"
            let hint = dialplan.hint(context: context, exten: exten)
            var state = State.noHint
            if let hint { state = await self.state(of: hint, peers: peers, live: await channels.list().map(\.snapshot)) }
            return .success(message: "Extension Status", fields: [
                .init("Exten", exten), .init("Context", context), .init("Hint", hint ?? ""),
                .init("Status", String(state.rawValue)), .init("StatusText", state.text),
            ])
        })
    }

    /// The combined state of a hint's devices, given the live channels.
    static func state(of hint: String, peers: SIPPeerDirectory, live: [ChannelSnapshot]) async -> State {
        var states: [State] = []
        for device in hint.split(separator: "&") {
            let parts = device.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, parts[0].uppercased() == "SIP", let peer = peers.peer(named: String(parts[1])) else { continue }
            let prefix = "SIP/\(peer.name)-".lowercased()
            let own = live.filter { $0.name.lowercased().hasPrefix(prefix) }
            if own.contains(where: { $0.state == .up }) {
                states.append(.inUse)
            } else if own.contains(where: { $0.state == .ringing }) {
                states.append(.ringing)
            } else if !own.isEmpty {
                // Placing a call (Ring, Down while dialing) counts as in use, as Asterisk's device state does.
                states.append(.inUse)
            } else {
                states.append(await peers.address(of: peer) != nil ? .idle : .unavailable)
            }
        }
        for preferred in [State.inUse, .ringing, .idle] where states.contains(preferred) { return preferred }
        return .unavailable
    }
}
