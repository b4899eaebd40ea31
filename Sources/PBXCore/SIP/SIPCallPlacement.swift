import NIOCore
import SIPStack

/// `CallDialer.place` and `.bridge` for SIP: the two halves of Dial() for applications that act
/// between the answer and the bridge (Queue) or start a call with no caller (AMI Originate).
extension SIPDialer {
    public func place(_ target: CallTarget, for caller: (any CallChannel)?, options: PlaceOptions) async -> Result<PlacedCall, PlaceFailure> {
        guard target.technology.caseInsensitiveEquals("SIP") else {
            return .failure(PlaceFailure(cause: .facilityRejected, description: "unsupported channel technology '\(target.technology)'"))
        }
        let leg: Result<SIPChannel, OutboundLegError>
        let sipCaller = caller as? SIPChannel
        switch caller {
        case nil:
            leg = await driver.makeOriginatedLeg(to: target.resource, callerID: options.callerID ?? ("", ""), uniqueID: options.uniqueID)
        case let caller as SIPChannel:
            guard let relay = await driver.calleeRelay(for: caller) else {
                return .failure(PlaceFailure(cause: .normalCircuitCongestion, description: "no RTP ports for a call from \(caller.name)"))
            }
            leg = (try? await driver.eventLoop.submit {
                defer { self.driver.media.releaseIfUnused(relay) }
                return self.driver.makeOutboundLeg(to: target.resource, caller: caller, relay: relay, callerID: options.callerID)
            }.get()) ?? .failure(OutboundLegError(cause: .destinationOutOfOrder, description: "pbxd is stopping"))
        default:
            return .failure(PlaceFailure(cause: .facilityRejected, description: "caller \(caller!.name) is not a SIP channel"))
        }
        switch leg {
        case .failure(let error):
            return .failure(PlaceFailure(cause: error.cause, description: error.description))
        case .success(let channel):
            let (progress, continuation) = AsyncStream<CallProgress>.makeStream()
            let driver = self.driver
            driver.eventLoop.execute {
                let events = DialEvents(driver: driver, caller: sipCaller)
                PlacedCallTracker(driver: driver, leg: channel, events: events, timeout: options.timeout, continuation: continuation)
                    .start(dialString: target.resource)
            }
            return .success(PlacedCall(channel: channel, progress: progress))
        }
    }

    public func bridge(_ caller: any CallChannel, with callee: any CallChannel) async -> BridgeEnd {
        await bridge(caller, with: callee, features: .none)
    }

    public func bridge(_ caller: any CallChannel, with callee: any CallChannel, features: BridgeFeatures) async -> BridgeEnd {
        guard let caller = caller as? SIPChannel, let callee = callee as? SIPChannel else {
            return .refused("only SIP channels can be bridged")
        }
        guard caller.media.relay.session.eventLoop === callee.media.relay.session.eventLoop else {
            return .refused("\(callee.name) was not called for \(caller.name)")
        }
        let driver = self.driver
        let ended = driver.eventLoop.makePromise(of: BridgeEnd.self)
        driver.eventLoop.execute {
            BridgeWait(driver: driver, caller: caller, callee: callee, features: features, ended: ended).start()
        }
        return (try? await ended.futureResult.get()) ?? .callerHungUp(.normalClearing)
    }
}

/// Follows one placed leg's INVITE and turns it into `CallProgress`: the ring timeout, the
/// answer, or the failure — whichever comes first ends the stream.
final class PlacedCallTracker: @unchecked Sendable {
    // @unchecked Sendable: created on the SIP event loop and only touched there (its callbacks
    // are transaction events, timer-wheel expiries and futures of that same loop).
    private let driver: SIPChannelDriver
    private let leg: SIPChannel
    private let events: DialEvents
    private let timeout: Duration?
    private var continuation: AsyncStream<CallProgress>.Continuation?
    private var timer: TimerWheel.Token?

    init(driver: SIPChannelDriver, leg: SIPChannel, events: DialEvents, timeout: Duration?, continuation: AsyncStream<CallProgress>.Continuation) {
        self.driver = driver
        self.leg = leg
        self.events = events
        self.timeout = timeout
        self.continuation = continuation
    }

    func start(dialString: String) {
        events.begin(leg, dialString: dialString)
        // Hung up by the application (the queue stops ringing it: CANCEL) or by the far end.
        leg.hangupFuture.whenSuccess { [self] cause in end(.failed(cause), status: cause == .noAnswer ? .noAnswer : .cancel) }
        if let timeout {
            timer = driver.timers.schedule(in: .nanoseconds(timeout.nanoseconds)) { [self] in
                leg.hangupOnLoop(cause: .noAnswer)
            }
        }
        driver.sendInvite(on: leg) { [self] event in
            switch event {
            case .ringing, .earlyMedia:
                leg.markRinging()
                guard continuation != nil else { return }
                events.ringing(leg)
                continuation?.yield(.ringing)
            case .answered:
                end(.answered, status: .answer)
            case .failed(let cause):
                end(.failed(cause), status: DialStatus(failure: cause))
                if leg.hangupCause == nil { leg.remoteHangup(cause: cause) }
            }
        }
    }

    private func end(_ outcome: CallProgress, status: DialStatus) {
        guard let continuation else { return }
        if let timer { driver.timers.cancel(timer) }
        events.end(leg, status)
        continuation.yield(outcome)
        continuation.finish()
        self.continuation = nil
    }
}
