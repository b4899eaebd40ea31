import Dialplan
import PBXCore

/// ExtensionState (ami.md §8.9): the state of an extension's hint. A SIP device counts as
/// Unavailable while a dynamic peer has no registration and Idle otherwise; in-use and ringing
/// need the live-channel registry, which the manager does not have yet.
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

    static func register(into registry: ManagerActionRegistry, dialplan: Dialplan, peers: SIPPeerDirectory) {
        registry.register(ManagerAction(name: "ExtensionState", authority: [.call, .reporting]) { request in
            guard let exten = nonEmpty(request["Exten"]) else { return .error("Extension not specified") }
            let context = nonEmpty(request["Context"]) ?? "default"
            let hint = dialplan.hint(context: context, exten: exten)
            var state = State.noHint
            if let hint { state = await self.state(of: hint, peers: peers) }
            return .success(message: "Extension Status", fields: [
                .init("Exten", exten), .init("Context", context), .init("Hint", hint ?? ""),
                .init("Status", String(state.rawValue)), .init("StatusText", state.text),
            ])
        })
    }

    /// A hint `SIP/1001&SIP/1002` is Idle when any device is available, else Unavailable.
    static func state(of hint: String, peers: SIPPeerDirectory) async -> State {
        for device in hint.split(separator: "&") {
            let parts = device.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, parts[0].uppercased() == "SIP", let peer = peers.peer(named: String(parts[1])) else { continue }
            if await peers.address(of: peer) != nil { return .idle }
        }
        return .unavailable
    }
}
