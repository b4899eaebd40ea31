import NIOCore
import RTPMedia
import SIPStack

/// In-dialog signalling of a leg: ACKs, re-INVITEs passed across the bridge.
extension SIPChannel {
    /// ACK for a 2xx (§13.2.2.4): a new transaction-less request with the INVITE's CSeq number.
    func sendAck(cseq: UInt32) {
        guard var dialog else { return }
        let ack = dialog.makeRequest(.ack, via: driver.makeVia(for: remoteAddress), cseq: cseq)
        self.dialog = dialog
        driver.transactions.sendAck(ack, to: remoteAddress)
    }

    /// A re-INVITE (or UPDATE with SDP) from this leg's phone: hold/resume or a codec change.
    /// The offer is passed to the bridged leg with our own addresses; its answer comes back here.
    func handleReinvite(_ request: SIPRequest, transaction: ServerTransactionHandle) {
        if var dialog {
            dialog.refreshTarget(from: request.headers.contacts)
            self.dialog = dialog
        }
        guard !request.body.isEmpty, let offer = media.acceptRemoteOffer(request.body) else {
            // No SDP (or an offer we can't take): answer with our current session.
            respondWithCurrentSession(to: request, transaction: transaction)
            return
        }
        noteHoldState(offered: offer.direction)
        guard let peer = bridgedPeer, peer.hangupCause == nil, var peerDialog = peer.dialog else {
            // Not bridged (IVR, or the other leg is gone): we answer it ourselves, mirroring the
            // offered direction as RFC 3264 §6.1 asks (sendonly → recvonly, inactive → inactive).
            respond(to: request, transaction: transaction, code: 200, direction: offer.direction.reversed)
            return
        }
        let forwarded = peerDialog.makeRequest(request.method, via: driver.makeVia(for: peer.remoteAddress))
        peer.dialog = peerDialog
        var outgoing = forwarded
        outgoing.headers.contentType = "application/sdp"
        outgoing.body = peer.media.localReofferBody(direction: offer.direction)
        driver.transactions.sendRequest(outgoing, to: peer.remoteAddress) { [self] event in
            switch event {
            case .provisional:
                break
            case .final(let response) where response.isSuccess:
                if request.method == .invite { peer.sendAck(cseq: outgoing.headers.cseq.number) }
                let answerDirection = response.body.isEmpty ? nil : peer.media.acceptRemoteAnswerDirection(response.body)
                respond(to: request, transaction: transaction, code: 200, direction: answerDirection)
            case .final(let response):
                driver.reply(request, response.statusCode, on: transaction)
            case .timeout, .transportError:
                driver.reply(request, 500, on: transaction)
            }
        }
    }

    /// Hold/Unhold as chan_sip reports them: a sendonly or inactive offer (or a null
    /// connection address) puts the call on hold, any other direction takes it off.
    func noteHoldState(offered direction: MediaDirection) {
        let holding = direction == .sendonly || direction == .inactive
        guard holding != onHold else { return }
        onHold = holding
        logger.info(holding ? "put on hold" : "taken off hold")
        publishEvent { holding ? .hold($0) : .unhold($0) }
        driver.leg(self, isOnHold: holding)
    }

    private func respondWithCurrentSession(to request: SIPRequest, transaction: ServerTransactionHandle) {
        respond(to: request, transaction: transaction, code: 200, direction: nil)
    }

    private func respond(to request: SIPRequest, transaction: ServerTransactionHandle, code: Int, direction: MediaDirection?) {
        var response = driver.makeResponse(to: request, code, toTag: dialog?.localTag)
        response.headers.contacts = [driver.localContact(for: remoteAddress)]
        response.headers.recordRoutes = request.headers.recordRoutes
        if request.method == .invite || !request.body.isEmpty {
            response.headers.contentType = "application/sdp"
            response.body = media.localReofferBody(direction: direction ?? .sendrecv)
        }
        driver.transactions.respond(response, on: transaction)
    }
}
