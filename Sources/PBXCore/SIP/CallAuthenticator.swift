import NIOCore
import SIPStack

/// Decides who is calling or registering (RFC 3261 §22): trunks matched by source address with
/// `insecure=invite`, everyone else by digest. A wrong user, a wrong password, a peer that may
/// not place calls and an address outside the peer's ACL all get the same 403, so the answers
/// never reveal which extensions exist. Confined to the SIP event loop.
final class CallAuthenticator {
    enum Outcome {
        case accepted(SIPPeer)
        case challenge(SIPResponse)
        case reject(SIPResponse)
    }

    enum Purpose { case invite, register }

    private var gate: AuthGate
    private var config: SIPConfig

    init(config: SIPConfig) {
        self.config = config
        let settings = DigestSettings(realm: config.general.realm, algorithms: config.general.digestAlgorithms)
        gate = AuthGate(authenticator: DigestAuthenticator(settings: settings, epoch: .now))
    }

    /// Swaps in a reloaded sip.conf; nonces already handed out stay valid.
    func update(config: SIPConfig) { self.config = config }

    func authenticate(_ request: SIPRequest, from source: SIPTransportAddress, purpose: Purpose) -> Outcome {
        let ip = source.address.ipAddress ?? ""
        if purpose == .invite, let trunk = config.peer(matchingSource: ip, port: source.address.port ?? 0),
            trunk.insecure.contains(.invite)
        {
            return .accepted(trunk)
        }
        let identity = purpose == .register ? request.headers.to.uri.user : request.headers.from.uri.user
        let config = self.config
        if purpose == .invite, let guest = guestPeer(for: request, identity: identity, sourceIP: ip) {
            return .accepted(guest)
        }
        let decision = gate.authenticate(
            request, kind: purpose == .register ? .www : .proxy, source: ip, expectedUsername: identity, now: .now
        ) { username in
            guard let peer = config.peer(named: username), Self.mayUse(peer, for: purpose, from: ip) else { return nil }
            return peer.digestSecret
        }
        switch decision {
        case .authenticated(let username):
            guard let peer = config.peer(named: username) else { return .reject(forbidden(request)) }
            return .accepted(peer)
        case .challenge:
            return .challenge(decision.response(to: request, toTag: SIPTokens.tag())!)
        case .forbidden:
            if !config.general.alwaysAuthReject, purpose == .register, let identity, config.peer(named: identity) == nil {
                // alwaysauthreject=no: chan_sip tells a phone its account does not exist.
                return .reject(SIPResponse(replyingTo: request, statusCode: 404, toTag: SIPTokens.tag()))
            }
            return .reject(forbidden(request))
        }
    }

    /// `allowguest=yes`: a call from a user that is no peer, without credentials, is let in to the
    /// `[general]` context under the caller's address, as chan_sip does. (It tells a prober which
    /// users exist, since peers are still challenged: that is why the sample config says no.)
    private func guestPeer(for request: SIPRequest, identity: String?, sourceIP: String) -> SIPPeer? {
        guard config.general.allowGuest,
            identity.map({ config.peer(named: $0) == nil }) ?? true,
            request.headers["Proxy-Authorization"] == nil
        else { return nil }
        var guest = config.general.peerDefaults
        guest.name = sourceIP
        guest.kind = .user
        return guest
    }

    /// Whether a peer may authenticate for this purpose from this address: only dynamic peers
    /// register, `type=peer` is never a caller by name, and the ACL must allow the address.
    private static func mayUse(_ peer: SIPPeer, for purpose: Purpose, from ip: String) -> Bool {
        guard peer.acl.allows(ip) else { return false }
        switch purpose {
        case .register: return peer.host == .dynamic
        case .invite: return peer.kind != .peer
        }
    }

    private func forbidden(_ request: SIPRequest) -> SIPResponse {
        AuthDecision.forbidden.response(to: request, toTag: SIPTokens.tag())!
    }
}
