import NIOCore

/// The non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8).
///
/// ```
///   Trying ──TU 1xx──▶ Proceeding ──TU 200-699──▶ Completed ──Timer J──▶ Terminated
///     │ retransmission: absorbed   │ retransmission:      │ retransmission: resend final
///     │                            │ resend provisional
///     └────────── TU 200-699 ──────────────────────▶ Completed
/// ```
///
/// Timer J is 64·T1 on unreliable transports and zero on reliable ones.
public struct ServerNonInviteTransaction: Sendable {
    public enum State: Sendable {
        case trying
        case proceeding(lastProvisional: SIPResponse)
        case completed(response: SIPResponse)
        case terminated
    }

    public private(set) var state: State = .trying
    public let request: SIPRequest
    public let isReliable: Bool
    public let timers: TransactionTimers

    public init(request: SIPRequest, reliable: Bool, timers: TransactionTimers = .init()) {
        precondition(request.method != .invite && request.method != .ack, "ServerNonInviteTransaction is for non-INVITE, non-ACK requests")
        self.request = request
        self.isReliable = reliable
        self.timers = timers
    }

    public var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    /// The last response sent, if any.
    public var lastResponse: SIPResponse? {
        switch state {
        case .proceeding(let response), .completed(let response): response
        case .trying, .terminated: nil
        }
    }

    /// Pass the new request to the TU.
    public mutating func start() -> [ServerTransactionAction] {
        guard case .trying = state else { return [] }
        return [.deliverRequest(request)]
    }

    /// A retransmission of the request: answered with the last response, never passed to the TU.
    public mutating func receiveRetransmission() -> [ServerTransactionAction] {
        lastResponse.map { [.send($0)] } ?? []
    }

    public mutating func respond(_ response: SIPResponse) -> [ServerTransactionAction] {
        switch state {
        case .trying, .proceeding:
            if response.isProvisional {
                state = .proceeding(lastProvisional: response)
                return [.send(response)]
            }
            let j = timers.timerJ(reliable: isReliable)
            if j == .zero {
                state = .terminated
                return [.send(response)]
            }
            state = .completed(response: response)
            return [.send(response), .startTimer(.j, j)]
        case .completed, .terminated:
            return []  // §17.2.2: further TU responses are discarded
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [ServerTransactionAction] {
        guard case .completed = state, timer == .j else { return [] }
        state = .terminated
        return []
    }

    /// §17.2.4: the response could not be delivered; the transaction ends.
    public mutating func transportFailed() -> [ServerTransactionAction] {
        state = .terminated
        return []
    }
}
