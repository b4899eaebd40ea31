import Logging
import NIOCore
import SIPStack

/// The SIP channel driver: pbxd's transaction user (RFC 3261 §8.2 UAS core and §8.1 UAC core).
/// It answers out-of-dialog requests (REGISTER, OPTIONS), authenticates and admits new calls as
/// inbound `SIPChannel`s, routes in-dialog requests to their channel, and creates outbound
/// channels for Dial(). Everything here runs on the SIP event loop.
public final class SIPChannelDriver: TransactionUser, @unchecked Sendable {
    // @unchecked Sendable: mutable state is only touched on `eventLoop` (TransactionUser callbacks
    // arrive there; public async entry points hop there).

    public static let allowedMethods = "INVITE, ACK, CANCEL, OPTIONS, BYE, REGISTER, INFO, UPDATE"
    public static let supportedExtensions: Set<String> = ["replaces", "timer", "path", "outbound"]

    public let eventLoop: any EventLoop
    public let logger: Logger
    let transport: SIPTransportLayer
    let transactions: TransactionLayer
    /// Call timers (ring timeouts, waits) share the transaction layer's wheel.
    var timers: TimerWheel { transactions.wheel }
    private(set) var config: SIPConfig
    let identity: ChannelIdentity
    let media: MediaEngine
    let userAgent: String
    let registrar: RegistrarService
    let authenticator: CallAuthenticator
    /// Where every channel's events go (Newchannel … Hangup, DTMF, Hold).
    public let events: EventBus
    /// Every live channel, for management (registered on creation, removed on hangup).
    public let channels: ChannelRegistry
    /// musiconhold.conf, to name the class in MusicOnHoldStart.
    public var musicOnHold = MusicOnHoldConfig()
    /// features.conf, and the dialplan's answers for a blind transfer (nil: `blindxfer` is off).
    public var features = FeaturesConfig()
    public var blindTransferRouting: (any BlindTransferRouting)?
    private let validator = SIPRequestValidator(
        supportedExtensions: SIPChannelDriver.supportedExtensions,
        implementedMethods: [.invite, .ack, .cancel, .options, .bye, .register, .info, .update, .prack,
                             .subscribe, .notify, .refer, .message, .publish],
        rejectsZeroMaxForwards: false
    )
    /// Decides whether an inbound call has somewhere to go (the dialplan), before we ring.
    public var routeExists: @Sendable (_ context: String, _ exten: String) -> Bool = { _, _ in false }
    /// What qualify last saw of a peer: Dial refuses an unreachable one at once (CHANUNAVAIL), as
    /// chan_sip does, instead of ringing into the void until Timer B. Called on the loop.
    public var reachability: (_ peer: String) -> PeerReachability = { _ in .unmonitored }
    /// Starts the dialplan for an admitted inbound channel.
    public var startCall: @Sendable (_ channel: SIPChannel, _ context: String, _ exten: String) -> Void = { _, _, _ in }

    /// Established and early dialogs by Call-ID + our tag (in-dialog requests find their leg).
    private var channelsByDialog: [DialogID: SIPChannel] = [:]
    /// Inbound legs by their INVITE server transaction (CANCEL finds its leg).
    private var channelsByInvite: [ServerTransactionHandle: SIPChannel] = [:]
    /// INVITEs being admitted (media being prepared), and those among them already cancelled.
    private var admitting: Set<ServerTransactionHandle> = []
    private var cancelledWhileAdmitting: Set<ServerTransactionHandle> = []
    /// Live channels per peer name (call-limit).
    private var callCounts: [String: Int] = [:]
    /// Published device states (SIPChannelDriver+DeviceState.swift).
    let deviceStates = DeviceStateTracker()
    private(set) var shuttingDown = false

    public init(
        eventLoop: any EventLoop, transport: SIPTransportLayer, config: SIPConfig, media: MediaEngine,
        registrar: RegistrarService, identity: ChannelIdentity = ChannelIdentity(), events: EventBus = EventBus(),
        channels: ChannelRegistry? = nil, logger: Logger
    ) {
        self.eventLoop = eventLoop
        self.events = events
        self.channels = channels ?? ChannelRegistry(events: events)
        self.transport = transport
        self.config = config
        self.media = media
        self.registrar = registrar
        self.identity = identity
        self.logger = logger
        self.userAgent = config.general.userAgent
        self.authenticator = CallAuthenticator(config: config)
        self.transactions = TransactionLayer(
            eventLoop: eventLoop,
            transport: { [transport] message, destination in transport.send(message, to: destination) }
        )
        transactions.user = self
        transport.setSink { [weak self] message, source in self?.transactions.receive(message, from: source) }
        transport.setFailureSink { [weak self] destination in self?.transactions.transportFailed(to: destination) }
    }

