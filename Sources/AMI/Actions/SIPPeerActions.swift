import Foundation
import PBXCore

/// Where a peer registered from (the registrar's binding, reduced to what listings show).
public struct PeerRegistration: Sendable {
    public var host: String
    public var port: Int
    public var contact: String
    public var userAgent: String?
    public var expiresAt: Date

    public init(host: String, port: Int, contact: String, userAgent: String?, expiresAt: Date) {
        self.host = host
        self.port = port
        self.contact = contact
        self.userAgent = userAgent
        self.expiresAt = expiresAt
    }
}

/// The SIP peers as the manager lists them: sip.conf, plus the registrar and qualify state
/// asked of the switch at the time of the request.
public struct SIPPeerDirectory: Sendable {
    public var peers: [SIPPeer]
    /// The current registration of a peer (lower-case name), if any.
    public var registration: @Sendable (_ peer: String) async -> PeerRegistration?
    public var reachability: @Sendable (_ peer: String) async -> PeerReachability
    /// The peer's device state (`SIP/<peer>`) as the channel driver derives it: registration,
    /// qualify, live and ringing calls against `call-limit`, hold.
    public var deviceState: @Sendable (_ peer: String) async -> DeviceState

    public init(peers: [SIPPeer], registration: @escaping @Sendable (String) async -> PeerRegistration?,
                reachability: @escaping @Sendable (String) async -> PeerReachability,
                deviceState: @escaping @Sendable (String) async -> DeviceState) {
        self.peers = peers
        self.registration = registration
        self.reachability = reachability
        self.deviceState = deviceState
    }

    func peer(named name: String) -> SIPPeer? { peers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame } }

    /// Where a peer is now: its registration, else its static `host=`; nil when unknown.
    func address(of peer: SIPPeer) async -> (host: String, port: Int)? {
        if let registration = await registration(peer.name.lowercased()) { return (registration.host, registration.port) }
        if case .fixed(let host) = peer.host { return (host, peer.port ?? 5060) }
        return nil
    }
}

/// SIPpeers and SIPshowpeer with chan_sip's field sets (ami.md §9b; transcript ami-06).
enum SIPPeerActions {
    static func register(into registry: ManagerActionRegistry, directory: SIPPeerDirectory) {
        registry.register(ManagerAction(name: "SIPpeers", authority: [.system, .reporting]) { _ in
            var items: [ManagerEvent] = []
            for peer in directory.peers {
                items.append(ManagerEvent(name: "PeerEntry", class: [], fields: await peerEntry(peer, directory)))
            }
            return .list(message: "Peer status list will follow", items: items, completeEvent: "PeerlistComplete")
        })
        registry.register(ManagerAction(name: "SIPshowpeer", authority: [.system, .reporting]) { request in
            guard let name = nonEmpty(request["Peer"]) else { return .error("Peer: <name> missing.") }
            guard let peer = directory.peer(named: name) else { return .error("Peer \(name) not found.") }
            return .success(message: nil, fields: await peerDetail(peer, directory))
        })
    }

    private static func yesNo(_ flag: Bool) -> String { flag ? "yes" : "no" }
    private static func yN(_ flag: Bool) -> String { flag ? "Y" : "N" }

    private static func isDynamic(_ peer: SIPPeer) -> Bool {
        if case .dynamic = peer.host { return true }
        return false
    }

    static func peerEntry(_ peer: SIPPeer, _ directory: SIPPeerDirectory) async -> [ManagerEvent.Field] {
        let address = await directory.address(of: peer)
        return [
            .init("Channeltype", "SIP"), .init("ObjectName", peer.name), .init("ChanObjectType", "peer"),
            .init("IPaddress", address?.host ?? "-none-"), .init("IPport", String(address?.port ?? 0)),
            .init("Dynamic", yesNo(isDynamic(peer))),
            .init("AutoForcerport", yesNo(peer.nat.autoForceRport)), .init("Forcerport", yesNo(peer.nat.forceRport)),
            .init("AutoComedia", yesNo(peer.nat.autoComedia)), .init("Comedia", yesNo(peer.nat.comedia)),
            .init("VideoSupport", "no"), .init("TextSupport", "no"), .init("ACL", yesNo(!peer.acl.isEmpty)),
            .init("Status", (await directory.reachability(peer.name)).description), .init("RealtimeDevice", "no"),
            .init("Description", peer.description ?? ""), .init("Accountcode", peer.accountCode ?? ""),
        ]
    }

