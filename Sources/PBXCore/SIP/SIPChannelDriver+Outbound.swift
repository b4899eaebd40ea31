import NIOCore
import SIPStack

/// Outbound legs: finding where a peer is, building the INVITE, and turning its responses into
/// `OutboundLegEvent`s for the dial.
extension SIPChannelDriver {
    /// Creates the channel for `Dial(SIP/<resource>)`: `resource` is a peer name (optionally
    /// `peer/exten` to dial a number through a trunk peer). Its media goes on `relay` (from
    /// `MediaEngine.calleeRelay`).
    func makeOutboundLeg(
        to resource: String, caller: SIPChannel, relay: RelayControl, callerID: (number: String, name: String)? = nil
    ) -> Result<SIPChannel, OutboundLegError> {
        findTarget(resource).flatMap { found in
            let legMedia = media.prepareOutbound(
                for: caller.media, on: relay, allow: found.peer.codecs.map(\.sdpCodec), localAddress: localHost(toward: found.address))
            return .success(makeLeg(found, media: legMedia, linkedID: caller.linkedID, callerID: callerID ?? (caller.callerNumber, caller.callerName)))
        }
    }

    /// Where the callees of `caller` get their media (`MediaEngine.calleeRelay`); nil when no
    /// RTP ports are left or pbxd is stopping.
    func calleeRelay(for caller: SIPChannel) async -> RelayControl? {
        guard let media = try? await eventLoop.submit({ caller.media }).get() else { return nil }
        do {
            return try await self.media.calleeRelay(for: media)
        } catch {
            caller.logger.warning("no media for a call out", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Creates the channel for an originated call (AMI Originate): like a Dial() leg, but with a
    /// relay session of its own, since no caller's media is there to share.
    func makeOriginatedLeg(to resource: String, callerID: (number: String, name: String), uniqueID: String? = nil) async -> Result<SIPChannel, OutboundLegError> {
        let found: Result<OutboundTarget, OutboundLegError>
        do {
            found = try await eventLoop.submit { self.findTarget(resource) }.get()
        } catch {
            return .failure(OutboundLegError(cause: .destinationOutOfOrder, description: "pbxd is stopping"))
        }
        let target: OutboundTarget
        switch found {
        case .success(let found): target = found
        case .failure(let error): return .failure(error)
        }
        let legMedia: LegMedia
        do {
            legMedia = try await media.prepareOriginated(allow: target.peer.codecs.map(\.sdpCodec), localAddress: localHost(toward: target.address))
        } catch {
            try? await eventLoop.submit { self.releaseCallSlot(for: target.peer) }.get()
            return .failure(OutboundLegError(cause: .normalCircuitCongestion, description: "no RTP ports: \(error)"))
        }
        return (try? await eventLoop.submit { .success(self.makeLeg(target, media: legMedia, linkedID: nil, callerID: callerID, uniqueID: uniqueID)) }.get())
            ?? .failure(OutboundLegError(cause: .destinationOutOfOrder, description: "pbxd is stopping"))
    }

    /// Where `Dial(SIP/<resource>)` goes, with a call slot reserved for the peer.
    private func findTarget(_ resource: String) -> Result<OutboundTarget, OutboundLegError> {
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
        return .success(OutboundTarget(peer: peer, uri: requestURI, address: target.address))
    }

    private func makeLeg(
        _ target: OutboundTarget, media legMedia: LegMedia, linkedID: String?, callerID: (number: String, name: String), uniqueID: String? = nil
    ) -> SIPChannel {
        var channelIdentity = identity.next(technology: "SIP", peer: target.peer.name)
        if let uniqueID { channelIdentity.uniqueID = uniqueID }
        let invite = makeInvite(to: target.uri, peer: target.peer, callerID: callerID, destination: target.address, sdp: legMedia.localOfferBody())
        return SIPChannel(
            direction: .outbound, peer: target.peer, identity: channelIdentity,
            linkedID: linkedID, invite: invite, remoteAddress: target.address, media: legMedia, driver: self,
            callerNumber: callerID.number, callerName: callerID.name
        )
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

    private func makeInvite(to uri: SIPURI, peer: SIPPeer, callerID: (number: String, name: String), destination: SIPTransportAddress, sdp: [UInt8]) -> SIPRequest {
        let host = localHost(toward: destination)
        var from = NameAddress(displayName: callerID.name, uri: SIPURI(user: callerID.number.isEmpty ? "anonymous" : callerID.number, host: host))
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

/// A peer found for an outbound leg: where to send the INVITE (its call slot is reserved).
struct OutboundTarget {
    var peer: SIPPeer
    var uri: SIPURI
    var address: SIPTransportAddress
}
