import NIOCore

/// `CallDialer.bridge` for SIP: joins caller and callee and reports how the bridge ended. It
/// follows the party the caller is bridged with, so after an attended transfer by the callee
/// it waits on the transfer target instead (and hangs that one up with the caller, since
/// whoever called `bridge` only knows the callee).
final class BridgeWait: @unchecked Sendable {
    // @unchecked Sendable: created on the SIP event loop and only touched there (its callbacks
    // are futures and peer-departure watchers of that same loop).
    private let driver: SIPChannelDriver
    private let caller: SIPChannel
    private let callee: SIPChannel
    private let ended: EventLoopPromise<BridgeEnd>
    /// The in-call feature codes each side may dial (Queue/Dial options t, T, h, H).
    private let features: BridgeFeatures
    /// Whom the caller is bridged with: the callee, or the target of its attended transfer.
    private var party: SIPChannel

    init(driver: SIPChannelDriver, caller: SIPChannel, callee: SIPChannel, features: BridgeFeatures, ended: EventLoopPromise<BridgeEnd>) {
        self.driver = driver
        self.features = features
        self.caller = caller
        self.callee = callee
        self.ended = ended
        self.party = callee
    }

    func start() {
        caller.hangupFuture.whenSuccess { [self] cause in
            if party !== callee, party.isStillBridged(with: caller) { party.hangupOnLoop(cause: .normalClearing) }
            ended.succeed(.callerHungUp(cause))
        }
        callee.hangupFuture.whenSuccess { [self] cause in
            if party === callee { ended.succeed(.calleeHungUp(cause)) }
        }
        caller.waitEnded.whenSuccess { [self] in callerInterrupted() }
        guard caller.hangupCause == nil, callee.hangupCause == nil else { return }
        do {
            try caller.answerOnLoop()
        } catch {
            caller.logger.warning("cannot answer caller", metadata: ["error": "\(error)"])
            return
        }
        SIPBridge(driver: driver).join(caller: caller, callee: callee, features: features)
        follow()
    }

    private func follow() {
        caller.whenPeerDeparts { [self] departure in
            switch departure {
            case .hungUp(let cause): ended.succeed(.calleeHungUp(cause))
            // Redirected into the dialplan: for the caller, as if it had hung up.
            case .left: ended.succeed(.calleeHungUp(.normalClearing))
            case .replaced(let next):
                party = next
                follow()
            }
        }
    }

    /// An async goto (AMI Redirect) of the caller while this bridge lasts: the caller leaves
    /// with its media back for the dialplan.
    private func callerInterrupted() {
        guard caller.isInterrupted, caller.hangupCause == nil, party.hangupCause == nil, caller.bridgedPeer === party else { return }
        caller.bridge?.leave(caller)
        caller.bridgedPeer = nil
        party.bridgedPeer = nil
        driver.media.unbridge(caller: caller.media)
        if party !== callee { party.hangupOnLoop(cause: .normalClearing) }
        ended.succeed(.callerRedirected)
    }
}