    static func peerDetail(_ peer: SIPPeer, _ directory: SIPPeerDirectory) async -> [ManagerEvent.Field] {
        let registration = await directory.registration(peer.name.lowercased())
        let address = await directory.address(of: peer)
        let regExpire = registration.map { max(0, Int($0.expiresAt.timeIntervalSinceNow)) } ?? -1
        let callerID = peer.callerID.map(\.description) ?? ""
        var fields: [ManagerEvent.Field] = [
            .init("Channeltype", "SIP"), .init("ObjectName", peer.name), .init("ChanObjectType", "peer"),
            .init("SecretExist", yN(peer.secret != nil)), .init("RemoteSecretExist", "N"), .init("MD5SecretExist", yN(peer.md5secret != nil)),
            .init("Context", peer.context), .init("Language", peer.language ?? ""), .init("ToneZone", "<Not set>"),
            .init("AMAflags", "Unknown"), .init("CID-CallingPres", "Presentation Allowed, Not Screened"),
            .init("Callgroup", ""), .init("Pickupgroup", ""), .init("Named Callgroup", ""), .init("Named Pickupgroup", ""),
            .init("MOHSuggest", ""), .init("VoiceMailbox", peer.mailboxes.joined(separator: ",")), .init("TransferMode", "open"),
            .init("LastMsgsSent", "-1"), .init("Maxforwards", "0"),
            .init("Call-limit", String(peer.callLimit ?? 2_147_483_647)), .init("Busy-level", String(peer.busyLevel ?? 0)),
            .init("MaxCallBR", "384 kbps"), .init("Dynamic", yN(isDynamic(peer))), .init("Callerid", callerID),
            .init("RegExpire", "\(regExpire) seconds"),
            .init("SIP-AuthInsecure", peer.insecure.isEmpty ? "no" : (peer.insecure.contains(.invite) ? "invite" : "port")),
            .init("SIP-Forcerport", yN(peer.nat.forceRport)), .init("SIP-Comedia", yN(peer.nat.comedia)), .init("ACL", yN(!peer.acl.isEmpty)),
            .init("SIP-CanReinvite", yN(peer.directMedia.enabled)), .init("SIP-DirectMedia", yN(peer.directMedia.enabled)),
            .init("SIP-PromiscRedir", "N"), .init("SIP-UserPhone", "N"), .init("SIP-VideoSupport", "N"), .init("SIP-TextSupport", "N"),
            .init("SIP-T.38Support", "N"), .init("SIP-T.38EC", "Unknown"), .init("SIP-T.38MaxDtgrm", "4294967295"),
            .init("SIP-Sess-Timers", "Accept"), .init("SIP-Sess-Refresh", "uas"), .init("SIP-Sess-Expires", "1800"),
            .init("SIP-Sess-Min", "90"), .init("SIP-RTP-Engine", "asterisk"), .init("SIP-Encryption", "N"), .init("SIP-RTCP-Mux", "N"),
            .init("SIP-DTMFmode", peer.dtmfMode.rawValue),
        ]
        let toHost: String
        if case .fixed(let host) = peer.host { toHost = host } else { toHost = "" }
        fields += [
            .init("ToHost", toHost), .init("Address-IP", address?.host ?? "(null)"), .init("Address-Port", String(address?.port ?? 0)),
            .init("Default-addr-IP", "(null)"), .init("Default-addr-port", "0"),
            .init("Default-Username", peer.defaultUser ?? peer.name),
            .init("Codecs", "(" + peer.codecs.map { $0.rawValue }.joined(separator: "|") + ")"),
            .init("Status", (await directory.reachability(peer.name)).description),
            .init("SIP-Useragent", registration?.userAgent ?? ""), .init("Reg-Contact", registration?.contact ?? ""),
            .init("QualifyFreq", "\(peer.qualifyFrequency * 1000) ms"), .init("Parkinglot", ""),
        ]
        fields += peer.variables.map { .init("ChanVariable", "\($0.name)=\($0.value)") }
        fields += [.init("SIP-Use-Reason-Header", "N"), .init("Description", peer.description ?? "")]
        return fields
    }
}
