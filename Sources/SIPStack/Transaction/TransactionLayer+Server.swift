import NIOCore

/// Server side of ``TransactionLayer``: request matching (§17.2.3), CANCEL (§9.2), ACK routing
/// and 2xx retransmission (§13.3.1.4).
extension TransactionLayer {
    /// A server transaction of either kind, so one table holds both.
    enum ServerMachine {
        case invite(ServerInviteTransaction)
        case nonInvite(ServerNonInviteTransaction)

        var isTerminated: Bool {
            switch self {
            case .invite(let m): m.isTerminated
            case .nonInvite(let m): m.isTerminated
            }
        }

        var request: SIPRequest {
            switch self {
            case .invite(let m): m.request
            case .nonInvite(let m): m.request
            }
        }

        var lastResponse: SIPResponse? {
            switch self {
            case .invite(let m): m.lastResponse
            case .nonInvite(let m): m.lastResponse
            }
        }

        mutating func apply(
            invite: (inout ServerInviteTransaction) -> [ServerTransactionAction],
            nonInvite: (inout ServerNonInviteTransaction) -> [ServerTransactionAction]
        ) -> [ServerTransactionAction] {
            switch self {
            case .invite(var m):
                let actions = invite(&m)
                self = .invite(m)
                return actions
            case .nonInvite(var m):
                let actions = nonInvite(&m)
                self = .nonInvite(m)
                return actions
            }
        }

        mutating func respond(_ r: SIPResponse) -> [ServerTransactionAction] {
            apply(invite: { $0.respond(r) }, nonInvite: { $0.respond(r) })
        }
        mutating func receiveRetransmission() -> [ServerTransactionAction] {
            apply(invite: { $0.receiveRetransmission() }, nonInvite: { $0.receiveRetransmission() })
        }
        mutating func timerFired(_ t: TransactionTimer) -> [ServerTransactionAction] {
            apply(invite: { $0.timerFired(t) }, nonInvite: { $0.timerFired(t) })
        }
        mutating func transportFailed() -> [ServerTransactionAction] {
            apply(invite: { $0.transportFailed() }, nonInvite: { $0.transportFailed() })
        }
        mutating func start() -> [ServerTransactionAction] {
            apply(invite: { $0.start() }, nonInvite: { $0.start() })
        }
    }

    struct ServerEntry: HasScheduledTimers {
        let id: UInt64
        var machine: ServerMachine
        /// Where the request came from, and where every response goes (see the type's doc).
        let source: SIPTransportAddress
        var scheduled: [TransactionTimer: TimerWheel.Token] = [:]
    }

    struct RetransmitterEntry: HasScheduledTimers {
        let id: UInt64
        var machine: InviteResponseRetransmitter
        let destination: SIPTransportAddress
        let transaction: ServerTransactionHandle
        var scheduled: [TransactionTimer: TimerWheel.Token] = [:]
    }

    // MARK: - TU input

    /// Sends `response` on a server transaction (§17.2). Provisional and final responses follow
    /// the transaction's state machine; a 2xx to INVITE is also retransmitted until its ACK
    /// (§13.3.1.4). Returns `false` when the transaction is gone or its state machine refused the
    /// response (e.g. a second final).
    @discardableResult
    public func respond(_ response: SIPResponse, on handle: ServerTransactionHandle) -> Bool {
        eventLoop.assertInEventLoop()
        guard let entry = serverTransactions[handle.key], entry.id == handle.id else { return false }
        var sent = false
        updateServer(handle.key, id: handle.id) { machine in
            let actions = machine.respond(response)
            sent = !actions.isEmpty
            return actions
        }
        if sent, case .invite = entry.machine, response.isSuccess {
            startRetransmitting(response, to: entry.source, transaction: handle)
        }
        return sent
    }

    /// The request a live server transaction was created for.
    public func request(for handle: ServerTransactionHandle) -> SIPRequest? {
        guard let entry = serverTransactions[handle.key], entry.id == handle.id else { return nil }
        return entry.machine.request
    }

    // MARK: - Requests from the transport

    func receiveRequest(_ incoming: SIPRequest, from source: SIPTransportAddress) {
        var request = incoming
        Self.stampReceived(&request, source: source)
        guard let key = TransactionKey(request: request) else { return }  // no Via: cannot answer

        if request.method == .ack {
            receiveAck(request, key: key, from: source)
            return
        }
        if let entry = serverTransactions[key] {
            updateServer(key, id: entry.id) { $0.receiveRetransmission() }
            return
        }
        let reliable = source.transport.isReliable
        if request.method == .cancel {
            receiveCancel(request, key: key, from: source)
            return
        }
        let machine: ServerMachine = request.method == .invite
            ? .invite(ServerInviteTransaction(request: request, reliable: reliable, timers: timers))
            : .nonInvite(ServerNonInviteTransaction(request: request, reliable: reliable, timers: timers))
        let id = nextID()
        serverTransactions[key] = ServerEntry(id: id, machine: machine, source: source)
        updateServer(key, id: id) { $0.start() }
    }

    /// ACK: for a non-2xx it matches the INVITE transaction (§17.2.3); for a 2xx it is the
    /// dialog's (§13.2.2.4) and goes to the TU, stopping the 2xx retransmissions.
    private func receiveAck(_ ack: SIPRequest, key: TransactionKey, from source: SIPTransportAddress) {
        if let entry = serverTransactions[key], case .invite = entry.machine {
            updateServer(key, id: entry.id) { machine in
                machine.apply(invite: { $0.receiveAck(ack) }, nonInvite: { _ in [] })
            }
            return
        }
        deliverAckFor2xx(ack, from: source)
    }

