/// Identifies a server transaction, RFC 3261 §17.2.3.
///
/// For requests whose top Via branch starts with the magic cookie `z9hG4bK`, the key is the
/// branch, the top Via sent-by and the method, with ACK folded into INVITE (an ACK for a non-2xx
/// final carries the INVITE's branch and belongs to its transaction). CANCEL keeps its own method,
/// so it gets its own transaction; ``cancelledInviteKey`` finds the INVITE it cancels.
///
/// Older (RFC 2543) requests fall back to the request's Request-URI, From tag, Call-ID, CSeq
/// number, top Via (transport, sent-by, branch; not the `received`/`rport` this server adds) and
/// method. The To tag, part of RFC 2543 matching, is left out so that the ACK
/// (which carries the tag of our response) matches its INVITE without remembering that tag; the
/// From tag, Call-ID and CSeq number keep distinct requests apart.
public struct TransactionKey: Hashable, Sendable, CustomStringConvertible {
    enum Storage: Hashable, Sendable {
        case rfc3261(branch: String, sentBy: String, method: SIPMethod)
        case rfc2543(requestURI: String, fromTag: String?, callID: String, cseq: UInt32, topVia: String, method: SIPMethod)
    }

    let storage: Storage

    /// The key of the server transaction `request` belongs to, or `nil` without a Via.
    public init?(request: SIPRequest) {
        guard let via = request.headers.vias.first else { return nil }
        let method: SIPMethod = request.method == .ack ? .invite : request.method
        if let branch = via.branch, branch.hasPrefix(Via.magicCookie) {
            storage = .rfc3261(branch: branch, sentBy: Self.sentBy(via), method: method)
        } else {
            storage = .rfc2543(
                requestURI: request.uri.description, fromTag: request.headers.from.tag,
                callID: request.headers.callID, cseq: request.headers.cseq.number,
                topVia: "\(via.transport.uppercased()) \(Self.sentBy(via));branch=\(via.branch ?? "")", method: method
            )
        }
    }

    private init(storage: Storage) { self.storage = storage }

    /// For a CANCEL's key: the key of the INVITE transaction it cancels (§9.2: same branch and
    /// sent-by, method INVITE). `nil` for other methods.
    public var cancelledInviteKey: TransactionKey? {
        switch storage {
        case .rfc3261(let branch, let sentBy, .cancel):
            TransactionKey(storage: .rfc3261(branch: branch, sentBy: sentBy, method: .invite))
        case .rfc2543(let uri, let fromTag, let callID, let cseq, let via, .cancel):
            TransactionKey(storage: .rfc2543(requestURI: uri, fromTag: fromTag, callID: callID, cseq: cseq, topVia: via, method: .invite))
        default:
            nil
        }
    }

    /// `host:port` with the host lowercased and the default port filled in, so `Host` and `host:5060`
    /// compare equal.
    static func sentBy(_ via: Via) -> String {
        let defaultPort = via.transport.caseInsensitiveEquals("TLS") ? 5061 : 5060
        return "\(via.host.lowercased()):\(via.port ?? defaultPort)"
    }

    public var description: String {
        switch storage {
        case .rfc3261(let branch, let sentBy, let method): "\(method) \(branch)@\(sentBy)"
        case .rfc2543(_, _, let callID, let cseq, let via, let method): "\(method) \(callID)/\(cseq)@\(via) (RFC 2543)"
        }
    }
}

/// Identifies a client transaction, RFC 3261 §17.1.3: the top Via branch (which this layer
/// generated, so it is unique) and the CSeq method, which keeps a CANCEL apart from the INVITE it
/// shares a branch with.
public struct ClientTransactionKey: Hashable, Sendable, CustomStringConvertible {
    public let branch: String
    public let method: SIPMethod

    public init(branch: String, method: SIPMethod) {
        self.branch = branch
        self.method = method
    }

    /// The key a response matches, or `nil` if its top Via has no branch.
    public init?(response: SIPResponse) {
        guard let branch = response.headers.vias.first?.branch else { return nil }
        self.init(branch: branch, method: response.headers.cseq.method)
    }

    public var description: String { "\(method) \(branch)" }
}
