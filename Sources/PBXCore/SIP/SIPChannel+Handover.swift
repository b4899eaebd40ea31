import NIOCore

/// Why a leg's bridged party is no longer with it.
enum PeerDeparture {
    /// The party hung up.
    case hungUp(HangupCause)
    /// The party left without hanging up (redirected into the dialplan): for the leg's wait,
    /// as if it had hung up, but nobody hangs it up.
    case left
    /// An attended transfer put this party in its place: the wait follows it.
    case replaced(by: SIPChannel)
}

/// Handing legs between bridges and dialplan runs: the waits (Dial, bridge) follow the party
/// their leg is bridged with, and a dialed leg can be taken out of its bridge to run dialplan
/// (AMI Redirect/BlindTransfer of a leg that Dial, Queue or Originate created).
extension SIPChannel {
    /// Calls `body` once, when this leg's bridged party departs. Call on the loop.
    func whenPeerDeparts(_ body: @escaping (PeerDeparture) -> Void) {
        eventLoop.preconditionInEventLoop()
        peerDepartureWatchers.append(body)
    }

    /// Tells the waits on this leg that its party departed (each watcher runs once).
    func peerDeparted(_ departure: PeerDeparture) {
        let watchers = peerDepartureWatchers
        peerDepartureWatchers = []
        for watcher in watchers { watcher(departure) }
    }

    /// Whether a wait (Dial, bridge) hanging up because its own leg hung up may take this party
    /// with it: not once it was handed to someone else.
    func isStillBridged(with other: SIPChannel) -> Bool {
        hangupCause == nil && bridgedPeer === other
    }

    /// Takes this bridged leg out of its bridge (BridgeLeave, media unlinked) and hands it to a
    /// dialplan run: its party's wait ends as for a hangup of this leg, without hanging it up.
    /// Call on the loop; the caller starts the run.
    func leaveBridgeForDialplan() throws(TransferRefusal) {
        guard hangupCause == nil else { throw .gone(name) }
        guard channelState == .up, let peer = bridgedPeer else { throw .notBridged(name) }
        guard attendedTransfer == nil, !dialplanOwnsChannel else { throw .busy(name) }
        bridge?.leave(self)
        bridgedPeer = nil
        localMedia = nil
        driver.media.unbridge(caller: media)
        deferHangupToDialplan()
        logger.info("left the bridge for the dialplan", metadata: ["peer": "\(peer.name)"])
        if peer.bridgedPeer === self {
            // A two-party bridge dissolves when one party leaves, as Asterisk's basic bridge does.
            peer.bridge?.leave(peer)
            peer.bridgedPeer = nil
            peer.peerDeparted(.left)
        }
    }
}
