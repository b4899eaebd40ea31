import NIOCore
import RTPMedia
import SIPStack

/// A bridged leg's feature codes (features.conf) and the timer that passes held keys on.
struct BridgeFeatureCodes {
    var matcher: FeatureCodeMatcher
    var releaseTimer: TimerWheel.Token?
}

/// In-call DTMF features (Dial/Queue options `t`/`T`, `h`/`H`): a bridged party's keys are
/// watched for features.conf codes; a code's keys never reach the other party, other keys do, in
/// the order pressed. `blindxfer` and `atxfer` hold the bridge (music on hold for the
/// transferee) and let the transferer dial an extension: `blindxfer` sends the transferee
/// there, `atxfer` consults it first (an attended transfer, as AMI Atxfer; `atxferabort`, in
/// the consultation's bridge, ends it as CancelAtxfer does); `disconnect` hangs the party up.
/// Loop-side state and calls are on the SIP event loop; the transfer itself runs in a task.
extension SIPChannel {
    /// Called by the bridge for each leg: watches this leg's keys for the codes of `features`.
    func watchFeatures(_ features: Set<BridgeFeature>) {
        eventLoop.preconditionInEventLoop()
        featureCodes = nil  // an earlier bridge's codes don't carry over
        var allowed = features
        if driver.blindTransferRouting == nil, !allowed.isDisjoint(with: BridgeFeatures.transfers) {
            allowed.subtract(BridgeFeatures.transfers)
            logger.warning("transfer requested but no dialplan routes transfers; the option is ignored")
        }
        // The consultation runs dialplan on the transferer, which can't hold a second run.
        if dialplanOwnsChannel, allowed.remove(.attendedTransfer) != nil {
            logger.debug("attended transfer (atxfer) is not offered to a party that runs its own dialplan")
        }
        var codes = driver.features.codes
        if attendedTransfer != nil, let abort = driver.features.abortTransferCode {
            // Consulting (the caller of the consultation's Dial): its key back to the transferee.
            codes[abort] = .abortTransfer
            allowed.insert(.abortTransfer)
        }
        let matcher = FeatureCodeMatcher(codes: codes, features: allowed)
        guard !matcher.isEmpty else { return }
        featureCodes = BridgeFeatureCodes(matcher: matcher)
        // RFC 4733 keys are normally relayed packet for packet; a code's keys must not be.
        takeTelephoneEventsOffRelay()
        logger.debug("watching DTMF for features", metadata: ["features": "\(allowed.map(\.rawValue).sorted())"])
    }

    /// A key of this (bridged, feature-watching) leg: held back, passed on to `other`, or a feature.
    func featureKeyPressed(_ digit: DTMFDigit, duration: Duration, other: SIPChannel) {
        guard var codes = featureCodes else { return other.sendDigit(digit, duration: duration) }
        if let timer = codes.releaseTimer { driver.timers.cancel(timer) }
        codes.releaseTimer = nil
        let step = codes.matcher.press(PressedKey(digit.character, duration: duration))
        if case .hold = step {
            codes.releaseTimer = driver.timers.schedule(in: .nanoseconds(driver.features.featureDigitTimeout.nanoseconds)) {
                [self] in
                releaseHeldKeys(to: other)
            }
        }
        featureCodes = codes
        switch step {
        case .passOn(let keys): pass(keys, to: other)
        case .hold: break
        case .feature(let feature): run(feature, other: other)
        }
    }

    /// The feature digit timeout passed: the keys held so far were no code after all.
    private func releaseHeldKeys(to other: SIPChannel) {
        guard let keys = featureCodes?.matcher.release() else { return }
        featureCodes?.releaseTimer = nil
        pass(keys, to: other)
    }

    private func pass(_ keys: [PressedKey], to other: SIPChannel) {
        guard bridgedPeer === other, !bridgePaused else { return }
        for key in keys {
            guard let digit = DTMFDigit(key.digit) else { continue }
            other.sendDigit(digit, duration: key.duration)
        }
    }

    private func run(_ feature: BridgeFeature, other: SIPChannel) {
        logger.info("feature code dialed", metadata: ["feature": "\(feature.rawValue)"])
        switch feature {
        case .disconnect:
            hangupOnLoop(cause: .normalClearing)
        case .abortTransfer:
            // CancelAtxfer's path: the target is hung up; the run's end brings this leg back.
            if attendedTransfer?.endConsultation() != true { logger.notice("atxferabort: no consultation to end") }
        case .blindTransfer, .attendedTransfer:
            guard let routing = driver.blindTransferRouting else { return }
            bridgePaused = true
            other.bridgePaused = true
            let digitTimeout = driver.features.transferDigitTimeout
            Task {
                let target = await collectTransferTarget(other, routing: routing, digitTimeout: digitTimeout)
                if feature == .blindTransfer {
                    await blindTransfer(other, to: target, routing: routing)
                } else {
                    await attendedTransfer(other, to: target, routing: routing)
                }
            }
        }
    }

