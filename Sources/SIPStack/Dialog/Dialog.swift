/// The dialog state of RFC 3261 §12: identifiers, sequence numbers, the remote target and the
/// route set. A value: the owner (a call leg) mutates it as requests and responses pass.
public struct Dialog: Sendable {
    public var callID: String
    public var localTag: String
    public var remoteTag: String
    public var localURI: NameAddress
    public var remoteURI: NameAddress
    /// The peer's Contact: where in-dialog requests go (§12.2.1.1).
    public var remoteTarget: SIPURI
    /// Record-Route, in the order this side uses it as Route (§12.1.1, §12.1.2).
    public var routeSet: [NameAddress]
    public var localSequence: UInt32
    public var remoteSequence: UInt32?
    /// Our own Contact, repeated in requests that may update the target (re-INVITE, UPDATE).
    public var localContact: NameAddress

    /// UAS side (§12.1.1): built from the dialog-creating request and the tag we put in To.
    public init(asServerFor request: SIPRequest, localTag: String, localContact: NameAddress) {
        callID = request.headers.callID
        self.localTag = localTag
        remoteTag = request.headers.from.tag ?? ""
        var local = request.headers.to
        local.tag = localTag
        localURI = local
        remoteURI = request.headers.from
        remoteTarget = request.headers.contacts.first?.uri ?? request.headers.from.uri
        routeSet = request.headers.recordRoutes
        localSequence = UInt32.random(in: 1...0x7FFF_FFFF) / 2
        remoteSequence = request.headers.cseq.number
        self.localContact = localContact
    }

    /// UAC side (§12.1.2): built from our request and the peer's dialog-creating response.
    public init(asClientFor request: SIPRequest, response: SIPResponse) {
        callID = request.headers.callID
        localTag = request.headers.from.tag ?? ""
        remoteTag = response.headers.to.tag ?? ""
        localURI = request.headers.from
        remoteURI = response.headers.to
        remoteTarget = response.headers.contacts.first?.uri ?? request.uri
        routeSet = response.headers.recordRoutes.reversed()
        localSequence = request.headers.cseq.number
        remoteSequence = nil
        localContact = request.headers.contacts.first ?? request.headers.from
    }

    /// Builds an in-dialog request (§12.2.1.1): next CSeq (ACK and CANCEL reuse the INVITE's),
    /// Request-URI = remote target, Route = route set (loose routing assumed: the set is sent
    /// as is when its first entry has `lr`, and strict routing is rare enough to refuse).
    public mutating func makeRequest(_ method: SIPMethod, via: Via, cseq explicitNumber: UInt32? = nil) -> SIPRequest {
        let number: UInt32
        if let explicitNumber {
            number = explicitNumber
        } else {
            localSequence += 1
            number = localSequence
        }
        var headers = SIPHeaders(
            vias: [via], from: localURI, to: remoteURI, callID: callID,
            cseq: CSeq(number: number, method: method), maxForwards: 70, routes: routeSet
        )
        if method == .invite || method == .update { headers.contacts = [localContact] }
        return SIPRequest(method: method, uri: remoteTarget, headers: headers)
    }

    /// Checks an in-dialog request's CSeq (§12.2.2): lower than the last one → 500; otherwise
    /// remembers it. Returns false for an out-of-order request.
    public mutating func acceptRemoteSequence(_ cseq: CSeq) -> Bool {
        if cseq.method == .ack || cseq.method == .cancel { return true }
        if let last = remoteSequence, cseq.number <= last { return cseq.number == last ? true : false }
        remoteSequence = cseq.number
        return true
    }

    /// Updates the remote target from a target-refresh request or its response (re-INVITE, UPDATE).
    public mutating func refreshTarget(from contacts: [NameAddress]) {
        if let first = contacts.first { remoteTarget = first.uri }
    }

    /// Whether a message belongs to this dialog (Call-ID and both tags, §12.2.2).
    public func matches(callID: String, localTag: String?, remoteTag: String?) -> Bool {
        callID == self.callID && localTag == self.localTag && (remoteTag ?? "") == self.remoteTag
    }
}
