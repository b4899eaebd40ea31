import Dialplan
import Foundation
import PBXCore

/// ExtensionState and ExtensionStateList (ami.md §8.9): the state of an extension's hint (of
/// every literal hint, for the list), from the device state of each SIP device it names (the
/// channel driver's: Unavailable unregistered, Ringing, InUse, Busy at `call-limit`, OnHold
/// after a hold re-INVITE), combined as Asterisk's `ast_devstate_aggregate` does
/// (`SIP/1001&SIP/1002`). A device of another technology is Invalid, as Asterisk reports a
/// device no driver knows.
enum ExtensionStateAction {
    static func register(into registry: ManagerActionRegistry, dialplan: Dialplan, peers: SIPPeerDirectory) {
        registry.register(ManagerAction(name: "ExtensionState", authority: [.call, .reporting]) { request in
            guard let exten = nonEmpty(request["Exten"]) else { return .error("Extension not specified") }
            let context = nonEmpty(request["Context"]) ?? "default"
            let hint = dialplan.hint(context: context, exten: exten)
            var state = ExtensionState.noHint
            if let hint { state = await self.state(of: hint, peers: peers) }
            return .success(message: "Extension Status", fields: [
                .init("Exten", exten), .init("Context", context), .init("Hint", hint ?? ""),
                .init("Status", String(state.rawValue)), .init("StatusText", state.text),
            ])
        })
        registry.register(ManagerAction(name: "ExtensionStateList", authority: [.call, .reporting]) { _ in
            var items: [ManagerEvent] = []
            for hint in HintMonitor.hints(in: dialplan) {
                let state = await self.state(of: hint.devices, peers: peers)
                items.append(ExtensionState.statusEvent(exten: hint.exten, context: hint.context, hint: hint.devices, state: state))
            }
            return .list(message: "Extension Statuses will follow", items: items, completeEvent: "ExtensionStateListComplete")
        })
    }

    /// The combined state of a hint's devices now.
    static func state(of hint: String, peers: SIPPeerDirectory) async -> ExtensionState {
        var states: [DeviceState] = []
        for device in devices(of: hint) {
            states.append(await deviceState(device, peers: peers))
        }
        return ExtensionState(hintDevices: states)
    }

    /// The devices a hint names (`SIP/1001&SIP/1002` → both).
    static func devices(of hint: String) -> [String] {
        hint.split(separator: "&").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// One device's state: a known SIP peer's from the driver, anything else Invalid.
    static func deviceState(_ device: String, peers: SIPPeerDirectory) async -> DeviceState {
        let parts = device.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, parts[0].uppercased() == "SIP", let peer = peers.peer(named: String(parts[1])) else {
            return .invalid
        }
        return await peers.deviceState(peer.name)
    }
}
