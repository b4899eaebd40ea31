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
public final class SIPChannel: CallChannel, @unchecked Sendable {
    // @unchecked Sendable: every `var` below is touched only on `eventLoop` (loop-side methods
    // assert it; async entry points hop with `eventLoop.submit`).

    public enum Direction: Sendable { case inbound, outbound }

    public let name: String
    public let uniqueID: String
    public let linkedID: String
    public let direction: Direction
    /// The sip.conf peer this leg belongs to.
    public let peer: SIPPeer
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
    /// The leg's own media endpoint while it plays prompts or listens for DTMF (not bridged).
    var localMedia: LocalMediaEndpoint?
    /// DTMF pressed and not yet read by the dialplan.
    var digits = DigitBuffer()
    /// The stream of RFC 4733 packets pbxd injects toward this leg's phone (SIPChannel+DTMF.swift).
    var injectedDTMF = InjectedDTMFStream()
    /// Why an unanswered inbound leg is about to be rejected (set by a failed Dial).
    var pendingFailureCause: HangupCause?

    // Inbound-only state.
    var serverTransaction: ServerTransactionHandle?
    private var sentProvisional: Int?

    // Outbound-only state.
    var clientTransaction: ClientTransactionHandle?

    init(
        direction: Direction, peer: SIPPeer, identity: (name: String, uniqueID: String), linkedID: String?,
        invite: SIPRequest, remoteAddress: SIPTransportAddress, media: LegMedia, driver: SIPChannelDriver,
        callerNumber: String, callerName: String
    ) {
        self.direction = direction
        self.peer = peer
        self.name = identity.name
        self.uniqueID = identity.uniqueID
        self.linkedID = linkedID ?? identity.uniqueID
        self.invite = invite
        self.remoteAddress = remoteAddress
        self.media = media
        self.driver = driver
        self.callerNumber = callerNumber
        self.callerName = callerName
        self.channelState = direction == .inbound ? .ring : .down
        self.hangupPromise = driver.eventLoop.makePromise(of: HangupCause.self)
        var logger = driver.logger
        logger[metadataKey: "uniqueid"] = "\(identity.uniqueID)"
        logger[metadataKey: "channel"] = "\(identity.name)"
        self.logger = logger
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
            self.callerNumber = number
            self.callerName = name
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
        let nanos = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let outcome = eventLoop.makePromise(of: Bool.self)
        eventLoop.execute {
            guard self.hangupCause == nil else { return outcome.succeed(true) }
            let timer = self.driver.timers.schedule(in: .nanoseconds(max(0, nanos))) { outcome.succeed(false) }
            self.hangupPromise.futureResult.whenSuccess { _ in
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
        channelState = .up
        logger.info("answered")
    }

    func indicateOnLoop(_ indication: ChannelIndication) {
        eventLoop.preconditionInEventLoop()
        guard direction == .inbound, hangupCause == nil, channelState != .up else { return }
        switch indication {
        case .ringing:
            guard sentProvisional == nil else { return }
            sendProvisional(180, withMedia: false)
            channelState = .ringing
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
        finish(cause: cause)
    }

    /// Marks the leg ended: stops retransmissions, frees media, releases the peer's call slot.
    func finish(cause: HangupCause) {
        guard hangupCause == nil else { return }
        hangupCause = cause
        channelState = .down
        driver.channelEnded(self)
        hangupPromise.succeed(cause)
    }

    /// An outbound leg's state as responses arrive (the dialer drives the rest).
    func markRinging() {
        guard channelState != .up else { return }
        channelState = .ringing
        driver.leg(self, isRinging: true)
    }
    func markUp() {
        channelState = .up
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
