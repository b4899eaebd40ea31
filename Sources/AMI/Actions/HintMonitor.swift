import Dialplan
import PBXCore

/// Sends AMI's ExtensionStatus event (class call; ami.md §8.9) whenever a hint's state changes
/// — what BLF panels and wallboards follow. It watches the bus's DeviceStateChange events,
/// keeps the last state of every device the hints name, and publishes a hint's new state when
/// its combined state differs from the last one sent, as Asterisk's `manager_state_cb` does.
///
/// Covers the literal extensions with a hint in the dialplan pbxd started with (as the
/// ExtensionState action does); pattern hints are not expanded.
struct HintMonitor {
    /// `exten => 1001,hint,SIP/1001` in `[internal]`.
    struct Hint: Sendable {
        var context: String
        var exten: String
        var devices: String
    }

    let hints: [Hint]
    let peers: SIPPeerDirectory
    let bus: EventBus

    init(dialplan: Dialplan, peers: SIPPeerDirectory, bus: EventBus) {
        self.hints = Self.hints(in: dialplan)
        self.peers = peers
        self.bus = bus
    }

    /// The literal extensions with a hint, by context name, in search order within each.
    static func hints(in dialplan: Dialplan) -> [Hint] {
        dialplan.contexts.keys.sorted().flatMap { name in
            dialplan.contexts[name]!.extensions.compactMap { entry in
                guard let hint = entry.hint, !entry.pattern.isPattern else { return nil }
                return Hint(context: name, exten: entry.pattern.text, devices: hint)
            }
        }
    }

    /// Starts watching (for as long as the bus lives); nothing to do without hints.
    func start() {
        guard !hints.isEmpty else { return }
        let subscription = bus.subscribe(label: "hints", capacity: 10_000)
        Task { await watch(subscription.events) }
    }

    private func watch(_ events: AsyncStream<ManagerEvent>) async {
        var devices: [String: DeviceState] = [:]
        for hint in hints {
            for device in ExtensionStateAction.devices(of: hint.devices) where devices[device.lowercased()] == nil {
                devices[device.lowercased()] = await ExtensionStateAction.deviceState(device, peers: peers)
            }
        }
        var last = hints.map { state(of: $0, devices) }
        for await event in events {
            guard let change = DeviceStateChange(event), devices[change.device.lowercased()] != nil else { continue }
            devices[change.device.lowercased()] = change.state
            for (i, hint) in hints.enumerated() {
                let now = state(of: hint, devices)
                guard now != last[i] else { continue }
                last[i] = now
                bus.publish(ExtensionState.statusEvent(exten: hint.exten, context: hint.context, hint: hint.devices, state: now))
            }
        }
    }

    private func state(of hint: Hint, _ devices: [String: DeviceState]) -> ExtensionState {
        ExtensionState(hintDevices: ExtensionStateAction.devices(of: hint.devices).map { devices[$0.lowercased()] ?? .invalid })
    }
}
