import Logging
import NIOCore
import RTPMedia
import SIPStack

/// One SIP call leg as an Asterisk-style channel: an inbound leg (a phone called us) or an
/// outbound leg (Dial() called a phone). It owns the leg's INVITE transaction, its dialog and its
/// half of the media, and turns SIP events into channel events.
///
/// Threading: all mutable state is confined to the SIP event loop (`driver.eventLoop`); the
/// `CallChannel` methods, called from the dialplan's task, hop onto the loop.
public final class SIPChannel: CallChannel, ChannelEventSource, InterruptibleChannel, DialplanOwnedChannel, @unchecked Sendable {
    // @unchecked Sendable: every `var` below is touched only on `eventLoop` (loop-side methods
    // assert it; async entry points hop with `eventLoop.submit`).

    public enum Direction: Sendable { case inbound, outbound }

    public let name: String
    public let uniqueID: String
    public let linkedID: String
    public let direction: Direction
    /// The sip.conf peer this leg belongs to.
    public let peer: SIPPeer
    /// The channel variables chan_sip sets on an inbound call — `SIPCALLID`, `SIPDOMAIN` (the
    /// host the phone called) and `SIPURI` (the caller at its real address) — for the dialplan
    /// run to start with; none on an outbound leg (it runs no dialplan).
    public let dialplanVariables: [String: String]
    let driver: SIPChannelDriver
    var eventLoop: any EventLoop { driver.eventLoop }
    let logger: Logger

    private(set) var channelState: ChannelState
    var callerNumber: String
    var callerName: String
    /// Where the dialplan is on this channel (for snapshots); outbound legs inherit nothing.
    var dialplanLocation: (context: String, exten: String, priority: Int) = ("", "", 1)
    /// The far end as AMI's ConnectedLine shows it (the callee for a caller and vice versa).
    var connectedLine: (number: String, name: String) = ("", "")
    /// Where the leg's signalling goes (the phone's real address).
    let remoteAddress: SIPTransportAddress
    /// The INVITE that created the leg (received for inbound, sent for outbound).
    var invite: SIPRequest
    var dialog: Dialog?
    /// The key the driver files this leg under for in-dialog requests (set once it has one).
    var dialogID: DialogID?
    /// Media for this leg: its socket in a relay session and the negotiated SDP.
    var media: LegMedia
    /// Set once the hangup has happened (either side); completes `hangupPromise`.
    private(set) var hangupCause: HangupCause?
    private let hangupPromise: EventLoopPromise<HangupCause>
    /// The other leg while bridged: re-INVITEs and BYEs are passed to it.
    weak var bridgedPeer: SIPChannel?
    /// The bridge this leg is in (it leaves before its Hangup event is published).
    var bridge: SIPBridge?
    /// Who waits on this leg's bridged party (a Dial or a bridge wait): told when that party
    /// hangs up, leaves or is replaced (SIPChannel+Handover.swift). One-shot each.
    var peerDepartureWatchers: [(PeerDeparture) -> Void] = []
    /// The attended transfer this leg is the transferer of, while it consults.
    var attendedTransfer: SIPAttendedTransfer?
    /// The leg's own media endpoint while it plays prompts or listens for DTMF (not bridged).
    var localMedia: LocalMediaEndpoint?
    /// DTMF pressed and not yet read by the dialplan.
    var digits = DigitBuffer()
    /// The stream of RFC 4733 packets pbxd injects toward this leg's phone (SIPChannel+DTMF.swift).
    var injectedDTMF = InjectedDTMFStream()
    /// Why an unanswered inbound leg is about to be rejected (set by a failed Dial).
    var pendingFailureCause: HangupCause?
    /// Whether the phone has put the call on hold (re-INVITE sendonly/inactive).
    var onHold = false
    /// The feature codes this leg may dial while bridged (SIPChannel+Features.swift).
    var featureCodes: BridgeFeatureCodes?
    /// Set while a feature (blind transfer) holds the bridge: the leg's media and keys are its own.
    var bridgePaused = false
    /// Set by an async goto (AMI Redirect) until the dialplan has moved: every wait returns at
    /// once while it is set (see `InterruptibleChannel`). Completes `interruption`.
    private(set) var isInterrupted = false
    private var interruption: EventLoopPromise<Void>?
    /// Set while a dialplan run owns the channel: its Hangup event (and its removal from the
    /// registry) wait for the run to end, as Asterisk destroys a channel when its PBX thread
    /// ends — so the `h` extension's events come before Hangup, and a Dial caller's Hangup
    /// after its callee's.
    private(set) var dialplanOwnsChannel = false

