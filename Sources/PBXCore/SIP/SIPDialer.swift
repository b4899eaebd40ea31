import Logging
import NIOCore
import SIPStack

/// Dial() for SIP: rings one or more peers, bridges the first to answer with the caller, and
/// returns when the call ends (or no one answered). Implements `CallDialer` for the dialplan.
public struct SIPDialer: CallDialer {
    let driver: SIPChannelDriver

    public init(driver: SIPChannelDriver) { self.driver = driver }

    public func dial(from caller: any CallChannel, request: DialRequest) async -> DialResult {
        guard let caller = caller as? SIPChannel else { return DialResult(status: .chanUnavail) }
        let driver = self.driver
        guard let relay = await driver.calleeRelay(for: caller) else {
            return DialResult(status: .congestion, cause: .normalCircuitCongestion)
        }
        return await withCheckedContinuation { continuation in
            driver.eventLoop.execute {
                let attempt = DialAttempt(driver: driver, caller: caller, request: request, relay: relay) { result in
                    continuation.resume(returning: result)
                }
                attempt.start()
            }
        }
    }
}

/// One run of Dial(): the callee legs being rung, the timeout, and how it ended.
final class DialAttempt: @unchecked Sendable {
    // @unchecked Sendable: created on the SIP event loop and only ever touched there (every
    // callback it registers is a future/scheduled task of that same loop).
    private let driver: SIPChannelDriver
    private let caller: SIPChannel
    private let request: DialRequest
    /// Where the callee legs' media goes (the caller's session, or a new one).
    private let relay: RelayControl
    private var completion: ((DialResult) -> Void)?
    private var legs: [SIPChannel] = []
    private var failures: [HangupCause] = []
    private var timeoutTimer: TimerWheel.Token?
    /// The leg that answered; after an attended transfer, the party the caller is bridged with now.
    private var winner: SIPChannel?
    /// The name of the leg that answered (`DIALEDPEERNAME`), whoever the caller ends up with.
    private var answeredName: String?
    /// Set once the caller and the winner are bridged.
    private var joined = false
    /// Whether the caller's media was linked to a callee's early media (183 with SDP).
    private var earlyMediaBridged = false
    /// Legs whose DialEnd has been published (each gets exactly one).
    private var ended: Set<ObjectIdentifier> = []
    /// The attended transfer whose transferer (this Dial's caller) hung up while these legs
    /// still ring: the one that answers goes to the transferee ("blond" transfer).
    private var blondTransfer: SIPAttendedTransfer?
    /// Still following the legs: for the caller's Dial, or for a blond transfer.
    private var active: Bool { completion != nil || blondTransfer != nil }
    private var dialEvents: DialEvents { DialEvents(driver: driver, caller: caller) }

    init(driver: SIPChannelDriver, caller: SIPChannel, request: DialRequest, relay: RelayControl, completion: @escaping (DialResult) -> Void) {
        self.driver = driver
        self.caller = caller
        self.request = request
        self.relay = relay
        self.completion = completion
    }

    func start() {
        for target in request.targets {
            guard target.technology.caseInsensitiveEquals("SIP") else {
                caller.logger.warning("Dial: unsupported technology", metadata: ["tech": "\(target.technology)"])
                failures.append(.facilityRejected)
                continue
            }
            switch driver.makeOutboundLeg(to: target.resource, caller: caller, relay: relay) {
            case .success(let leg):
                legs.append(leg)
                dialEvents.begin(leg, dialString: target.resource)
                leg.hangupFuture.whenSuccess { [self] cause in legEnded(leg, cause: cause) }
                driver.sendInvite(on: leg) { [self] event in handle(event, on: leg) }
            case .failure(let error):
                caller.logger.notice("Dial: cannot call", metadata: ["target": "\(target.resource)", "reason": "\(error)"])
                failures.append(error.cause)
            }
        }
        driver.media.releaseIfUnused(relay)
        caller.attendedTransfer?.consultDial = self
        guard !legs.isEmpty else {
            finish(DialResult(status: failures.contains(.userBusy) ? .busy : .chanUnavail, cause: failures.last ?? .unallocated))
            return
        }
        caller.hangupFuture.whenSuccess { [self] _ in callerHungUp() }
        // An async goto (AMI Redirect, BlindTransfer) ends the Dial without ending the caller.
        caller.waitEnded.whenSuccess { [self] in if caller.isInterrupted { callerRedirected() } }
        if let timeout = request.timeout {
            timeoutTimer = driver.timers.schedule(in: .nanoseconds(timeout.nanoseconds)) { [self] in timedOut() }
        }
    }