    private func deliverAckFor2xx(_ ack: SIPRequest, from source: SIPTransportAddress) {
        let ackKey = AckKey(ack.headers)
        if let entry = okRetransmitters.removeValue(forKey: ackKey) { entry.cancelTimers(on: wheel) }
        user?.didReceiveAck(ack, from: source)
    }

    /// §9.2: CANCEL gets its own (non-INVITE) transaction, answered here: 200 when it matches a
    /// live INVITE transaction, 481 otherwise. The TU hears of it only if the INVITE has no final
    /// response yet. The 200 carries the To tag of the INVITE's last response when it has one.
    /// Only INVITEs are looked up; a CANCEL for any other method gets 481 (cancelling a non-INVITE
    /// has no effect anyway, §9.2).
    private func receiveCancel(_ cancel: SIPRequest, key: TransactionKey, from source: SIPTransportAddress) {
        let id = nextID()
        let machine = ServerNonInviteTransaction(request: cancel, reliable: source.transport.isReliable, timers: timers)
        serverTransactions[key] = ServerEntry(id: id, machine: .nonInvite(machine), source: source)

        guard let inviteKey = key.cancelledInviteKey, let invite = serverTransactions[inviteKey],
            case .invite(let inviteMachine) = invite.machine, !inviteMachine.isTerminated
        else {
            updateServer(key, id: id) { $0.respond(SIPResponse(replyingTo: cancel, statusCode: 481, toTag: SIPTokens.tag())) }
            return
        }
        let toTag = inviteMachine.lastResponse?.headers.to.tag ?? SIPTokens.tag()
        updateServer(key, id: id) { $0.respond(SIPResponse(replyingTo: cancel, statusCode: 200, toTag: toTag)) }
        if !inviteMachine.hasSentFinalResponse {
            user?.didReceiveCancel(cancel, from: source, inviteTransaction: ServerTransactionHandle(key: inviteKey, id: invite.id))
        }
    }

    /// §18.2.1 and RFC 3581 §4: record the source address in the top Via.
    static func stampReceived(_ request: inout SIPRequest, source: SIPTransportAddress) {
        guard var via = request.headers.vias.first, let ip = source.address.ipAddress else { return }
        if via.parameters.contains("rport"), let port = source.address.port {
            via.parameters["rport"] = String(port)
            via.parameters["received"] = ip
        } else if via.host != ip {
            via.parameters["received"] = ip
        }
        request.headers.vias[0] = via
    }

    // MARK: - Driving server machines

    /// Applies `input` to a live server transaction and performs the resulting actions. The entry
    /// is written back before any action runs, so the TU may re-enter the layer from a callback.
    func updateServer(_ key: TransactionKey, id: UInt64, _ input: (inout ServerMachine) -> [ServerTransactionAction]) {
        guard var entry = serverTransactions[key], entry.id == id else { return }
        let actions = input(&entry.machine)
        serverTransactions[key] = entry
        let handle = ServerTransactionHandle(key: key, id: id)
        for action in actions {
            switch action {
            case .send(let response):
                transport(.response(response), entry.source)
            case .startTimer(let timer, let delay):
                guard var current = serverTransactions[key], current.id == id else { break }
                if let token = current.scheduled[timer] { wheel.cancel(token) }
                current.scheduled[timer] = schedule(timer, in: delay) { layer in
                    layer.updateServer(key, id: id) { $0.timerFired(timer) }
                }
                serverTransactions[key] = current
            case .deliverRequest(let request):
                user?.didReceiveRequest(request, from: entry.source, transaction: handle)
            case .deliverAck(let ack):
                deliverAckFor2xx(ack, from: entry.source)
            case .noAck(let response):
                user?.didNotReceiveAck(for: response, transaction: handle)
            }
        }
        if let current = serverTransactions[key], current.id == id, current.machine.isTerminated {
            current.cancelTimers(on: wheel)
            serverTransactions[key] = nil
        }
    }

    private func startRetransmitting(_ response: SIPResponse, to destination: SIPTransportAddress, transaction: ServerTransactionHandle) {
        let ackKey = AckKey(response.headers)
        if var existing = okRetransmitters[ackKey] {
            existing.machine.replaceResponse(response)
            okRetransmitters[ackKey] = existing
            return
        }
        let id = nextID()
        let machine = InviteResponseRetransmitter(response: response, timers: timers)
        okRetransmitters[ackKey] = RetransmitterEntry(id: id, machine: machine, destination: destination, transaction: transaction)
        run(machine.start(), retransmitter: ackKey, id: id)
    }

    private func run(_ actions: [InviteResponseRetransmitter.Action], retransmitter key: AckKey, id: UInt64) {
        for action in actions {
            guard var entry = okRetransmitters[key], entry.id == id else { return }
            switch action {
            case .send(let response):
                transport(.response(response), entry.destination)
            case .startTimer(let timer, let delay):
                if let token = entry.scheduled[timer] { wheel.cancel(token) }
                entry.scheduled[timer] = schedule(timer, in: delay) { layer in
                    guard var current = layer.okRetransmitters[key], current.id == id else { return }
                    let actions = current.machine.timerFired(timer)
                    layer.okRetransmitters[key] = current
                    layer.run(actions, retransmitter: key, id: id)
                }
                okRetransmitters[key] = entry
            case .noAck(let response):
                entry.cancelTimers(on: wheel)
                okRetransmitters[key] = nil
                user?.didNotReceiveAck(for: response, transaction: entry.transaction)
            }
        }
    }
}
