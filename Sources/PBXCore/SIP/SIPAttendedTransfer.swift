import Logging

/// One attended transfer (AMI Atxfer) by a SIP leg that runs no dialplan of its own (a leg
/// Dial, Queue or Originate created): the transferee is held in their bridge with music on
/// hold while the transferer consults the target; the transferer hanging up then bridges
/// transferee and target (AttendedTransfer event), and a consultation that ends without that
/// returns the transferer to the transferee.
///
/// Where Asterisk dials a Local channel into Exten@Context, pbxd runs that dialplan on the
/// transferer itself (a nested run: its Dial calls the target on a relay session of its own,
/// linked across sessions). Hence:
/// - A hangup pbxd itself requests of the consulting transferer (its consultation dialplan
///   ending, its Dial's callee gone, AMI Hangup) and AMI CancelAtxfer end the consultation —
///   the target is hung up, or its ringing cancelled — and the transferer returns to the
///   transferee when that run ends (its priorities after the Dial still run first). Only the
///   transferer's own phone hanging up completes the transfer.
/// - The transferer hanging up while the target rings makes it a "blond" transfer: the target
///   goes to the transferee when it answers; if it never does, the transferee is hung up
///   (Asterisk would call the transferer back). With nothing ringing, the transfer is abandoned
///   and the transferee hung up.
/// - No transcoding: transferee and target must have settled on one codec, else the transfer
///   fails (AttendedTransfer `Result: Fail`) and both are hung up.
///
/// Loop-confined (SIP loop), referenced by the transferer (`SIPChannel.attendedTransfer`).
final class SIPAttendedTransfer {
    private let driver: SIPChannelDriver
    let transferee: SIPChannel
    let transferer: SIPChannel
    /// The bridge the transferee stays in while held; the target enters it.
    private let bridge: SIPBridge
    /// Set once pbxd ended the consultation; its run is winding down.
    private var consultationOver = false
    /// The consultation's latest Dial: while it rings, a transferer hanging up hands it over.
    weak var consultDial: DialAttempt?
    /// The transferer's feature codes in the transferee's bridge (the consultation's bridge
    /// replaces them), for its return there.
    private let transfererFeatures: BridgeFeatureCodes?
    private var logger: Logger { transferer.logger }
    /// Whether the transferee still waits in its bridge (not hung up, not redirected away).
    private var transfereeWaits: Bool { transferee.hangupCause == nil && transferee.bridge === bridge }

    /// Holds the transferee and marks the transferer as consulting (its hangup is deferred to
    /// the run the caller starts next). Call on the loop.
    static func start(transferer: SIPChannel, driver: SIPChannelDriver) throws(TransferRefusal) -> SIPAttendedTransfer {
        guard transferer.hangupCause == nil else { throw .gone(transferer.name) }
        guard transferer.channelState == .up, let transferee = transferer.bridgedPeer, transferee.hangupCause == nil,
              transferee.bridgedPeer === transferer, let bridge = transferer.bridge
        else { throw .notBridged(transferer.name) }
        guard transferer.attendedTransfer == nil, transferee.attendedTransfer == nil, !transferer.dialplanOwnsChannel else {
            throw .busy(transferer.name)
        }
        let transfer = SIPAttendedTransfer(driver: driver, transferee: transferee, transferer: transferer, bridge: bridge)
        transfer.hold()
        return transfer
    }

    private init(driver: SIPChannelDriver, transferee: SIPChannel, transferer: SIPChannel, bridge: SIPBridge) {
        self.driver = driver
        self.transferee = transferee
        self.transferer = transferer
        self.bridge = bridge
        transfererFeatures = transferer.featureCodes.map { BridgeFeatureCodes(matcher: $0.matcher.cleared()) }
    }

    private func hold() {
        bridge.leave(transferer)
        transferer.bridgedPeer = nil
        transferee.bridgedPeer = nil
        transferer.localMedia = nil
        transferer.attendedTransfer = self
        transferer.deferHangupToDialplan()
        logger.info("attended transfer: consulting", metadata: ["transferee": "\(transferee.name)"])
        driver.media.unbridge(caller: transferee.media)
        guard let music = driver.musicOnHold.classes["default"] ?? driver.musicOnHold.classes.values.first else {
            logger.notice("attended transfer: no music-on-hold class; the transferee holds in silence")
            return
        }
        let transferee = self.transferee
        // Ends when the transferee is linked again (local media detached) or hangs up.
        Task { _ = await transferee.playContinuous(.music(files: music.files, random: music.random), duration: nil) }
    }