    // Inbound-only state.
    var serverTransaction: ServerTransactionHandle?
    private var sentProvisional: Int?

    // Outbound-only state.
    var clientTransaction: ClientTransactionHandle?

    /// Creates the leg and announces it (registry, Newchannel). Must run on the driver's loop.
    /// `dialplanLocation` is where an inbound call starts; an outbound leg starts at `s` in its
    /// peer's context, as chan_sip's do. `callerNumber`/`callerName` are the calling party: an
    /// inbound leg's own caller ID; for an outbound leg, whose own caller ID is its peer's
    /// (`callerid=`, else the peer name), they become the connected line (NewConnectedLine
    /// right after Newchannel, as Asterisk's Dial does).
    init(
        direction: Direction, peer: SIPPeer, identity: (name: String, uniqueID: String), linkedID: String?,
        invite: SIPRequest, remoteAddress: SIPTransportAddress, media: LegMedia, driver: SIPChannelDriver,
        callerNumber: String, callerName: String, dialplanLocation: (context: String, exten: String)? = nil
    ) {
        self.direction = direction
        self.peer = peer
        if direction == .inbound, let ip = remoteAddress.address.ipAddress, let port = remoteAddress.address.port {
            let user = invite.headers.from.uri.user.map { $0 + "@" } ?? ""
            dialplanVariables = [
                "SIPCALLID": invite.headers.callID, "SIPDOMAIN": invite.uri.host, "SIPURI": "sip:\(user)\(ip):\(port)",
            ]
        } else {
            dialplanVariables = [:]
        }
        self.name = identity.name
        self.uniqueID = identity.uniqueID
        self.linkedID = linkedID ?? identity.uniqueID
        self.invite = invite
        self.remoteAddress = remoteAddress
        self.media = media
        self.driver = driver
        self.callerNumber = direction == .inbound ? callerNumber : (peer.callerID?.number ?? peer.name)
        self.callerName = direction == .inbound ? callerName : (peer.callerID?.name ?? "")
        // Created Down, as Asterisk's channels are; an inbound one moves to Ring at once.
        self.channelState = .down
        let start = dialplanLocation ?? (peer.context, "s")
        self.dialplanLocation = (start.context, start.exten, 1)
        self.hangupPromise = driver.eventLoop.makePromise(of: HangupCause.self)
        var logger = driver.logger
        logger[metadataKey: "uniqueid"] = "\(identity.uniqueID)"
        logger[metadataKey: "channel"] = "\(identity.name)"
        self.logger = logger
        driver.channelCreated(self)
    }

    // MARK: CallChannel (called from the dialplan task)

    public var callerIDNumber: String {
        get async { (try? await eventLoop.submit { self.callerNumber }.get()) ?? "" }
    }
    public var callerIDName: String {
        get async { (try? await eventLoop.submit { self.callerName }.get()) ?? "" }
    }
    public var state: ChannelState {
        get async { (try? await eventLoop.submit { self.channelState }.get()) ?? .down }
    }
    public var isHungUp: Bool {
        get async { (try? await eventLoop.submit { self.hangupCause != nil }.get()) ?? true }
    }

    public var snapshot: ChannelSnapshot {
        get async { (try? await eventLoop.submit { self.snapshotOnLoop() }.get()) ?? ChannelSnapshot(name: name, state: .down, uniqueID: uniqueID, linkedID: linkedID) }
    }

    public func setDialplanLocation(context: String, exten: String, priority: Int) async {
        try? await eventLoop.submit { self.dialplanLocation = (context, exten, priority) }.get()
    }

