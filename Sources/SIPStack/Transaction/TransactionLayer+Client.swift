import NIOCore

/// Client side of ``TransactionLayer``: sending requests (§17.1), matching responses (§17.1.3),
/// CANCEL (§9.1) and stray 2xx.
extension TransactionLayer {
    enum ClientMachine {
        case invite(ClientInviteTransaction)
        case nonInvite(ClientNonInviteTransaction)

        var isTerminated: Bool {
            switch self {
            case .invite(let m): m.isTerminated
            case .nonInvite(let m): m.isTerminated
            }
        }

        mutating func apply(
            invite: (inout ClientInviteTransaction) -> [ClientTransactionAction],
            nonInvite: (inout ClientNonInviteTransaction) -> [ClientTransactionAction]
        ) -> [ClientTransactionAction] {
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

        mutating func start() -> [ClientTransactionAction] {
            apply(invite: { $0.start() }, nonInvite: { $0.start() })
        }
        mutating func receive(_ r: SIPResponse) -> [ClientTransactionAction] {
            apply(invite: { $0.receive(r) }, nonInvite: { $0.receive(r) })
        }
        mutating func timerFired(_ t: TransactionTimer) -> [ClientTransactionAction] {
            apply(invite: { $0.timerFired(t) }, nonInvite: { $0.timerFired(t) })
        }
        mutating func transportFailed() -> [ClientTransactionAction] {
            apply(invite: { $0.transportFailed() }, nonInvite: { $0.transportFailed() })
        }
    }

    /// Where a CANCEL for a client INVITE stands (§9.1).
    enum CancelState {
        case none
        /// Asked for before any provisional arrived; sent when one does.
        case pending((ClientTransactionEvent) -> Void)
        case sent
    }

    struct ClientEntry: HasScheduledTimers {
        let id: UInt64
        var machine: ClientMachine
        let destination: SIPTransportAddress
        let onResponse: (ClientTransactionEvent) -> Void
        var cancel: CancelState = .none
        var scheduled: [TransactionTimer: TimerWheel.Token] = [:]
    }

    // MARK: - TU input

    /// Starts a client transaction for `request` (any method but ACK; use ``sendAck(_:to:)``).
    ///
    /// The request must carry its top Via (sent-by); when that Via has no branch, or its branch is
    /// already used by a live client transaction of the same method, the layer puts a fresh
    /// `z9hG4bK…` one there (§8.1.1.7). The handle's `key.branch` is the branch actually sent. `onResponse` is called on the loop for each provisional,
    /// then once with the final response, `.timeout` or `.transportError`.
    @discardableResult
    public func sendRequest(
        _ request: SIPRequest, to destination: SIPTransportAddress,
        onResponse: @escaping (ClientTransactionEvent) -> Void
    ) -> ClientTransactionHandle {
        eventLoop.assertInEventLoop()
        precondition(request.method != .ack, "ACK is not a transaction; use sendAck(_:to:)")
        var request = Self.withBranch(request)
        var key = ClientTransactionKey(branch: request.headers.vias[0].branch!, method: request.method)
        if clientTransactions[key] != nil {
            // A reused branch (typically a request re-sent with credentials after 401/407, whose
            // first transaction is still in Completed) would steal the old transaction's responses.
            request.headers.vias[0].parameters["branch"] = SIPTokens.branch()
            key = ClientTransactionKey(branch: request.headers.vias[0].branch!, method: request.method)
        }
        let reliable = destination.transport.isReliable
        let machine: ClientMachine = request.method == .invite
            ? .invite(ClientInviteTransaction(request: request, reliable: reliable, timers: timers))
            : .nonInvite(ClientNonInviteTransaction(request: request, reliable: reliable, timers: timers))
        let id = nextID()
        clientTransactions[key] = ClientEntry(id: id, machine: machine, destination: destination, onResponse: onResponse)
        updateClient(key, id: id) { $0.start() }
        return ClientTransactionHandle(key: key, id: id)
    }

