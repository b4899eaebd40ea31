import NIOCore

/// What a client transaction tells its TU (RFC 3261 §17.1: responses, timeouts, transport errors).
public enum ClientTransactionEvent: Sendable {
    /// A 1xx response.
    case provisional(SIPResponse)
    /// A 2xx–6xx response. After a 2xx to INVITE the transaction is gone: the TU sends the ACK and
    /// handles 2xx retransmissions, which arrive as stray responses (§13.2.2.4, §17.1.1.2).
    case final(SIPResponse)
    /// Timer B or F fired (or the §9.1 CANCEL guard). Treat as a 408 (§8.1.3.1).
    case timeout
    /// The transport could not deliver the request. Treat as a 503 (§8.1.3.1).
    case transportError

    /// The status code the TU should act on: the response's, or 408/503 for the synthetic outcomes
    /// (§8.1.3.1).
    public var statusCode: Int {
        switch self {
        case .provisional(let response), .final(let response): response.statusCode
        case .timeout: 408
        case .transportError: 503
        }
    }
}

/// What a client state machine asks its caller to do. The caller (``TransactionLayer``) performs
/// the I/O and schedules the timers; the machine only decides.
public enum ClientTransactionAction: Sendable {
    /// Give the request (original, retransmission, or the ACK for a non-2xx) to the transport.
    case send(SIPRequest)
    /// (Re)start a timer; when it fires call `timerFired(_:)` with its name.
    case startTimer(TransactionTimer, TimeAmount)
    /// Pass this outcome to the TU.
    case deliver(ClientTransactionEvent)
}