    // MARK: Transfers

    /// Where the transferer's digits lead.
    private enum TransferTarget {
        case exten(context: String, exten: String)
        case invalid(String)
        case gone
    }

    /// The start of both of Asterisk's transfer features: the transferee hears music on hold
    /// while the transferer hears `pbx-transfer` and dials an extension.
    private func collectTransferTarget(_ transferee: SIPChannel, routing: any BlindTransferRouting, digitTimeout: Duration)
        async -> TransferTarget
    {
        await holdBridge()
        let music = await transferee.startHoldMusic()
        await discardCodeEcho()
        let target = await dialTransferTarget(routing: routing, digitTimeout: digitTimeout, bridgedWith: transferee)
        await transferee.stopHoldMusic(music)
        return target
    }

    /// Asterisk's `feature_blind_transfer`: a valid extension → the transferee goes there and
    /// the transferer is hung up; otherwise `pbx-invalid` and both are bridged again.
    private func blindTransfer(_ transferee: SIPChannel, to target: TransferTarget, routing: any BlindTransferRouting) async {
        switch target {
        case .exten(let context, let exten):
            await resumeFlags(with: transferee)
            let report = await blindTransferReport(transferee, context: context, exten: exten)
            do {
                try await routing.redirect(transferee, context: context, exten: exten)
                logger.info("blind transfer", metadata: ["transferee": "\(transferee.name)", "target": "\(exten)@\(context)"])
                report?("Success")
                await hangup(cause: .normalClearing)
                return
            } catch {
                logger.warning(
                    "blind transfer failed; back to the bridge",
                    metadata: ["transferee": "\(transferee.name)", "target": "\(exten)@\(context)", "reason": "\(error)"])
                report?("Fail")
                await playInvalid()
            }
        case .invalid(let dialed):
            logger.info("blind transfer: no such extension; back to the bridge", metadata: ["dialed": "\(dialed)"])
            await playInvalid()
        case .gone:
            break
        }
        await resumeBridge(with: transferee)
    }

    /// Publishes the BlindTransfer event with the given result; the blocks are taken now, while
    /// both legs are still in their bridge. Nil when this leg is no longer bridged.
    private func blindTransferReport(_ transferee: SIPChannel, context: String, exten: String) async -> (@Sendable (String) -> Void)? {
        let events = driver.events
        let blocks = try? await eventLoop.submit { [self] () -> (ChannelSnapshot, ChannelSnapshot, BridgeSnapshot)? in
            guard let bridge else { return nil }
            return (snapshotOnLoop(), transferee.snapshotOnLoop(), bridge.eventSnapshot)
        }.get()
        guard let (transferer, transfereeBlock, bridge) = blocks ?? nil else { return nil }
        return { result in
            events.publish(.blindTransfer(result: result, transferer: transferer, transferee: transfereeBlock, bridge: bridge,
                                          context: context, exten: exten))
        }
    }

    /// Asterisk's `feature_attended_transfer`: a valid extension → the transferee stays held
    /// while this leg consults it (SIPAttendedTransfer, the core of AMI Atxfer: hanging up
    /// once the target answered bridges the two, a failed consultation comes back); otherwise
    /// `pbx-invalid` and both are bridged again.
    private func attendedTransfer(_ transferee: SIPChannel, to target: TransferTarget, routing: any BlindTransferRouting) async {
        switch target {
        case .exten(let context, let exten):
            let refusal = await startAttendedTransfer(with: transferee)
            guard let refusal else {
                logger.info("attended transfer", metadata: ["transferee": "\(transferee.name)", "target": "\(exten)@\(context)"])
                await routing.consult(self, context: context, exten: exten)
                return
            }
            logger.warning(
                "attended transfer refused; back to the bridge",
                metadata: ["transferee": "\(transferee.name)", "target": "\(exten)@\(context)", "reason": "\(refusal)"])
            await playInvalid()
        case .invalid(let dialed):
            logger.info("attended transfer: no such extension; back to the bridge", metadata: ["dialed": "\(dialed)"])
            await playInvalid()
        case .gone:
            break
        }
        await resumeBridge(with: transferee)
    }