    /// Sends an ACK for a 2xx (§13.2.2.4): no transaction, no retransmission; the TU re-sends it
    /// for each 2xx retransmission (``TransactionUser/didReceiveStrayResponse(_:from:)``). A missing
    /// branch is filled in.
    public func sendAck(_ ack: SIPRequest, to destination: SIPTransportAddress) {
        eventLoop.assertInEventLoop()
        transport(.request(Self.withBranch(ack)), destination)
    }

    /// Cancels a client INVITE (§9.1). The CANCEL is its own non-INVITE transaction with the
    /// INVITE's branch; its outcome goes to `onResponse`, and the INVITE's outcome (normally 487)
    /// still arrives on the INVITE's callback. If no provisional has arrived yet the CANCEL waits
    /// for one (it would otherwise race the INVITE); if a final response, a timeout or a transport
    /// error ends the INVITE first, nothing is sent and `onResponse` is never called. Once sent, the INVITE is given 64·T1 to finish before it is reported as `.timeout`.
    ///
    /// Returns `false` if the handle is not a live INVITE transaction without a final response,
    /// or a CANCEL was already requested.
    @discardableResult
    public func cancel(_ handle: ClientTransactionHandle, onResponse: @escaping (ClientTransactionEvent) -> Void = { _ in }) -> Bool {
        eventLoop.assertInEventLoop()
        guard var entry = clientTransactions[handle.key], entry.id == handle.id,
            case .invite(let invite) = entry.machine, case .none = entry.cancel
        else { return false }
        switch invite.state {
        case .calling, .proceeding: break
        case .completed, .terminated: return false
        }
        entry.cancel = .pending(onResponse)
        clientTransactions[handle.key] = entry
        if invite.hasReceivedProvisional { sendPendingCancel(handle.key, id: handle.id) }
        return true
    }

    // MARK: - Responses from the transport

    func receiveResponse(_ response: SIPResponse, from source: SIPTransportAddress) {
        guard let key = ClientTransactionKey(response: response), let entry = clientTransactions[key] else {
            if response.isSuccess, response.headers.cseq.method == .invite {
                user?.didReceiveStrayResponse(response, from: source)
            }
            return
        }
        updateClient(key, id: entry.id) { $0.receive(response) }
        if response.isProvisional { sendPendingCancel(key, id: entry.id) }
    }

    private func sendPendingCancel(_ key: ClientTransactionKey, id: UInt64) {
        guard var entry = clientTransactions[key], entry.id == id, case .pending(let onResponse) = entry.cancel,
            case .invite(let invite) = entry.machine
        else { return }
        entry.cancel = .sent
        clientTransactions[key] = entry
        sendRequest(invite.request.makeCancel(), to: entry.destination, onResponse: onResponse)
        updateClient(key, id: id) { machine in
            machine.apply(invite: { $0.cancelSent() }, nonInvite: { _ in [] })
        }
    }

    // MARK: - Driving client machines

    func updateClient(_ key: ClientTransactionKey, id: UInt64, _ input: (inout ClientMachine) -> [ClientTransactionAction]) {
        guard var entry = clientTransactions[key], entry.id == id else { return }
        let actions = input(&entry.machine)
        clientTransactions[key] = entry
        for action in actions {
            switch action {
            case .send(let request):
                transport(.request(request), entry.destination)
            case .startTimer(let timer, let delay):
                guard var current = clientTransactions[key], current.id == id else { break }
                if let token = current.scheduled[timer] { wheel.cancel(token) }
                current.scheduled[timer] = schedule(timer, in: delay) { layer in
                    layer.updateClient(key, id: id) { $0.timerFired(timer) }
                }
                clientTransactions[key] = current
            case .deliver(let event):
                entry.onResponse(event)
            }
        }
        if let current = clientTransactions[key], current.id == id, current.machine.isTerminated {
            current.cancelTimers(on: wheel)
            clientTransactions[key] = nil
        }
    }

    /// `request` with a branch in its top Via (§8.1.1.7).
    static func withBranch(_ request: SIPRequest) -> SIPRequest {
        precondition(!request.headers.vias.isEmpty, "the caller adds its own Via (sent-by) before sending")
        guard request.headers.vias[0].branch == nil else { return request }
        var request = request
        request.headers.vias[0].parameters["branch"] = SIPTokens.branch()
        return request
    }
}