    // MARK: Events

    /// Publishes an event with this channel's block, taken on the loop, in order with the
    /// channel's own events (a call from another thread is queued behind what the loop has).
    public func publishEvent(_ make: @escaping @Sendable (ChannelSnapshot) -> ManagerEvent) {
        if eventLoop.inEventLoop {
            driver.events.publish(make(snapshotOnLoop()))
        } else {
            eventLoop.execute { self.driver.events.publish(make(self.snapshotOnLoop())) }
        }
    }

    /// Moves to `state`, with Newstate when it changes.
    func changeState(_ state: ChannelState) {
        eventLoop.preconditionInEventLoop()
        guard channelState != state else { return }
        channelState = state
        publishEvent { .newstate($0) }
    }

    /// The far end as this channel's phone should see it (a dialer sets it on both legs).
    func setConnectedLine(number: String, name: String) {
        eventLoop.preconditionInEventLoop()
        guard connectedLine != (number, name) else { return }
        connectedLine = (number, name)
        publishEvent { .newConnectedLine($0) }
    }

    // MARK: Channel end (DialplanOwnedChannel)

    /// The driver (inbound calls) or a dialer (originated calls) calls this on the loop before
    /// it hands the channel to a dialplan run.
    func deferHangupToDialplan() {
        eventLoop.preconditionInEventLoop()
        dialplanOwnsChannel = true
    }

    public func dialplanEnded() async {
        try? await eventLoop.submit {
            guard self.dialplanOwnsChannel else { return }
            self.dialplanOwnsChannel = false
            // A transferer's consultation run is over: back to the transferee, or gone.
            if let transfer = self.attendedTransfer {
                transfer.consultationEnded()
                return
            }
            // Not hung up yet (unusual): `finish` announces the hangup when it comes.
            if let cause = self.hangupCause { self.announceHangup(cause) }
        }.get()
    }

    /// Hangup (the channel's last event) and its removal from the live channels.
    private func announceHangup(_ cause: HangupCause) {
        publishEvent { .hangup($0, cause: cause) }
        driver.channels.remove(uniqueID: uniqueID)
    }

    // MARK: Async goto (InterruptibleChannel)

    public func interruptApplication() async {
        try? await eventLoop.submit {
            guard self.hangupCause == nil, !self.isInterrupted else { return }
            self.isInterrupted = true
            self.interruption?.succeed(())
            self.logger.debug("current application interrupted (async goto)")
        }.get()
    }

    public func clearInterruption() async {
        try? await eventLoop.submit {
            self.isInterrupted = false
            self.interruption = nil
        }.get()
    }