    /// Ends the dialing hold and holds the transferee for the consultation, in one loop turn
    /// (no key or frame of the bridge slips in between); nil once held, else why not.
    private func startAttendedTransfer(with transferee: SIPChannel) async -> TransferRefusal? {
        let outcome = try? await eventLoop.submit { [self] () -> Result<Void, TransferRefusal> in
            bridgePaused = false
            transferee.bridgePaused = false
            discardDigits()
            transferee.discardDigits()
            do throws(TransferRefusal) {
                _ = try SIPAttendedTransfer.start(transferer: self, driver: driver)
                return .success(())
            } catch {
                return .failure(error)
            }
        }.get()
        switch outcome {
        case .success: return nil
        case .failure(let refusal): return refusal
        case nil: return .gone(name)
        }
    }

    private func playInvalid() async {
        _ = await play(["pbx-invalid"], language: SoundLibrary.fallbackLanguage, interruptDigits: "")
    }

    /// The prompt, then keys until the extension can't grow or the digit timeout passes.
    private func dialTransferTarget(routing: any BlindTransferRouting, digitTimeout: Duration, bridgedWith other: SIPChannel)
        async -> TransferTarget
    {
        var exten = ""
        switch await play(["pbx-transfer"], language: SoundLibrary.fallbackLanguage, interruptDigits: DTMFDigit.allKeys) {
        case .interrupted(let digit): exten.append(digit)
        case .hungUp: return .gone
        case .finished, .missing: break
        }
        let context = await routing.transferContext(of: self, bridgedWith: other)
        let callerID = await callerIDNumber
        while routing.canMatchMore(context: context, exten: exten, callerID: callerID) {
            guard let digit = await receiveDigit(timeout: digitTimeout) else {
                if await isStopped { return .gone }
                break
            }
            exten.append(digit)
        }
        guard !exten.isEmpty, routing.exists(context: context, exten: exten, callerID: callerID) else {
            return .invalid(exten.isEmpty ? "(nothing)" : "\(exten)@\(context)")
        }
        return .exten(context: context, exten: exten)
    }

    /// Stops the relay between the two legs so each can have its own media (prompt, music).
    private func holdBridge() async {
        let unlinked = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { [self] in
            // This leg's link only: its session's other side may carry another call's leg.
            let side = media.side
            media.relay.enqueue { session in
                await session.unlink(side)
                unlinked.succeed(())
            }
        }
        try? await unlinked.futureResult.get()
    }

    /// Ends the hold on both legs (their keys and media are the bridge's again).
    private func resumeFlags(with other: SIPChannel) async {
        try? await eventLoop.submit { [self] in
            bridgePaused = false
            other.bridgePaused = false
            discardDigits()
            other.discardDigits()
        }.get()
    }

    /// The code's last key still has RFC 4733 end packets in flight (a phone repeats the end
    /// three times, 20 ms apart); once the relay stops they reach this leg's own detector as a
    /// new key. Listening starts now, and what it hears in the next 100 ms is dropped.
    private func discardCodeEcho() async {
        _ = await localMediaEndpoint()
        try? await Task.sleep(for: .milliseconds(100))
        try? await eventLoop.submit { self.discardDigits() }.get()
    }

    private func discardDigits() {
        while digits.take(matching: nil) != nil {}
    }

    /// Links the two legs' media again, unless one of them left meanwhile.
    private func resumeBridge(with other: SIPChannel) async {
        await resumeFlags(with: other)
        try? await eventLoop.submit { [self] in
            localMedia = nil
            other.localMedia = nil
            guard hangupCause == nil, other.hangupCause == nil, bridgedPeer === other else { return }
            let (caller, callee) = media.side == .a ? (self, other) : (other, self)
            driver.media.bridge(caller: caller.media, callee: callee.media)
            logger.info("back in the bridge", metadata: ["peer": "\(other.name)"])
        }.get()
    }

    /// Music on hold (class `default`) to this leg's phone while a transfer is dialed; nil
    /// (silence) when there is no such class or nothing playable.
    func startHoldMusic() async -> RTPPlayer? {
        let musicClass = try? await eventLoop.submit { self.driver.musicOnHold.classes["default"] }.get()
        guard let musicClass = musicClass ?? nil, let endpoint = await localMediaEndpoint(), let codec = await playbackCodec(),
            let law = G711Law(codec: codec),
            let music = musicSource(musicClass.files, random: musicClass.random, codec: codec, law: law)
        else {
            logger.debug("no music on hold for the transferee; it hears silence")
            return nil
        }
        publishEvent { .musicOnHoldStart($0, musicClass: musicClass.name) }
        return await endpoint.play(music, codec: codec)
    }

    func stopHoldMusic(_ player: RTPPlayer?) async {
        guard let player else { return }
        await player.stop()
        publishEvent { .musicOnHoldStop($0) }
    }
}

extension DTMFDigit {
    /// Every key, as a prompt's interrupt set.
    static let allKeys = "0123456789*#ABCD"
}
