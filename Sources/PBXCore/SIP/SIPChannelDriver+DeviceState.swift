import NIOCore

/// Device state of SIP peers (`SIP/811`), as chan_sip's `sip_devicestate` derives it: the
/// registrar binding (or a fixed `host=`), qualify's reachability, and the peer's live and
/// ringing calls against its `call-limit`. Each change is published once on the event bus as
/// `DeviceStateChange`; the ACD follows its members' devices from there.
///
/// Calls change the state at once (the driver calls `deviceStateMayHaveChanged` when a leg is
/// reserved, rings, answers or ends); registrations and qualify results come through
/// `refreshDeviceState` from their change callbacks (pbxd wires them), and a one-second sweep
/// catches anything else, so this file needs no hook inside the registrar or qualify code.
extension SIPChannelDriver {
    /// The peer's device state now. Loop-confined.
    public func deviceState(ofPeer name: String) -> DeviceState {
        eventLoop.preconditionInEventLoop()
        guard let peer = config.peer(named: name) else { return .invalid }
        let reachable: Bool
        switch reachability(peer.name) {
        case .unreachable: reachable = false
        default: reachable = true
        }
        return DeviceState.of(
            registered: contactTarget(for: peer) != nil, reachable: reachable, calls: inUse(peer: peer.name),
            ringing: deviceStates.ringing(peer.name), onHold: deviceStates.onHold(peer.name), callLimit: peer.callLimit,
            busyLevel: peer.busyLevel)
    }

    /// Starts publishing `DeviceStateChange` events on `bus`: every peer's state now, then each
    /// change. Call once, from any thread.
    public func publishDeviceStates(on bus: EventBus) {
        eventLoop.execute {
            self.deviceStates.bus = bus
            self.sweepDeviceStates()
            self.deviceStates.sweep = self.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                self?.sweepDeviceStates()
            }
        }
    }

    /// Every peer's state, for the ACD's start-up view. Hops to the loop.
    public func currentDeviceStates() async -> [String: DeviceState] {
        (try? await eventLoop.submit {
            Dictionary(uniqueKeysWithValues: self.peerNames.map { ("SIP/" + $0, self.deviceState(ofPeer: $0)) })
        }.get()) ?? [:]
    }

    /// Re-derives a peer's state soon (from any thread): for the registrar's and qualify's
    /// change callbacks, so a phone that registers can be rung at once, not at the next sweep.
    public func refreshDeviceState(peer name: String) {
        eventLoop.execute { self.deviceStateMayHaveChanged(peer: name) }
    }

    /// Re-derives one peer's state and publishes it if it changed. Loop-confined.
    func deviceStateMayHaveChanged(peer name: String) {
        guard deviceStates.bus != nil else { return }
        let state = deviceState(ofPeer: name)
        guard deviceStates.record(name, state) else { return }
        deviceStates.bus?.publish(DeviceStateChange(device: "SIP/" + name, state: state).event)
    }

    /// Notes that an outbound leg started or stopped ringing (180/183 → RINGING).
    func leg(_ channel: SIPChannel, isRinging ringing: Bool) {
        deviceStates.setRinging(channel.uniqueID, peer: channel.peer.name, ringing)
        deviceStateMayHaveChanged(peer: channel.peer.name)
    }

    /// Notes that the phone of a leg put its call on hold or took it off (re-INVITE
    /// sendonly/inactive, then sendrecv) → ONHOLD, as chan_sip's `sip_peer_hold` counts it.
    func leg(_ channel: SIPChannel, isOnHold held: Bool) {
        deviceStates.setOnHold(channel.uniqueID, peer: channel.peer.name, held)
        deviceStateMayHaveChanged(peer: channel.peer.name)
    }

    /// Forgets an ended leg's ringing and hold (before its call slot is released).
    func forgetLegState(_ channel: SIPChannel) {
        deviceStates.setRinging(channel.uniqueID, peer: channel.peer.name, false)
        deviceStates.setOnHold(channel.uniqueID, peer: channel.peer.name, false)
    }

    private var peerNames: [String] { config.peers.map(\.name) }

    private func sweepDeviceStates() {
        for name in peerNames { deviceStateMayHaveChanged(peer: name) }
    }
}

/// The driver's memory of what it last published per peer, and which legs ring or are held.
/// Only touched on the driver's event loop (it is a stored property of the driver).
final class DeviceStateTracker {
    var bus: EventBus?
    var sweep: RepeatedTask?
    private var published: [String: DeviceState] = [:]
    private var ringingLegs: [String: Set<String>] = [:]
    private var heldLegs: [String: Set<String>] = [:]

    func ringing(_ peer: String) -> Int { ringingLegs[peer]?.count ?? 0 }
    func onHold(_ peer: String) -> Int { heldLegs[peer]?.count ?? 0 }

    func setRinging(_ leg: String, peer: String, _ ringing: Bool) {
        Self.mark(leg, of: peer, ringing, in: &ringingLegs)
    }

    func setOnHold(_ leg: String, peer: String, _ held: Bool) {
        Self.mark(leg, of: peer, held, in: &heldLegs)
    }

    private static func mark(_ leg: String, of peer: String, _ present: Bool, in table: inout [String: Set<String>]) {
        if present {
            table[peer, default: []].insert(leg)
        } else {
            table[peer]?.remove(leg)
        }
    }

    /// Stores the state; true when it differs from the last one published.
    func record(_ peer: String, _ state: DeviceState) -> Bool {
        guard published[peer] != state else { return false }
        published[peer] = state
        return true
    }
}
