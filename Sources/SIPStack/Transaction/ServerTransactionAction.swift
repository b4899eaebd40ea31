import NIOCore

/// What a server state machine asks its caller to do (RFC 3261 §17.2). The caller
/// (``TransactionLayer``) sends, schedules and calls the TU.
public enum ServerTransactionAction: Sendable {
    /// Give this response (new or retransmitted) to the transport, towards the request's source.
    case send(SIPResponse)
    /// (Re)start a timer; when it fires call `timerFired(_:)` with its name.
    case startTimer(TransactionTimer, TimeAmount)
    /// Pass the new request to the TU (exactly once per transaction).
    case deliverRequest(SIPRequest)
    /// An ACK for a 2xx reached the transaction in Accepted state (RFC 6026 §7.1): pass it to the TU.
    case deliverAck(SIPRequest)
    /// Timer H fired: the final response was never acknowledged (§17.2.1).
    case noAck(SIPResponse)
}