    /// All live channels (for `core show channels`, shutdown).
    public var liveChannels: [SIPChannel] {
        var seen = Set<ObjectIdentifier>()
        return (Array(channelsByDialog.values) + Array(channelsByInvite.values)).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    // MARK: TransactionUser

    public func didReceiveRequest(_ request: SIPRequest, from source: SIPTransportAddress, transaction: ServerTransactionHandle) {
        if let rejection = validator.validate(request) {
            logger.debug("request refused", metadata: ["from": "\(source)", "status": "\(rejection)"])
            transactions.respond(SIPResponse(rejecting: request, with: rejection, toTag: SIPTokens.tag()), on: transaction)
            return
        }
        if let toTag = request.headers.to.tag, !toTag.isEmpty {
            handleInDialog(request, toTag: toTag, from: source, transaction: transaction)
            return
        }
        switch request.method {
        case .register:
            registrar.handle(request, from: source, transaction: transaction, driver: self)
        case .options:
            transactions.respond(optionsResponse(to: request), on: transaction)
        case .invite:
            admitInvite(request, from: source, transaction: transaction)
        case .bye, .info, .update, .prack:
            reply(request, 481, on: transaction)
        case .subscribe, .notify, .refer, .message, .publish:
            var response = makeResponse(to: request, 405)
            response.headers.add("Allow", Self.allowedMethods)
            transactions.respond(response, on: transaction)
        default:
            var response = makeResponse(to: request, 501)
            response.headers.add("Allow", Self.allowedMethods)
            transactions.respond(response, on: transaction)
        }
    }

    public func didReceiveCancel(_ cancel: SIPRequest, from source: SIPTransportAddress, inviteTransaction invite: ServerTransactionHandle) {
        if admitting.contains(invite) {
            // Media is still being bound: answer 487 as soon as admission finishes.
            cancelledWhileAdmitting.insert(invite)
            return
        }
        guard let channel = channelsByInvite[invite] else { return }
        if channel.channelState != .up {
            channel.logger.info("caller cancelled")
            channel.remoteHangup(cause: .normalClearing)
        }
    }

    public func didReceiveAck(_ ack: SIPRequest, from source: SIPTransportAddress) {
        // The transaction layer stops the 2xx retransmissions itself. An ACK only matters here
        // when it carries the answer to the offer we made in a 200 (delayed offer).
        guard !ack.body.isEmpty, let tag = ack.headers.to.tag,
            let channel = channelsByDialog[DialogID(callID: ack.headers.callID, localTag: tag)],
            channel.media.awaitsAnswer
        else { return }
        if !channel.media.acceptRemoteAnswer(ack.body) {
            channel.logger.warning("ACK carried no usable SDP answer; ending call")
            channel.hangupOnLoop(cause: .incompatibleDestination)
        }
    }

    public func didNotReceiveAck(for response: SIPResponse, transaction: ServerTransactionHandle) {
        guard response.isSuccess, let channel = channelsByInvite[transaction] else { return }
        channel.logger.warning("no ACK for 200 OK; ending call")
        channel.sendBye()
        channel.remoteHangup(cause: .recoveryOnTimerExpire)
    }

    public func didReceiveStrayResponse(_ response: SIPResponse, from source: SIPTransportAddress) {
        // A retransmitted 2xx to an INVITE we already ACKed: ACK it again (§13.2.2.4).
        guard response.isSuccess, response.headers.cseq.method == .invite,
            let tag = response.headers.from.tag,
            let channel = channelsByDialog[DialogID(callID: response.headers.callID, localTag: tag)]
        else { return }
        channel.sendAck(cseq: response.headers.cseq.number)
    }

    // MARK: Inbound calls

    private func admitInvite(_ request: SIPRequest, from source: SIPTransportAddress, transaction: ServerTransactionHandle) {
        if shuttingDown {
            var response = makeResponse(to: request, 503)
            response.headers.add("Retry-After", "30")
            transactions.respond(response, on: transaction)
            return
        }
        let peer: SIPPeer
        switch authenticator.authenticate(request, from: source, purpose: .invite) {
        case .challenge(let response), .reject(let response):
            transactions.respond(response, on: transaction)
            return
        case .accepted(let accepted):
            peer = accepted
        }
        let exten = request.uri.user ?? "s"
        let context = peer.context
        guard routeExists(context, exten) else {
            logger.notice("no extension in context", metadata: ["exten": "\(exten)", "context": "\(context)", "peer": "\(peer.name)"])
            reply(request, 404, on: transaction)
            return
        }
        guard reserveCallSlot(for: peer) else {
            logger.notice("call-limit reached", metadata: ["peer": "\(peer.name)"])
            reply(request, 486, on: transaction)
            return
        }
        // No body is a delayed offer (RFC 3261 §13.2.1): we offer in the 200 and read the ACK.
        let offer = LegMedia.offer(in: request)
        guard offer != nil || request.body.isEmpty else {
            releaseCallSlot(for: peer)
            reply(request, 488, reason: "Unreadable SDP", on: transaction)
            return
        }
        admitting.insert(transaction)
        media.prepareInbound(offer: offer, allow: peer.codecs.map(\.sdpCodec), localAddress: localHost(toward: source)).whenComplete { result in
            self.admitting.remove(transaction)
            if self.cancelledWhileAdmitting.remove(transaction) != nil {
                self.releaseCallSlot(for: peer)
                if case .success(let legMedia) = result { self.media.release(legMedia) }
                self.reply(request, 487, on: transaction)
                return
            }
            switch result {
            case .failure(let error):
                self.releaseCallSlot(for: peer)
                self.logger.warning("cannot accept call media", metadata: ["error": "\(error)"])
                self.reply(request, error is MediaNegotiationError ? 488 : 503, on: transaction)
            case .success(let legMedia):
                self.startInbound(request, peer: peer, media: legMedia, from: source, transaction: transaction)
            }
        }
    }

    private func startInbound(
        _ request: SIPRequest, peer: SIPPeer, media legMedia: LegMedia, from source: SIPTransportAddress,
        transaction: ServerTransactionHandle
    ) {
        let callerNumber = peer.callerID?.number ?? request.headers.from.uri.user ?? peer.name
        let callerName = peer.callerID?.name ?? request.headers.from.displayName ?? callerNumber
        let channel = SIPChannel(
            direction: .inbound, peer: peer, identity: identity.next(technology: "SIP", peer: peer.name),
            linkedID: nil, invite: request, remoteAddress: source, media: legMedia, driver: self,
            callerNumber: callerNumber, callerName: callerName, dialplanLocation: (peer.context, request.uri.user ?? "s")
        )
        channel.changeState(.ring)
        channel.serverTransaction = transaction
        channel.dialog = Dialog(asServerFor: request, localTag: channel.dialogLocalTag, localContact: localContact(for: source))
        channelsByInvite[transaction] = channel
        channel.dialogID = DialogID(callID: request.headers.callID, localTag: channel.dialogLocalTag)
        channelsByDialog[channel.dialogID!] = channel
        channel.logger.info("new inbound call", metadata: ["from": "\(callerNumber)", "exten": "\(request.uri.user ?? "s")"])
        channel.deferHangupToDialplan()
        startCall(channel, peer.context, request.uri.user ?? "s")
    }

    // MARK: In-dialog requests

    private func handleInDialog(_ request: SIPRequest, toTag: String, from source: SIPTransportAddress, transaction: ServerTransactionHandle) {
        guard let channel = channelsByDialog[DialogID(callID: request.headers.callID, localTag: toTag)] else {
            reply(request, 481, on: transaction)
            return
        }
        if var dialog = channel.dialog {
            guard dialog.acceptRemoteSequence(request.headers.cseq) else {
                reply(request, 500, reason: "CSeq out of order", on: transaction)
                return
            }
            channel.dialog = dialog
        }
        switch request.method {
        case .bye:
            reply(request, 200, on: transaction)
            channel.remoteHangup(cause: .normalClearing)
        case .invite:
            channel.handleReinvite(request, transaction: transaction)
        case .info:
            channel.handleInfo(request, transaction: transaction)
        case .update, .options:
            if request.method == .update, !request.body.isEmpty {
                channel.handleReinvite(request, transaction: transaction)
            } else {
                reply(request, 200, on: transaction)
            }
        default:
            var response = makeResponse(to: request, 405)
            response.headers.add("Allow", Self.allowedMethods)
            transactions.respond(response, on: transaction)
        }
    }

    // MARK: Bookkeeping

    func register(outbound channel: SIPChannel, dialogLocalTag: String) {
        channel.dialogID = DialogID(callID: channel.invite.headers.callID, localTag: dialogLocalTag)
        channelsByDialog[channel.dialogID!] = channel
    }

    /// A leg was just created (inbound or outbound): live for management, and announced.
    func channelCreated(_ channel: SIPChannel) {
        channels.register(channel, dialedNumber: channel.direction == .inbound ? channel.invite.uri.user ?? "" : "")
        channel.publishEvent { .newchannel($0) }
    }

    func channelEnded(_ channel: SIPChannel) {
        if let id = channel.dialogID, channelsByDialog[id] === channel { channelsByDialog[id] = nil }
        if let transaction = channel.serverTransaction { channelsByInvite[transaction] = nil }
        forgetLegState(channel)
        releaseCallSlot(for: channel.peer)
        media.release(channel.media)
    }

    func reserveCallSlot(for peer: SIPPeer) -> Bool {
        let current = callCounts[peer.name, default: 0]
        if let limit = peer.callLimit, current >= limit { return false }
        callCounts[peer.name] = current + 1
        deviceStateMayHaveChanged(peer: peer.name)
        return true
    }

    func releaseCallSlot(for peer: SIPPeer) {
        callCounts[peer.name] = max(0, callCounts[peer.name, default: 0] - 1)
        deviceStateMayHaveChanged(peer: peer.name)
    }

    /// Current number of calls per peer (`sip show inuse`).
    public func inUse(peer: String) -> Int { callCounts[peer, default: 0] }

    // MARK: Message helpers

    /// A response to `request` (RFC 3261 §8.2.6.2) with our Server header.
    func makeResponse(to request: SIPRequest, _ code: Int, reason: String? = nil, toTag: String? = nil) -> SIPResponse {
        var response = SIPResponse(replyingTo: request, statusCode: code, reasonPhrase: reason, toTag: toTag ?? SIPTokens.tag())
        response.headers.add("Server", userAgent)
        return response
    }

    func reply(_ request: SIPRequest, _ code: Int, reason: String? = nil, on transaction: ServerTransactionHandle) {
        transactions.respond(makeResponse(to: request, code, reason: reason), on: transaction)
    }

    private func optionsResponse(to request: SIPRequest) -> SIPResponse {
        var response = makeResponse(to: request, 200)
        response.headers.add("Allow", Self.allowedMethods)
        response.headers.add("Accept", "application/sdp")
        response.headers.add("Supported", Self.supportedExtensions.sorted().joined(separator: ", "))
        return response
    }

    /// Our Via for a request sent towards `destination` (branch filled in by the transaction layer).
    func makeVia(for destination: SIPTransportAddress) -> Via {
        let local = localHost(toward: destination)
        var parameters = SIPParameters()
        parameters.set("branch", flagOrValue: SIPTokens.branch())
        parameters.set("rport", flagOrValue: nil)
        return Via(transport: destination.transport.rawValue, host: local, port: transport.boundPort, parameters: parameters)
    }

    /// Our Contact as seen from `destination`.
    func localContact(for destination: SIPTransportAddress) -> NameAddress {
        var uri = SIPURI(host: localHost(toward: destination), port: transport.boundPort)
        if destination.transport == .tcp { uri.parameters["transport"] = "tcp" }
        return NameAddress(uri: uri)
    }

    /// The local IP a peer should use to reach us: the bind address, or when bound to a wildcard,
    /// the source address the kernel would pick for that destination.
    func localHost(toward destination: SIPTransportAddress) -> String {
        LocalAddress.toward(destination.address, bound: transport.localAddress)
    }

    /// Where in-dialog requests for `dialog` go: the phone's real (NATed) address for peers with
    /// `nat=force_rport`, otherwise the remote target's host and port.
    func destination(for dialog: Dialog, fallback: SIPTransportAddress) -> SIPTransportAddress {
        fallback
    }

    // MARK: Shutdown

    /// Stops taking calls and ends every live call (BYE or CANCEL/487), as SIGTERM asks.
    public func shutdown() async {
        try? await eventLoop.submit {
            self.shuttingDown = true
            for channel in self.liveChannels { channel.hangupOnLoop(cause: .normalClearing) }
        }.get()
        // Give the BYE/CANCEL a moment on the wire before the sockets close.
        try? await Task.sleep(for: .milliseconds(300))
    }
}

/// Identifies a dialog from our side (Call-ID + our tag); the remote tag may vary with forking.
struct DialogID: Hashable {
    var callID: String
    var localTag: String
}
