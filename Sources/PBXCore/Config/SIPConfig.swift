import Foundation
import SIPStack

/// `addr[:port]` for a listening socket (`0.0.0.0`, `0.0.0.0:5060`, `[::]:5060`, `::`).
public struct BindAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `addr[:port]`; the address must be an IP literal (as Asterisk requires).
    init(parsing entry: ConfigEntry, defaultPort: Int) throws(ConfigError) {
        let text = entry.value
        var host = text
        var port: Int?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw entry.invalid("expected addr[:port]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { throw entry.invalid("expected addr[:port]") }
                port = number
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = Int(text[text.index(after: colon)...]) else { throw entry.invalid("expected addr[:port]") }
            port = number
        }
        guard IPAddress(host) != nil else { throw entry.invalid("expected an IP address with an optional port") }
        if let port, !(1...65535).contains(port) { throw entry.invalid("port out of range 1...65535") }
        self.host = host
        self.port = port ?? defaultPort
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// sip.conf `[general]`: sockets, registration limits, security switches. Options that
/// peers inherit live in `peerDefaults`.
public struct SIPGeneralConfig: Sendable {
    /// `udpbindaddr=`, else `bindaddr=` + `bindport=` (default `0.0.0.0:5060`).
    public var udpBind = BindAddress(host: "0.0.0.0", port: 5060)
    /// `tcpenable=` (Asterisk's default: no).
    public var tcpEnabled = false
    /// `tcpbindaddr=`, else the UDP address.
    public var tcpBind = BindAddress(host: "0.0.0.0", port: 5060)
    /// `allowguest=`: whether unauthenticated calls from unknown sources enter `peerDefaults.context`.
    /// pbxd defaults to **no** (Asterisk: yes) — an open PBX is a toll-fraud target.
    public var allowGuest = false
    /// `alwaysauthreject=` (default yes): unknown users get the same challenge/403 as a wrong
    /// password. `DigestAuthenticator` always behaves this way; with `no` the driver may answer
    /// 404 for unknown users like old Asterisk.
    public var alwaysAuthReject = true
    /// `realm=`; the default is Asterisk's `asterisk`, because `md5secret` hashes include it.
    public var realm = "asterisk"
    /// `digestalgorithms=sha-256,md5`: the challenges offered, in order (RFC 8760). The default
    /// is MD5 alone, as Asterisk offers: SIPp answers the first challenge whatever its algorithm,
    /// and baresip 1.0 fails registration outright when any challenge names SHA-256. Sites whose
    /// phones all speak SHA-256 list it first.
    public var digestAlgorithms: [DigestAlgorithm] = [.md5]
    /// `minexpiry=`, `maxexpiry=`, `defaultexpiry=` (60, 3600, 120).
    public var registrar = RegistrarPolicy()
    /// `useragent=`: User-Agent and Server header.
    public var userAgent = "pbxd"
    /// `externip=` / `externaddr=`: the public address to advertise to peers outside `localNets`.
    public var externalAddress: String?
    /// `localnet=`: networks that are "inside" (no external address rewriting).
    public var localNets: [IPNetwork] = []
    /// `register =>` lines (outbound registrations to providers), kept as written for the
    /// trunk code to parse.
    public var registrations: [ConfigEntry] = []
    /// Defaults for every peer: the options `[general]` may set for peers (context, allow, nat,
    /// qualify, dtmfmode, ...), applied before each peer's own lines.
    public var peerDefaults: SIPPeer

    public init(location: SourceLocation = SourceLocation(file: "sip.conf", line: 0)) {
        peerDefaults = SIPPeer(name: "general", location: location)
    }

    /// `context=` of `[general]`: where guest calls go (when `allowGuest`), and every peer's
    /// default context.
    public var context: String { peerDefaults.context }
    /// `qualifyfreq=` of `[general]`, the default for peers.
    public var qualifyFrequency: Int { peerDefaults.qualifyFrequency }
}

/// sip.conf in Asterisk chan_sip syntax (DESIGN.md §4): `[general]` and one section per peer,
/// with templates (`[phone](!)`, `[1001](phone)`) resolved by `ConfigFile`.
public struct SIPConfig: Sendable {
    public var general: SIPGeneralConfig
    /// Peers in file order.
    public var peers: [SIPPeer]
    /// Unknown or ignored keys, with `file:line`.
    public var warnings: [ConfigWarning]
    private var indexByName: [String: Int]

    public init(general: SIPGeneralConfig = SIPGeneralConfig(), peers: [SIPPeer] = [], warnings: [ConfigWarning] = []) {
        self.general = general
        self.peers = peers
        self.warnings = warnings
        self.indexByName = [:]
        for (index, peer) in peers.enumerated() where indexByName[peer.name.lowercased()] == nil {
            indexByName[peer.name.lowercased()] = index
        }
    }

    public static func load(path: String) throws(ConfigError) -> SIPConfig {
        try SIPConfig(try ConfigFile.load(path: path))
    }

    /// Builds the typed configuration; the first invalid value throws with its `file:line`.
    public init(_ file: ConfigFile) throws(ConfigError) {
        var warnings: [ConfigWarning] = []
        var general = SIPGeneralConfig()
        let generalSections = file.sections.filter { $0.name.lowercased() == "general" }
        for section in generalSections {
            try Self.applyGeneral(section, to: &general, warnings: &warnings)
        }
        var peers: [SIPPeer] = []
        var seen: [String: SourceLocation] = [:]
        for section in file.sections where section.name.lowercased() != "general" {
            if section.name.lowercased() == "authentication" {
                warnings.append(ConfigWarning("[authentication] (outbound credentials) is not supported yet; ignored", at: section.location))
                continue
            }
            if let previous = seen[section.name.lowercased()] {
                throw ConfigError("duplicate peer [\(section.name)] (first defined at \(previous))", at: section.location)
            }
            seen[section.name.lowercased()] = section.location
            var peer = general.peerDefaults
            peer.name = section.name
            peer.location = section.location
            for entry in section.entries {
                if try peer.apply(entry, warnings: &warnings) { continue }
                warnings.append(Self.unknownKeyWarning(entry, in: "peer [\(section.name)]"))
            }
            try Self.validate(peer, warnings: &warnings)
            peers.append(peer)
        }
        self.init(general: general, peers: peers, warnings: warnings)
    }

    // MARK: Lookups

    /// The peer with this section name (the SIP user name of a phone), ignoring case like
    /// chan_sip's peer table.
    public func peer(named name: String) -> SIPPeer? {
        indexByName[name.lowercased()].map { peers[$0] }
    }

    /// The peer a request from `address:port` belongs to by source address, Asterisk style: a
    /// peer with a fixed `host` whose address and port match, else one with `insecure=port`
    /// whose address matches. `type=user` entries never match by address. Host names are not
    /// resolved here: pass the driver's DNS results in `resolvedHosts` (name → addresses).
    public func peer(matchingSource address: String, port: Int, resolvedHosts: [String: [String]] = [:]) -> SIPPeer? {
        guard let source = IPAddress(address) else { return nil }
        func addressMatches(_ peer: SIPPeer) -> Bool {
            guard peer.kind != .user, case .fixed(let host) = peer.host else { return false }
            if let literal = IPAddress(host) { return literal == source }
            return (resolvedHosts[host] ?? []).contains { IPAddress($0) == source }
        }
        if let exact = peers.first(where: { addressMatches($0) && ($0.port ?? 5060) == port }) { return exact }
        return peers.first { addressMatches($0) && $0.insecure.contains(.port) }
    }

    // MARK: Parsing

    static let generalOnlyKeys: Set<String> = [
        "bindaddr", "bindport", "udpbindaddr", "tcpbindaddr", "tcpenable", "allowguest", "alwaysauthreject",
        "realm", "minexpiry", "maxexpiry", "defaultexpiry", "useragent", "externip", "externaddr", "localnet",
        "register", "digestalgorithms",
    ]

    static let ignoredGeneralKeys: Set<String> = [
        "srvlookup", "udpbindaddr6", "tlsenable", "tlsbindaddr", "tlscertfile", "tlsprivatekey", "tlscafile",
        "tlscipher", "tlsclientmethod", "tlsdontverifyserver", "transport", "allowoverlap", "allowsubscribe",
        "allowtransfer", "domain", "autodomain", "pedantic", "tos_sip", "tos_audio", "tos_video", "tos_text",
        "cos_sip", "cos_audio", "cos_video", "cos_text", "maxcallbitrate", "notifyringing", "notifyhold",
        "notifycid", "callevents", "auth_options_requests", "authfailureevents",
        "registertimeout", "registerattempts", "register_retry_403", "mwiexpiry", "rtcachefriends",
        "rtsavesysname", "rtupdate", "rtautoclear", "ignoreregexpire", "compactheaders", "videosupport",
        "textsupport", "jbenable", "jbforce", "jbmaxsize", "jbresyncthreshold", "jbimpl", "jbtargetextra",
        "jblog", "t1min", "timert1", "timerb", "rtptimeout", "rtpholdtimeout", "rtpkeepalive", "sipdebug",
        "recordhistory", "dumphistory", "stunaddr", "externrefresh", "externhost", "externtcpport",
        "externtlsport", "media_address", "contactpermit", "contactdeny", "contactacl", "shrinkcallerid",
        "use_q850_reason", "storesipcause", "legacy_useroption_parsing", "send_diversion", "dynamic_exclude_static",
        "match_auth_username", "vmexten", "subscribecontext", "mohinterpret", "mohsuggest", "parkinglot",
        "t38pt_udptl", "session-timers", "session-expires", "session-minse", "session-refresher", "regcontext",
        "regextenonqualify", "faxdetect", "progressinband", "sendrpid", "trustrpid", "rpid_update",
        "prematuremedia", "maxforwards", "keepalive", "websocket_enabled", "disallowed_methods", "outboundproxy",
        "tcpauthtimeout", "tcpauthlimit", "accept_outofcall_message", "outofcall_message_context", "auth_message_requests",
        "relaxdtmf", "rfc2833compensate", "sdpsession", "sdpowner", "encryption", "icesupport", "avpf",
    ]

    private static func applyGeneral(_ section: ConfigSection, to general: inout SIPGeneralConfig, warnings: inout [ConfigWarning]) throws(ConfigError) {
        var bindAddress: ConfigEntry?
        var bindPort: Int?
        var udpBindAddress: ConfigEntry?
        var tcpBindAddress: ConfigEntry?
        var minExpiry = general.registrar.minExpires
        var maxExpiry = general.registrar.maxExpires
        var defaultExpiry = general.registrar.defaultExpires
        var expiryLocation: SourceLocation?
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "bindaddr": bindAddress = entry
            case "bindport": bindPort = try entry.intValue(in: 1...65535)
            case "udpbindaddr": udpBindAddress = entry
            case "tcpbindaddr": tcpBindAddress = entry
            case "tcpenable": general.tcpEnabled = try entry.boolValue()
            case "allowguest": general.allowGuest = try entry.boolValue()
            case "alwaysauthreject": general.alwaysAuthReject = try entry.boolValue()
            case "digestalgorithms":
                var algorithms: [DigestAlgorithm] = []
                for item in entry.listValue {
                    guard let algorithm = DigestAlgorithm(token: item) else {
                        throw entry.invalid("expected a list of MD5 and SHA-256")
                    }
                    if !algorithms.contains(algorithm) { algorithms.append(algorithm) }
                }
                guard !algorithms.isEmpty else { throw entry.invalid("expected a list of MD5 and SHA-256") }
                general.digestAlgorithms = algorithms
            case "realm":
                guard !entry.value.isEmpty, !entry.value.contains("\"") else { throw entry.invalid("expected a realm name") }
                general.realm = entry.value
            case "minexpiry", "minexpirey":
                minExpiry = try entry.intValue(in: 1...86400 * 7)
                expiryLocation = entry.location
            case "maxexpiry", "maxexpirey":
                maxExpiry = try entry.intValue(in: 1...86400 * 7)
                expiryLocation = entry.location
            case "defaultexpiry", "defaultexpirey":
                defaultExpiry = try entry.intValue(in: 1...86400 * 7)
                expiryLocation = entry.location
            case "useragent": general.userAgent = entry.value
            case "externip", "externaddr":
                general.externalAddress = entry.value.isEmpty ? nil : entry.value
            case "localnet":
                guard let network = IPNetwork(entry.value) else { throw entry.invalid("expected address/bits or address/netmask") }
                general.localNets.append(network)
            case "register":
                general.registrations.append(entry)
            case let key where SIPPeer.peerOnlyKeys.contains(key):
                // `secret=` in [general] must not become every peer's password.
                warnings.append(ConfigWarning("'\(entry.key)' belongs in a peer section; ignored in [general]", at: entry.location))
            default:
                if try general.peerDefaults.apply(entry, warnings: &warnings) { continue }
                warnings.append(unknownKeyWarning(entry, in: "[general]"))
            }
        }
        guard minExpiry <= maxExpiry else {
            throw ConfigError("minexpiry (\(minExpiry)) is greater than maxexpiry (\(maxExpiry))", at: expiryLocation ?? section.location)
        }
        general.registrar = RegistrarPolicy(minExpires: minExpiry, maxExpires: maxExpiry, defaultExpires: defaultExpiry)
        if let udpBindAddress {
            general.udpBind = try BindAddress(parsing: udpBindAddress, defaultPort: bindPort ?? 5060)
        } else if let bindAddress {
            general.udpBind = try BindAddress(parsing: bindAddress, defaultPort: bindPort ?? 5060)
        } else if let bindPort {
            general.udpBind.port = bindPort
        }
        general.tcpBind = try tcpBindAddress.map { entry throws(ConfigError) in
            try BindAddress(parsing: entry, defaultPort: general.udpBind.port)
        } ?? general.udpBind
    }

    private static func unknownKeyWarning(_ entry: ConfigEntry, in place: String) -> ConfigWarning {
        let key = entry.key.lowercased()
        if SIPPeer.ignoredKeys.contains(key) || ignoredGeneralKeys.contains(key) {
            return ConfigWarning("'\(entry.key)' in \(place) is not supported by pbxd; ignored", at: entry.location)
        }
        return ConfigWarning("unknown option '\(entry.key)' in \(place); ignored", at: entry.location)
    }

    /// Checks that need the whole peer (several keys together).
    private static func validate(_ peer: SIPPeer, warnings: inout [ConfigWarning]) throws(ConfigError) {
        // chan_sip lets anyone register as (or call from) a dynamic peer without a secret; pbxd
        // refuses to start with one unless permit/deny limits where it may come from.
        if peer.host == .dynamic, peer.secret == nil, peer.md5secret == nil, peer.acl.isEmpty {
            throw ConfigError(
                "peer [\(peer.name)] has host=dynamic but no secret and no permit/deny: anyone could use it",
                at: peer.location)
        }
        if peer.insecure.contains(.invite), peer.host == .dynamic {
            warnings.append(ConfigWarning(
                "peer [\(peer.name)]: insecure=invite with host=dynamic skips authentication for calls from its registered address",
                at: peer.location))
        }
        if peer.secret != nil, peer.md5secret != nil {
            warnings.append(ConfigWarning("peer [\(peer.name)] has both secret and md5secret; secret is used", at: peer.location))
        }
    }
}
