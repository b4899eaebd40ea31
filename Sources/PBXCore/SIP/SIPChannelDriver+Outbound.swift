import NIOCore
import SIPStack

/// Outbound legs: finding where a peer is, building the INVITE, and turning its responses into
/// `OutboundLegEvent`s for the dial.
extension SIPChannelDriver {
    /// Creates the channel for `Dial(SIP/<resource>)`: `resource` is a peer name (optionally
    /// `peer/exten` to dial a number through a trunk peer).
    func makeOutboundLeg(to resource: String, caller: SIPChannel) -> Result<SIPChannel, OutboundLegError> {
        let parts = resource.split(separator: "/", maxSplits: 1).map(String.init)
        guard let peer = config.peer(named: parts[0]) else {
            return .failure(OutboundLegError(cause: .unallocated, description: "no such peer '\(parts[0])'"))
        }
        if case .unreachable = reachability(peer.name) {
            return .failure(OutboundLegError(cause: .subscriberAbsent, description: "peer '\(peer.name)' is UNREACHABLE (qualify)"))
        }
        guard let target = contactTarget(for: peer) else {
            return .failure(OutboundLegError(cause: .subscriberAbsent, description: "peer '\(peer.name)' is not registered"))
        }
        guard reserveCallSlot(for: peer) else {
            return .failure(OutboundLegError(cause: .userBusy, description: "call-limit reached for '\(peer.name)'"))
        }
        var requestURI = target.uri
        if parts.count > 1 { requestURI.user = parts[1] }
        let legMedia = media.prepareOutbound(for: caller.media, allow: peer.codecs.map(\.sdpCodec), localAddress: localHost(toward: target.address))
        let invite = makeInvite(to: requestURI, peer: peer, caller: caller, destination: target.address, sdp: legMedia.localOfferBody())
        let channel = SIPChannel(
            direction: .outbound, peer: peer, identity: identity.next(technology: "SIP", peer: peer.name),
            linkedID: caller.linkedID, invite: invite, remoteAddress: target.address, media: legMedia, driver: self,
            callerNumber: caller.callerNumber, callerName: caller.callerName
        )
        return .success(channel)
    }

    /// A peer's current contact: its registration, or its fixed `host=`.
    func contactTarget(for peer: SIPPeer) -> (uri: SIPURI, address: SIPTransportAddress)? {
        if let binding = registrar.binding(for: peer.name) {
            return (binding.contact, binding.source)
        }
        if case .fixed(let host) = peer.host, let address = try? SocketAddress.makeAddressResolvingHost(host, port: peer.port ?? 5060) {
            let uri = SIPURI(user: peer.defaultUser ?? peer.name, host: host, port: peer.port)
            return (uri, SIPTransportAddress(transport: .udp, address: address))
        }
        return nil
    }

    private func makeInvite(to uri: SIPURI, peer: SIPPeer, caller: SIPChannel, destination: SIPTransportAddress, sdp: [UInt8]) -> SIPRequest {
        let host = localHost(toward: destination)
        var from = NameAddress(displayName: caller.callerName, uri: SIPURI(user: caller.callerNumber, host: host))
        from.tag = SIPTokens.tag()
        let to = NameAddress(uri: SIPURI(user: uri.user ?? peer.name, host: uri.host, port: uri.port))
        var headers = SIPHeaders(
            vias: [makeVia(for: destination)], from: from, to: to, callID: SIPTokens.callID(host: host),
            cseq: CSeq(number: 102, method: .invite), maxForwards: 70, contacts: [localContact(for: destination)],
            contentType: "application/sdp"
        )
        headers.add("User-Agent", userAgent)
        headers.add("Allow", Self.allowedMethods)
        return SIPRequest(method: .invite, uri: uri, headers: headers, body: sdp)
    }

    /// Sends the leg's INVITE and reports progress; a 2xx is ACKed and opens the dialog.
    func sendInvite(on leg: SIPChannel, events: @escaping (OutboundLegEvent) -> Void) {
        leg.clientTransaction = transactions.sendRequest(leg.invite, to: leg.remoteAddress) { [self] event in
            switch event {
            case .provisional(let response):
                guard response.statusCode > 100 else { return }
                guard leg.hangupCause == nil else { return }
                if !response.body.isEmpty, leg.media.acceptRemoteAnswer(response.body) {
                    events(.earlyMedia)
                } else if response.statusCode == 180 || response.statusCode == 183 {
                    events(.ringing)
                }
            case .final(let response) where response.isSuccess:
                if leg.hangupCause != nil {
                    // We cancelled but the 200 crossed the CANCEL: ACK then BYE (§9.1), without
                    // filing the dead leg for in-dialog requests.
                    leg.dialog = Dialog(asClientFor: leg.invite, response: response)
                    leg.sendAck(cseq: leg.invite.headers.cseq.number)
                    leg.sendBye()
                    return
                }
                establish(leg, with: response)
                guard response.body.isEmpty || leg.media.acceptRemoteAnswer(response.body) else {
                    leg.sendBye()
                    events(.failed(.incompatibleDestination))
                    return
                }
                leg.markUp()
                events(.answered)
            case .final(let response):
                events(.failed(HangupCause(sipStatus: response.statusCode)))
            case .timeout:
                events(.failed(.noUserResponse))
            case .transportError:
                events(.failed(.destinationOutOfOrder))
            }
        }
    }

    private func establish(_ leg: SIPChannel, with response: SIPResponse) {
        var dialog = Dialog(asClientFor: leg.invite, response: response)
        dialog.localContact = localContact(for: leg.remoteAddress)
        leg.dialog = dialog
        register(outbound: leg, dialogLocalTag: dialog.localTag)
        leg.sendAck(cseq: leg.invite.headers.cseq.number)
    }
}
