import NIOCore

/// The non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6).
///
/// ```
///   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
///     │ Timer E: resend, interval min(2·E, T2)   │ Timer E: resend every T2
///     └───────── Timer F (64·T1): .timeout, Terminated ─┘
///   Trying ──200-699──▶ Completed
/// ```
///
/// Timer E runs on unreliable transports only; Timer K is T4 on UDP and zero (immediate
/// termination) on reliable transports.
public struct ClientNonInviteTransaction: Sendable {
    public enum State: Sendable {
        case trying(retransmitInterval: TimeAmount)
        /// After a provisional the request is retransmitted every T2 (§17.1.2.2).
        case proceeding
        /// A final arrived; response retransmissions are absorbed until Timer K.
        case completed
        case terminated
    }

    public private(set) var state: State
    public let request: SIPRequest
    public let isReliable: Bool
    public let timers: TransactionTimers

    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .init()) {
        precondition(request.method != .invite && request.method != .ack, "ClientNonInviteTransaction is for non-INVITE, non-ACK requests")
        self.request = request
        self.isReliable = reliable
        self.timers = timers
        self.state = .trying(retransmitInterval: timers.t1)
    }

    public var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    /// §17.1.2.2: send the request, start Timer E (unreliable only) and Timer F.
    public mutating func start() -> [ClientTransactionAction] {
        guard case .trying(let interval) = state else { return [] }
        var actions: [ClientTransactionAction] = [.send(request)]
        if !isReliable { actions.append(.startTimer(.e, interval)) }
        actions.append(.startTimer(.f, timers.transactionTimeout))
        return actions
    }

    public mutating func receive(_ response: SIPResponse) -> [ClientTransactionAction] {
        switch state {
        case .trying, .proceeding:
            if response.isProvisional {
                state = .proceeding
                return [.deliver(.provisional(response))]
            }
            let k = timers.timerT4(reliable: isReliable)
            if k == .zero {
                state = .terminated
                return [.deliver(.final(response))]
            }
            state = .completed
            return [.startTimer(.k, k), .deliver(.final(response))]
        case .completed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [ClientTransactionAction] {
        switch (state, timer) {
        case (.trying(let interval), .e):
            let next = interval.doubled(cappedAt: timers.t2)
            state = .trying(retransmitInterval: next)
            return [.send(request), .startTimer(.e, next)]
        case (.proceeding, .e):
            return [.send(request), .startTimer(.e, timers.t2)]
        case (.trying, .f), (.proceeding, .f):
            state = .terminated
            return [.deliver(.timeout)]
        case (.completed, .k):
            state = .terminated
            return []
        default:
            return []
        }
    }

    /// §17.1.2.2: a transport error terminates the transaction and informs the TU.
    public mutating func transportFailed() -> [ClientTransactionAction] {
        switch state {
        case .trying, .proceeding:
            state = .terminated
            return [.deliver(.transportError)]
        case .completed, .terminated:
            return []
        }
    }
}
