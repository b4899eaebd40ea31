/// The transaction user (RFC 3261 §17): the UA core, dialogs, registrar above the
/// ``TransactionLayer``. Every method is called on the layer's event loop; the TU may call back
/// into the layer (`respond`, `sendRequest`, `cancel`) from inside any of them.
public protocol TransactionUser: AnyObject {
    /// A new request (never a retransmission, never ACK or CANCEL). Answer it with
    /// ``TransactionLayer/respond(_:on:)``; an INVITE has already been sent 100 Trying.
    func didReceiveRequest(_ request: SIPRequest, from source: SIPTransportAddress, transaction: ServerTransactionHandle)

    /// A CANCEL matched an INVITE server transaction that has not sent a final response yet. The
    /// layer has already answered the CANCEL with 200 OK (§9.2); the TU should now answer the INVITE
    /// with 487 Request Terminated on `inviteTransaction`.
    func didReceiveCancel(_ cancel: SIPRequest, from source: SIPTransportAddress, inviteTransaction: ServerTransactionHandle)

    /// An ACK for a 2xx (§13.2.2.4, §17.2.3: it is its own transaction and belongs to the dialog).
    /// The layer has already stopped retransmitting the 2xx it acknowledges.
    func didReceiveAck(_ ack: SIPRequest, from source: SIPTransportAddress)

    /// A 2xx to INVITE that matched no client transaction: a retransmission after the transaction
    /// ended, or a 2xx from another fork. The UAC core must ACK it again (§13.2.2.4). Other
    /// unmatched responses are discarded (§18.1.2).
    func didReceiveStrayResponse(_ response: SIPResponse, from source: SIPTransportAddress)

    /// A final response to an INVITE was never acknowledged: Timer H for a non-2xx (§17.2.1), or
    /// 64·T1 of 2xx retransmissions (§13.3.1.4), after which the TU should send BYE.
    func didNotReceiveAck(for response: SIPResponse, transaction: ServerTransactionHandle)
}

extension TransactionUser {
    public func didReceiveStrayResponse(_ response: SIPResponse, from source: SIPTransportAddress) {}
    public func didNotReceiveAck(for response: SIPResponse, transaction: ServerTransactionHandle) {}
}

/// A server transaction as the TU sees it: what it answers on. Stale handles (transaction ended)
/// are harmless; the layer ignores responses on them.
public struct ServerTransactionHandle: Hashable, Sendable, CustomStringConvertible {
    public let key: TransactionKey
    let id: UInt64
    public var description: String { "server \(key) #\(id)" }
}

/// A client transaction as the TU sees it: what it cancels.
public struct ClientTransactionHandle: Hashable, Sendable, CustomStringConvertible {
    public let key: ClientTransactionKey
    let id: UInt64
    public var description: String { "client \(key) #\(id)" }
}