    /// The transferer hung up: with the target connected, transferee and target are bridged;
    /// otherwise the transfer is abandoned and the transferee's wait ends as for a hangup.
    func transfererHungUp(cause: HangupCause) {
        transferer.attendedTransfer = nil
        guard transfereeWaits else { return }  // nobody to hand over to
        if !consultationOver, let target = transferer.bridgedPeer, target.isStillBridged(with: transferer) {
            complete(with: target)
            return
        }
        if !consultationOver, let dial = consultDial, dial.handOver(to: self) {
            logger.info("attended transfer: the transferer hung up while the target rings; it goes to the transferee on answer")
            return
        }
        logger.info("attended transfer abandoned: no target connected when the transferer hung up")
        transferee.peerDeparted(.hungUp(cause))
    }

    /// Blond transfer: the target answered after the transferer hung up.
    func targetAnswered(_ target: SIPChannel) {
        guard transfereeWaits else {
            target.hangupOnLoop(cause: .normalClearing)
            return
        }
        complete(with: target)
    }

    /// Blond transfer: the target never answered; the transferee's wait ends as for a hangup.
    func targetFailed() {
        guard transfereeWaits else { return }
        logger.info("attended transfer failed: the target did not answer after the transferer hung up")
        transferee.peerDeparted(.hungUp(.normalClearing))
    }

    private func complete(with target: SIPChannel) {
        let consultBridge = target.bridge
        guard let codec = transferee.media.playbackCodec, let targetCodec = target.media.playbackCodec,
              codec.matches(targetCodec) else {
            logger.error("attended transfer failed: \(transferee.name) and \(target.name) use different codecs and pbxd does not transcode",
                         metadata: ["transferee": "\(transferee.media.playbackCodec?.name ?? "none")",
                                    "target": "\(target.media.playbackCodec?.name ?? "none")"])
            publishResult("Fail", target: target, secondBridge: consultBridge)
            target.hangupOnLoop(cause: .normalClearing)
            transferee.peerDeparted(.hungUp(.normalClearing))
            return
        }
        consultBridge?.leave(target)
        transferer.bridgedPeer = nil
        SIPBridge.link(transferee, target, driver: driver)
        bridge.enter(target)
        transferee.setConnectedLine(number: target.callerNumber, name: target.callerName)
        target.setConnectedLine(number: transferee.callerNumber, name: transferee.callerName)
        logger.info("attended transfer completed", metadata: ["transferee": "\(transferee.name)", "target": "\(target.name)"])
        publishResult("Success", target: target, secondBridge: consultBridge)
        transferee.peerDeparted(.replaced(by: target))
    }

    /// A hangup of the transferer that pbxd requested: ends the consultation (the connected
    /// target is hung up) and defers the transferer's return to the end of its run. False when
    /// the transferee is gone or pbxd is stopping: then it is a real hangup.
    func endConsultation() -> Bool {
        guard transfereeWaits, !driver.shuttingDown else { return false }
        guard !consultationOver else { return true }
        consultationOver = true
        if let target = transferer.bridgedPeer {
            // Hung up while still bridged, so the consultation's Dial sees its party go and
            // returns (its hangup of the transferer lands here again and is absorbed).
            target.hangupOnLoop(cause: .normalClearing)
            transferer.bridge?.leave(transferer)
            transferer.bridgedPeer = nil
            driver.media.unbridge(caller: transferer.media)
        } else {
            consultDial?.cancelRinging()
        }
        logger.info("attended transfer: consultation ended")
        return true
    }

    /// The consultation's dialplan run ended with the transferer still up: back to the
    /// transferee (its hold ends), or hung up when the transferee is gone.
    func consultationEnded() {
        transferer.attendedTransfer = nil
        guard transfereeWaits else {
            transferer.hangupOnLoop(cause: .normalClearing)
            return
        }
        if let target = transferer.bridgedPeer {
            // The run ended while still connected (e.g. its Dial had the `g` option and returned).
            transferer.bridge?.leave(transferer)
            transferer.bridgedPeer = nil
            target.hangupOnLoop(cause: .normalClearing)
        }
        SIPBridge.link(transferee, transferer, driver: driver)
        if let timer = transferer.featureCodes?.releaseTimer { driver.timers.cancel(timer) }
        transferer.featureCodes = transfererFeatures
        bridge.enter(transferer)
        logger.info("attended transfer: back with the transferee", metadata: ["transferee": "\(transferee.name)"])
    }

    private func publishResult(_ result: String, target: SIPChannel, secondBridge: SIPBridge?) {
        driver.events.publish(.attendedTransfer(
            result: result, transferer: transferer.snapshotOnLoop(), bridge: bridge.eventSnapshot,
            secondBridge: secondBridge?.eventSnapshot, transferee: transferee.snapshotOnLoop(), target: target.snapshotOnLoop()))
    }
}