    private func handle(_ event: OutboundLegEvent, on leg: SIPChannel) {
        guard active else { return }
        switch event {
        case .ringing:
            guard winner == nil else { return }
            leg.markRinging()
            dialEvents.ringing(leg)
            caller.indicateOnLoop(.ringing)
        case .earlyMedia:
            guard winner == nil, blondTransfer == nil else { return }
            earlyMediaBridged = true
            caller.localMedia = nil  // bridging detaches it; a failed Dial attaches anew
            driver.media.bridge(caller: caller.media, callee: leg.media)
            caller.sendProvisional(183, withMedia: true)
        case .answered:
            answered(by: leg)
        case .failed(let cause):
            failures.append(cause)
            endLeg(leg, DialStatus(failure: cause))
            if leg.hangupCause == nil { leg.remoteHangup(cause: cause) }
        }
    }

    private func answered(by leg: SIPChannel) {
        guard winner == nil else {
            // A second fork answered late: take it down.
            leg.hangupOnLoop(cause: .normalClearing)
            return
        }
        winner = leg
        answeredName = leg.name
        if let timeoutTimer { driver.timers.cancel(timeoutTimer) }
        endLeg(leg, .answer)
        for other in legs where other !== leg {
            endLeg(other, .cancel)
            other.hangupOnLoop(cause: .normalClearing)
        }
        if let transfer = blondTransfer {
            blondTransfer = nil
            transfer.targetAnswered(leg)
            return
        }
        caller.media.preferCodec(of: leg.media)
        do {
            try caller.answerOnLoop()
        } catch {
            caller.logger.warning("cannot answer caller", metadata: ["error": "\(error)"])
            leg.hangupOnLoop(cause: .incompatibleDestination)
            return
        }
        SIPBridge(driver: driver).join(caller: caller, callee: leg, features: BridgeFeatures(options: request.options))
        joined = true
        caller.whenPeerDeparts { [self] in peerDeparted($0) }
    }

    /// The caller's party hung up (the caller goes too: Dial without the `g` option), left for
    /// the dialplan (the Dial returns; the caller is left up), or was replaced by an attended
    /// transfer (the Dial follows the new party).
    private func peerDeparted(_ departure: PeerDeparture) {
        guard completion != nil else { return }
        switch departure {
        case .replaced(let party):
            winner = party
            caller.whenPeerDeparts { [self] in peerDeparted($0) }
        case .hungUp(let cause):
            caller.hangupOnLoop(cause: .normalClearing)
            finish(DialResult(status: .answer, cause: cause, answeredChannelName: answeredName))
        case .left:
            caller.logger.info("Dial: the answered party left the bridge")
            finish(DialResult(status: .answer, cause: .normalClearing, answeredChannelName: answeredName))
        }
    }

    /// Publishes the leg's DialEnd, once.
    private func endLeg(_ leg: SIPChannel, _ status: DialStatus) {
        guard ended.insert(ObjectIdentifier(leg)).inserted else { return }
        dialEvents.end(leg, status)
    }

    private func legEnded(_ leg: SIPChannel, cause: HangupCause) {
        if leg !== winner { endLeg(leg, DialStatus(failure: cause)) }
        guard active else { return }
        if leg === winner, completion != nil, !joined {
            // Callee hung up before the bridge: the caller goes too. Once joined, the caller's
            // peer-departure watch decides (the winner may have been handed elsewhere).
            caller.hangupOnLoop(cause: .normalClearing)
            finish(DialResult(status: .answer, cause: cause, answeredChannelName: leg.name))
            return
        }
        if winner == nil, legs.allSatisfy({ $0.hangupCause != nil }) {
            noAnswer(failureResult())
        }
    }

