/// Messages the transaction layer builds itself: responses it answers on its own (100 Trying, the
/// 200 to CANCEL, 481), the ACK for a non-2xx final response (§17.1.1.3) and CANCEL (§9.1).

extension SIPResponse {
    /// A response to `request` per RFC 3261 §8.2.6.2: Via (all, in order), From, Call-ID, CSeq and
    /// Record-Route copied; To copied with `toTag` added when the request's To has none (never on
    /// 100, which may omit it); Timestamp copied on 100 (§8.2.6.1).
    public init(replyingTo request: SIPRequest, statusCode: Int, reasonPhrase: String? = nil, toTag: String? = nil) {
        var to = request.headers.to
        if to.tag == nil, statusCode != 100, let toTag { to.tag = toTag }
        var headers = SIPHeaders(
            vias: request.headers.vias, from: request.headers.from, to: to, callID: request.headers.callID,
            cseq: request.headers.cseq, recordRoutes: request.headers.recordRoutes
        )
        if statusCode == 100, let timestamp = request.headers["Timestamp"] { headers.add("Timestamp", timestamp) }
        self.init(statusCode: statusCode, reasonPhrase: reasonPhrase, headers: headers)
    }
}

extension SIPRequest {
    /// The ACK a client INVITE transaction sends for a 300–699 response (§17.1.1.3): same
    /// Request-URI, Call-ID, From, CSeq number and Route set as the INVITE, the INVITE's top Via
    /// only (so the same branch), and the To of the response (with the UAS's tag).
    func ackForNon2xx(_ response: SIPResponse) -> SIPRequest {
        let headers = SIPHeaders(
            vias: Array(self.headers.vias.prefix(1)), from: self.headers.from, to: response.headers.to,
            callID: self.headers.callID, cseq: CSeq(number: self.headers.cseq.number, method: .ack),
            maxForwards: 70, routes: self.headers.routes
        )
        return SIPRequest(method: .ack, uri: uri, headers: headers)
    }

    /// The CANCEL for this INVITE (§9.1): same Request-URI, Call-ID, To, From, CSeq number and Route
    /// set, a single Via equal to the INVITE's top Via (same branch, so the UAS can match it).
    public func makeCancel() -> SIPRequest {
        let headers = SIPHeaders(
            vias: Array(self.headers.vias.prefix(1)), from: self.headers.from, to: self.headers.to,
            callID: self.headers.callID, cseq: CSeq(number: self.headers.cseq.number, method: .cancel),
            maxForwards: 70, routes: self.headers.routes
        )
        return SIPRequest(method: .cancel, uri: uri, headers: headers)
    }
}