    /// Completes when the current application must stop waiting: the channel hung up or an
    /// async goto interrupted it. Call on the loop.
    var waitEnded: EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        if hangupCause != nil || isInterrupted { return eventLoop.makeSucceededVoidFuture() }
        let promise = interruption ?? eventLoop.makePromise(of: Void.self)
        interruption = promise
        let ended = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenSuccess { ended.succeed(()) }
        hangupPromise.futureResult.whenSuccess { _ in ended.succeed(()) }
        return ended.futureResult
    }

    /// Whether the current application should give up: hung up, or interrupted.
    var isStopped: Bool {
        get async { (try? await eventLoop.submit { self.hangupCause != nil || self.isInterrupted }.get()) ?? true }
    }

    /// The snapshot, taken on the loop (events published from loop-side code use this).
    func snapshotOnLoop() -> ChannelSnapshot {
        ChannelSnapshot(
            name: name, state: channelState, callerIDNumber: callerNumber, callerIDName: callerName,
            connectedLineNumber: connectedLine.number, connectedLineName: connectedLine.name,
            context: dialplanLocation.context, exten: dialplanLocation.exten, priority: dialplanLocation.priority,
            uniqueID: uniqueID, linkedID: linkedID)
    }

    public func requestHeader(_ name: String, occurrence: Int) async -> String? {
        let values = (try? await eventLoop.submit { self.invite.headers.wireValues(named: name) }.get()) ?? []
        return values.indices.contains(occurrence - 1) ? values[occurrence - 1] : nil
    }

    public func setCallerID(number: String, name: String) async {
        try? await eventLoop.submit {
            guard (self.callerNumber, self.callerName) != (number, name) else { return }
            self.callerNumber = number
            self.callerName = name
            self.publishEvent { .newCallerid($0) }
        }.get()
    }

    public func answer() async throws {
        try await eventLoop.submit { try self.answerOnLoop() }.get()
        // Listen for DTMF from now on: digits pressed before the first prompt are kept.
        _ = await localMediaEndpoint()
    }

    public func indicate(_ indication: ChannelIndication) async {
        try? await eventLoop.submit { self.indicateOnLoop(indication) }.get()
    }

    public func hangup(cause: HangupCause) async {
        try? await eventLoop.submit { self.hangupOnLoop(cause: cause) }.get()
    }

    public func waitForHangup(timeout: Duration) async -> Bool {
        let nanos = timeout.nanoseconds
        let outcome = eventLoop.makePromise(of: Bool.self)
        eventLoop.execute {
            guard self.hangupCause == nil, !self.isInterrupted else { return outcome.succeed(true) }
            let timer = self.driver.timers.schedule(in: .nanoseconds(max(0, nanos))) { outcome.succeed(false) }
            self.waitEnded.whenSuccess {
                self.driver.timers.cancel(timer)
                outcome.succeed(true)
            }
        }
        return (try? await outcome.futureResult.get()) ?? true
    }

    /// Completes when the leg has hung up, with the cause.
    var hangupFuture: EventLoopFuture<HangupCause> { hangupPromise.futureResult }

    // MARK: Loop-side control

    /// 200 OK with our SDP answer to the caller's offer; retransmitted until the ACK (§13.3.1.4).
    func answerOnLoop() throws {
        eventLoop.preconditionInEventLoop()
        guard direction == .inbound, hangupCause == nil else { return }
        guard channelState != .up else { return }
        guard let transaction = serverTransaction else { return }
        let sdp = try media.localAnswerBody()
        var response = makeResponse(200)
        response.headers.contentType = "application/sdp"
        response.body = sdp
        driver.transactions.respond(response, on: transaction)
        changeState(.up)
        logger.info("answered")
    }

    func indicateOnLoop(_ indication: ChannelIndication) {
        eventLoop.preconditionInEventLoop()
        guard direction == .inbound, hangupCause == nil, channelState != .up else { return }
        switch indication {
        case .ringing:
            guard sentProvisional == nil else { return }
            // chan_sip sends 180 without a state change: an inbound leg stays Ring until Up.
            sendProvisional(180, withMedia: false)
        case .progress:
            sendProvisional(183, withMedia: true)
        case .busy:
            // chan_sip answers 486 at once and soft-hangs-up the channel; the phone is done.
            reject(with: .userBusy)
        case .congestion:
            reject(with: .normalCircuitCongestion)
        }
    }

    /// Sends the final failure response for `cause` and ends the leg.
    private func reject(with cause: HangupCause) {
        if let transaction = serverTransaction {
            driver.transactions.respond(makeResponse(cause.sipStatus, reason: failureReason(cause)), on: transaction)
        }
        finish(cause: cause)
    }

    /// Sends 180/183 (183 with early-media SDP when we already have a media answer).
    func sendProvisional(_ code: Int, withMedia: Bool) {
        guard let transaction = serverTransaction, hangupCause == nil else { return }
        var response = makeResponse(code)
        // Early media needs the phone's offer: our own offer may not ride an unreliable 1xx.
        if withMedia, media.hasRemoteOffer, let sdp = try? media.localAnswerBody() {
            response.headers.contentType = "application/sdp"
            response.body = sdp
        }
        sentProvisional = code
        driver.transactions.respond(response, on: transaction)
    }

    /// Ends the leg from our side: final error for an unanswered inbound leg, CANCEL for a
    /// ringing outbound leg, BYE for an established one.
    func hangupOnLoop(cause: HangupCause) {
        eventLoop.preconditionInEventLoop()
        guard hangupCause == nil else { return }
        // A transferer's consultation ends instead (it returns to its transferee when its run ends).
        if let transfer = attendedTransfer, transfer.endConsultation() { return }
        switch (direction, channelState) {
        case (.inbound, .up):
            sendBye()
        case (.inbound, _):
            var failure = cause
            if cause == .normalClearing, let pending = pendingFailureCause { failure = pending }
            reject(with: failure)
            return
        case (.outbound, .up):
            sendBye()
        case (.outbound, _):
            if let transaction = clientTransaction { driver.transactions.cancel(transaction) }
        }
        finish(cause: cause)
    }

    private func failureReason(_ cause: HangupCause) -> String? {
        cause == .noAnswer ? "Temporarily Unavailable" : nil
    }

    func sendBye() {
        guard var dialog else { return }
        let bye = dialog.makeRequest(.bye, via: driver.makeVia(for: remoteAddress))
        self.dialog = dialog
        driver.transactions.sendRequest(bye, to: driver.destination(for: dialog, fallback: remoteAddress)) { _ in }
    }

    /// The far end hung up (BYE, CANCEL, error response or timeout).
    func remoteHangup(cause: HangupCause) {
        eventLoop.preconditionInEventLoop()
        guard hangupCause == nil else { return }
        if direction == .inbound, channelState != .up, let transaction = serverTransaction {
            // A BYE on an early dialog (or a CANCEL) still owes the INVITE its final answer (§15.1.2).
            driver.transactions.respond(makeResponse(487), on: transaction)
        }
        logger.info("remote hangup", metadata: ["cause": "\(cause.rawValue)"])
        // chan_sip queues a hangup (HangupRequest) for a BYE or CANCEL; an outbound leg that
        // fails before answering only reports its failure to the dial.
        if direction == .inbound || channelState == .up {
            publishEvent { .hangupRequest($0, cause: cause) }
            // Leaving a bridge because this side hung up soft-hangs it up too (Asterisk 18),
            // after its BridgeLeave.
            if let bridge {
                bridge.leave(self)
                publishEvent { .softHangupRequest($0, cause: cause) }
            }
        }
        finish(cause: cause)
    }

    /// Marks the leg ended: stops retransmissions, frees media, releases the peer's call slot.
    func finish(cause: HangupCause) {
        guard hangupCause == nil else { return }
        hangupCause = cause
        bridge?.leave(self)
        // A consulting transferer hanging up completes (or abandons) its attended transfer.
        attendedTransfer?.transfererHungUp(cause: cause)
        // The state stays as it was (Hangup shows e.g. Up, as Asterisk's does).
        if !dialplanOwnsChannel { announceHangup(cause) }
        interruption?.succeed(())
        interruption = nil
        driver.channelEnded(self)
        if let peer = bridgedPeer, peer.bridgedPeer === self { peer.peerDeparted(.hungUp(cause)) }
        hangupPromise.succeed(cause)
    }

    /// An outbound leg's state as responses arrive (the dialer drives the rest).
    func markRinging() {
        guard channelState != .up else { return }
        changeState(.ringing)
        driver.leg(self, isRinging: true)
    }
    func markUp() {
        changeState(.up)
        driver.leg(self, isRinging: false)
    }

    /// A response to our inbound INVITE, with the dialog's To-tag.
    func makeResponse(_ code: Int, reason: String? = nil) -> SIPResponse {
        var response = driver.makeResponse(to: invite, code, reason: reason, toTag: dialogLocalTag)
        if code > 100 && code < 300 {
            // Dialog-establishing: our Contact is the remote target the phone will use (§12.1.1).
            response.headers.contacts = [driver.localContact(for: remoteAddress)]
        } else {
            response.headers.recordRoutes = []
        }
        if code == 200 { response.headers.add("Allow", SIPChannelDriver.allowedMethods) }
        return response
    }

    /// Our To-tag on an inbound leg: fixed when the channel is created so every response and the
    /// dialog agree.
    lazy var dialogLocalTag: String = SIPTokens.tag()
}