    /// The transferer (this Dial's caller) hung up while the legs ring: they ring on for the
    /// transferee. False when nothing rings any more (or someone answered).
    func handOver(to transfer: SIPAttendedTransfer) -> Bool {
        guard completion != nil, winner == nil, legs.contains(where: { $0.hangupCause == nil }) else { return false }
        blondTransfer = transfer
        return true
    }

    /// Nobody answered: the Dial's result, and a blond transfer fails.
    private func noAnswer(_ result: DialResult) {
        if let transfer = blondTransfer {
            blondTransfer = nil
            if let timeoutTimer { driver.timers.cancel(timeoutTimer) }
            transfer.targetFailed()
        }
        finish(result)
    }

    private func callerHungUp() {
        guard completion != nil else { return }
        if blondTransfer != nil {
            // The legs ring on for the transferee (and keep the timeout); the caller's Dial is over.
            let completion = self.completion
            self.completion = nil
            completion?(DialResult(status: .cancel, cause: .normalClearing))
            return
        }
        if let winner {
            // Not a party handed elsewhere meanwhile (a transferer's target, a redirected leg).
            if winner.isStillBridged(with: caller) { winner.hangupOnLoop(cause: .normalClearing) }
            finish(DialResult(status: .answer, cause: .normalClearing, answeredChannelName: answeredName))
        } else {
            cancelRinging()
        }
    }

    /// Stops a Dial nobody answered yet (CANCEL to every leg), as for a caller hangup: the
    /// caller gone, or its consultation ended by pbxd (AMI Hangup, CancelAtxfer).
    func cancelRinging() {
        guard completion != nil, winner == nil else { return }
        finish(DialResult(status: .cancel, cause: .normalClearing))
        for leg in legs {
            endLeg(leg, .cancel)
            leg.hangupOnLoop(cause: .normalClearing)
        }
    }

    /// The caller is sent elsewhere in the dialplan: the callee (or the legs still ringing) is
    /// hung up, and the caller leaves the bridge with its media back for the dialplan.
    private func callerRedirected() {
        guard completion != nil, caller.hangupCause == nil else { return }
        caller.logger.info("Dial: caller redirected")
        if let winner {
            finish(DialResult(status: .answer, cause: .normalClearing, answeredChannelName: answeredName))
            let bridged = winner.isStillBridged(with: caller)
            caller.bridge?.leave(caller)
            caller.bridgedPeer = nil
            driver.media.unbridge(caller: caller.media)
            if bridged { winner.hangupOnLoop(cause: .normalClearing) }
        } else {
            finish(DialResult(status: .cancel, cause: .normalClearing))
            for leg in legs {
                endLeg(leg, .cancel)
                leg.hangupOnLoop(cause: .normalClearing)
            }
        }
    }

    private func timedOut() {
        guard active, winner == nil else { return }
        caller.logger.info("Dial: no answer before timeout")
        // Finish first: hanging up the legs reports them ended, which must not decide the status.
        noAnswer(DialResult(status: .noAnswer, cause: .noAnswer))
        for leg in legs {
            endLeg(leg, .noAnswer)
            leg.hangupOnLoop(cause: .noAnswer)
        }
    }

    /// Asterisk's DIALSTATUS for a dial where nobody answered.
    private func failureResult() -> DialResult {
        if failures.contains(.userBusy) { return DialResult(status: .busy, cause: .userBusy) }
        if failures.contains(where: { $0 == .noAnswer || $0 == .noUserResponse }) {
            return DialResult(status: .noAnswer, cause: .noAnswer)
        }
        return DialResult(status: .congestion, cause: failures.last ?? .normalCircuitCongestion)
    }

    private func finish(_ result: DialResult) {
        if result.status != .answer, earlyMediaBridged, caller.hangupCause == nil {
            // The caller heard the callee's early media; give its leg back to the dialplan.
            driver.media.unbridge(caller: caller.media)
        }
        if let timeoutTimer { driver.timers.cancel(timeoutTimer) }
        if result.status != .answer, let cause = result.cause { caller.pendingFailureCause = cause }
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }
}

/// What an outbound leg's INVITE transaction reports to the dial.
enum OutboundLegEvent {
    case ringing
    case earlyMedia
    case answered
    case failed(HangupCause)
}

/// Why an outbound leg could not even be created.
struct OutboundLegError: Error, CustomStringConvertible {
    var cause: HangupCause
    var description: String
}
