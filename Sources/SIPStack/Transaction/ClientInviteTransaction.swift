import NIOCore

/// The INVITE client transaction, RFC 3261 §17.1.1 (Figure 5).
///
/// ```
///   Calling ──1xx──▶ Proceeding ──300-699──▶ Completed ──Timer D──▶ Terminated
///      │ Timer A: resend, interval doubles (unreliable only)
///      │ Timer B (64·T1, Calling only): .timeout, Terminated
///      └──2xx (from Calling or Proceeding)──▶ deliver, Terminated (the TU ACKs 2xx, §13.2.2.4)
/// ```
///
/// For a 300–699 the transaction builds and sends the ACK itself with the INVITE's branch
/// (§17.1.1.3) and re-sends it for every retransmission of that response while Completed.
///
/// Timer B only runs in Calling, as in the RFC; a transaction stuck in Proceeding is ended by the
/// TU sending CANCEL, after which ``cancelSent()`` arms a 64·T1 guard (§9.1).
///
/// A value: inputs are `mutating` functions returning ``ClientTransactionAction``s, and the caller
/// performs them (STYLE.md §3).
public struct ClientInviteTransaction: Sendable {
    public enum State: Sendable {
        /// Waiting for any response; `retransmitInterval` is the next Timer A interval.
        case calling(retransmitInterval: TimeAmount)
        /// A provisional arrived; no retransmissions, no timeout.
        case proceeding
        /// A non-2xx final arrived and was ACKed; `ack` is re-sent for its retransmissions.
        case completed(ack: SIPRequest)
        case terminated
    }

    public private(set) var state: State
    /// The INVITE as sent (with its branch).
    public let request: SIPRequest
    public let isReliable: Bool
    public let timers: TransactionTimers
    /// Whether a provisional response has been received (CANCEL may be sent only then, §9.1).
    public private(set) var hasReceivedProvisional = false

    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .init()) {
        precondition(request.method == .invite, "ClientInviteTransaction is for INVITE")
        self.request = request
        self.isReliable = reliable
        self.timers = timers
        self.state = .calling(retransmitInterval: timers.t1)
    }

    public var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    /// §17.1.1.2: send the INVITE, start Timer A (unreliable transports only) and Timer B.
    public mutating func start() -> [ClientTransactionAction] {
        guard case .calling(let interval) = state else { return [] }
        var actions: [ClientTransactionAction] = [.send(request)]
        if !isReliable { actions.append(.startTimer(.a, interval)) }
        actions.append(.startTimer(.b, timers.transactionTimeout))
        return actions
    }

    /// A response whose branch and CSeq method matched this transaction (§17.1.3).
    public mutating func receive(_ response: SIPResponse) -> [ClientTransactionAction] {
        switch state {
        case .calling, .proceeding:
            switch response.statusCode {
            case 100..<200:
                state = .proceeding
                hasReceivedProvisional = true
                return [.deliver(.provisional(response))]
            case 200..<300:
                state = .terminated
                return [.deliver(.final(response))]
            default:
                let ack = request.ackForNon2xx(response)
                let d = timers.timerD(reliable: isReliable)
                var actions: [ClientTransactionAction] = [.send(ack)]
                if d == .zero {
                    state = .terminated
                } else {
                    state = .completed(ack: ack)
                    actions.append(.startTimer(.d, d))
                }
                actions.append(.deliver(.final(response)))
                return actions
            }
        case .completed(let ack):
            // Retransmissions of the final response: ACK again, but do not bother the TU.
            return response.statusCode >= 300 ? [.send(ack)] : []
        case .terminated:
            return []
        }
    }

    /// The TU sent a CANCEL for this INVITE: if no final response comes within 64·T1 the INVITE
    /// is given up (§9.1), reported as a timeout.
    public mutating func cancelSent() -> [ClientTransactionAction] {
        switch state {
        case .calling, .proceeding: [.startTimer(.cancelGuard, timers.transactionTimeout)]
        case .completed, .terminated: []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [ClientTransactionAction] {
        switch (state, timer) {
        case (.calling(let interval), .a):
            let next = interval.doubled()
            state = .calling(retransmitInterval: next)
            return [.send(request), .startTimer(.a, next)]
        case (.calling, .b), (.calling, .cancelGuard), (.proceeding, .cancelGuard):
            state = .terminated
            return [.deliver(.timeout)]
        case (.completed, .d):
            state = .terminated
            return []
        default:
            return []  // a timer that belongs to a state already left
        }
    }

    /// §17.1.1.2: a transport error in Calling terminates the transaction and informs the TU.
    public mutating func transportFailed() -> [ClientTransactionAction] {
        switch state {
        case .calling, .proceeding:
            state = .terminated
            return [.deliver(.transportError)]
        case .completed:
            state = .terminated  // the ACK could not be sent; nothing left to wait for
            return []
        case .terminated:
            return []
        }
    }
}
