import NIOCore

/// The INVITE server transaction, RFC 3261 §17.2.1 (Figure 7) with RFC 6026 §7.1's Accepted state.
///
/// ```
///   Proceeding ──TU 300-699──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
///       │  request retransmission:   │ Timer G: resend final, min(2·G, T2) (unreliable only)
///       │  resend last provisional   │ request retransmission: resend final
///       │                            └ Timer H (64·T1): .noAck, Terminated
///       └──TU 2xx──▶ Accepted ──Timer L (64·T1)──▶ Terminated
///                     request retransmissions absorbed, further 2xx sent, ACK passed to TU
/// ```
///
/// Choices:
/// - **100 Trying is sent at once** on creation rather than after 200 ms (§17.2.1 allows either):
///   pbxd's TU may take longer than 200 ms (authentication, dialplan start), and an immediate 100
///   stops the phone's Timer A retransmissions early.
/// - **RFC 6026 Accepted** replaces RFC 3261's "terminate on 2xx": the transaction lives 64·T1 more
///   so INVITE retransmissions that cross the 2xx are absorbed instead of reaching the TU as a
///   new call. Retransmitting the 2xx itself is the TU's job (§13.3.1.4); the layer runs an
///   ``InviteResponseRetransmitter`` for it.
public struct ServerInviteTransaction: Sendable {
    public enum State: Sendable {
        /// `lastProvisional` is re-sent for every INVITE retransmission.
        case proceeding(lastProvisional: SIPResponse)
        /// A 2xx was sent (RFC 6026); `response` is the latest one.
        case accepted(response: SIPResponse)
        /// A non-2xx final was sent; waiting for the ACK. `retransmitInterval` is the next Timer G.
        case completed(response: SIPResponse, retransmitInterval: TimeAmount)
        /// The ACK arrived; absorbing ACK retransmissions until Timer I.
        case confirmed
        case terminated
    }

    public private(set) var state: State
    /// The INVITE that created the transaction.
    public let request: SIPRequest
    public let isReliable: Bool
    public let timers: TransactionTimers

    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .init()) {
        precondition(request.method == .invite, "ServerInviteTransaction is for INVITE")
        self.request = request
        self.isReliable = reliable
        self.timers = timers
        self.state = .proceeding(lastProvisional: SIPResponse(replyingTo: request, statusCode: 100))
    }

    public var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    /// Whether a final response has been sent (a CANCEL then has no effect, §9.2).
    public var hasSentFinalResponse: Bool {
        if case .proceeding = state { return false }
        return true
    }

    /// The last response sent (the 100 Trying until the TU answers), or `nil` once Confirmed/Terminated.
    public var lastResponse: SIPResponse? {
        switch state {
        case .proceeding(let response), .accepted(let response), .completed(let response, _): response
        case .confirmed, .terminated: nil
        }
    }

    /// §17.2.1: send 100 Trying and pass the INVITE to the TU.
    public mutating func start() -> [ServerTransactionAction] {
        guard case .proceeding(let trying) = state else { return [] }
        return [.send(trying), .deliverRequest(request)]
    }

    /// A retransmission of the INVITE (same key, §17.2.3). Never reaches the TU again.
    public mutating func receiveRetransmission() -> [ServerTransactionAction] {
        switch state {
        case .proceeding(let provisional): [.send(provisional)]
        case .completed(let response, _): [.send(response)]
        case .accepted, .confirmed, .terminated: []  // RFC 6026 §7.1: absorbed in Accepted
        }
    }

    /// An ACK matching this transaction: for a non-2xx final (Completed → Confirmed), or, in
    /// Accepted, an ACK for the 2xx sent with the INVITE's branch (RFC 6026 §7.1).
    public mutating func receiveAck(_ ack: SIPRequest) -> [ServerTransactionAction] {
        switch state {
        case .completed:
            let i = timers.timerT4(reliable: isReliable)
            if i == .zero {
                state = .terminated
                return []
            }
            state = .confirmed
            return [.startTimer(.i, i)]
        case .accepted:
            return [.deliverAck(ack)]
        case .proceeding, .confirmed, .terminated:
            return []
        }
    }

    /// A response from the TU.
    public mutating func respond(_ response: SIPResponse) -> [ServerTransactionAction] {
        switch state {
        case .proceeding:
            switch response.statusCode {
            case 100..<200:
                state = .proceeding(lastProvisional: response)
                return [.send(response)]
            case 200..<300:
                state = .accepted(response: response)
                return [.send(response), .startTimer(.l, timers.transactionTimeout)]
            default:
                state = .completed(response: response, retransmitInterval: timers.t1)
                var actions: [ServerTransactionAction] = [.send(response)]
                if !isReliable { actions.append(.startTimer(.g, timers.t1)) }
                actions.append(.startTimer(.h, timers.transactionTimeout))
                return actions
            }
        case .accepted:
            // RFC 6026 §7.1: 2xx retransmissions from the TU go out; anything else is a TU bug.
            guard response.isSuccess else { return [] }
            state = .accepted(response: response)
            return [.send(response)]
        case .completed, .confirmed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [ServerTransactionAction] {
        switch (state, timer) {
        case (.completed(let response, let interval), .g):
            let next = interval.doubled(cappedAt: timers.t2)
            state = .completed(response: response, retransmitInterval: next)
            return [.send(response), .startTimer(.g, next)]
        case (.completed(let response, _), .h):
            state = .terminated
            return [.noAck(response)]
        case (.confirmed, .i), (.accepted, .l):
            state = .terminated
            return []
        default:
            return []
        }
    }

    /// §17.2.4: the response could not be delivered; the transaction ends.
    public mutating func transportFailed() -> [ServerTransactionAction] {
        state = .terminated
        return []
    }
}
