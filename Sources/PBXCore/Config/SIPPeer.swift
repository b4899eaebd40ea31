import Foundation
import SIPStack

/// `callerid="Name" <1001>` split into its parts (Asterisk's `ast_callerid_parse`).
public struct CallerID: Sendable, Hashable, CustomStringConvertible {
    public var name: String?
    public var number: String?

    public init(name: String?, number: String?) {
        self.name = name
        self.number = number
    }

    /// `"Name" <num>`, `Name <num>`, `<num>`, `num` (digits, `+*#`), or a bare name.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            let number = trimmed[trimmed.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            self.name = name.isEmpty ? nil : name
            self.number = number.isEmpty ? nil : number
        } else if trimmed.allSatisfy({ $0.isNumber || "+*#".contains($0) }) {
            self.name = nil
            self.number = trimmed
        } else {
            let unquoted = trimmed.count >= 2 && trimmed.hasPrefix("\"") && trimmed.hasSuffix("\"")
            self.name = unquoted ? String(trimmed.dropFirst().dropLast()) : trimmed
            self.number = nil
        }
        if name == nil && number == nil { return nil }
    }

    public var description: String {
        switch (name, number) {
        case let (name?, number?): "\"\(name)\" <\(number)>"
        case let (name?, nil): "\"\(name)\""
        case let (nil, number?): "<\(number)>"
        case (nil, nil): ""
        }
    }
}

/// sip.conf `nat=`: `no`, `yes` (= force_rport,comedia), or a list of `force_rport`, `comedia`,
/// `auto_force_rport`, `auto_comedia` (Asterisk 11+ spellings).
public struct NATSettings: Sendable, Hashable {
    /// Answer to the source port and behave as if `rport` was present (RFC 3581).
    public var forceRport = false
    /// Send media to where the peer's RTP comes from, not to its SDP address.
    public var comedia = false
    /// The same two, only when the peer's Via shows it is behind NAT.
    public var autoForceRport = false
    public var autoComedia = false

    public init(forceRport: Bool = false, comedia: Bool = false, autoForceRport: Bool = false, autoComedia: Bool = false) {
        self.forceRport = forceRport
        self.comedia = comedia
        self.autoForceRport = autoForceRport
        self.autoComedia = autoComedia
    }

    /// Asterisk 13's default (`nat=auto_force_rport`).
    public static let asteriskDefault = NATSettings(autoForceRport: true)

    init(parsing entry: ConfigEntry) throws(ConfigError) {
        for item in entry.listValue {
            switch item.lowercased() {
            case "no", "never": self = NATSettings()
            case "yes": forceRport = true; comedia = true
            case "force_rport", "route": forceRport = true
            case "comedia": comedia = true
            case "auto_force_rport": autoForceRport = true
            case "auto_comedia": autoComedia = true
            default: throw entry.invalid("expected no, yes, force_rport, comedia, auto_force_rport or auto_comedia")
            }
        }
    }
}

/// sip.conf `qualify=`: OPTIONS pings with a maximum round-trip (yes = 2000 ms).
public enum QualifySetting: Sendable, Hashable {
    case off
    case on(maxMilliseconds: Int)

    init(parsing entry: ConfigEntry) throws(ConfigError) {
        if let milliseconds = Int(entry.value) {
            guard milliseconds >= 0 else { throw entry.invalid("expected yes, no or milliseconds") }
            self = milliseconds == 0 ? .off : .on(maxMilliseconds: milliseconds)
        } else {
            do { self = try entry.boolValue() ? .on(maxMilliseconds: 2000) : .off } catch {
                throw entry.invalid("expected yes, no or milliseconds")
            }
        }
    }
}

/// sip.conf `dtmfmode=`.
public enum DTMFMode: String, Sendable, Hashable {
    case rfc2833, info, shortinfo, inband, auto
}

/// sip.conf `directmedia=` (`canreinvite=` in old files): whether media may bypass pbxd.
/// Recorded as configured; pbxd relays media when it records or transcodes regardless.
public struct DirectMediaSettings: Sendable, Hashable {
    public var enabled: Bool
    public var update = false
    public var nonat = false
    public var outgoing = false

    public init(enabled: Bool, update: Bool = false, nonat: Bool = false, outgoing: Bool = false) {
        self.enabled = enabled
        self.update = update
        self.nonat = nonat
        self.outgoing = outgoing
    }

    init(parsing entry: ConfigEntry) throws(ConfigError) {
        self.init(enabled: false)
        for item in entry.listValue {
            switch item.lowercased() {
            case "yes": enabled = true
            case "no": enabled = false
            case "update": enabled = true; update = true
            case "nonat": enabled = true; nonat = true
            case "outgoing": enabled = true; outgoing = true
            default: throw entry.invalid("expected yes, no, nonat, update or outgoing")
            }
        }
    }
}

/// sip.conf `insecure=`: `port` (match a fixed-host peer by IP whatever the source port),
/// `invite` (do not challenge its INVITEs) — the settings of an IP-authenticated trunk.
public struct InsecureOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let port = InsecureOptions(rawValue: 1)
    public static let invite = InsecureOptions(rawValue: 2)

    init(parsing entry: ConfigEntry) throws(ConfigError) {
        var options: InsecureOptions = []
        for item in entry.listValue {
            switch item.lowercased() {
            case "no": options = []
            case "port", "yes": options.insert(.port)
            case "invite": options.insert(.invite)
            case "very": options.formUnion([.port, .invite])
            default: throw entry.invalid("expected port, invite, port,invite or no")
            }
        }
        self = options
    }
}

/// One device or trunk from sip.conf. Options a peer does not set come from `[general]`
/// (Asterisk's inheritance), then from Asterisk's defaults.
public struct SIPPeer: Sendable {
    /// `type=`: a `user` only places calls (matched by name), a `peer` is called and matched
    /// by address, a `friend` is both.
    public enum Kind: String, Sendable, Hashable {
        case friend, peer, user
    }

    /// `host=dynamic` (registers) or a fixed address/host name (trunks, fixed phones).
    public enum Host: Sendable, Hashable {
        case dynamic
        case fixed(String)
    }

    public var name: String
    public var kind: Kind = .friend
    public var host: Host = .dynamic
    /// `port=`: for a fixed host, where to send requests (and, unless `insecure=port`, the source
    /// port it must come from). `nil` means 5060.
    public var port: Int?
    public var secret: String?
    /// `md5secret=`: MD5(`user:realm:password`). Used only when `secret` is absent, and then only
    /// MD5 responses can succeed (see `digestSecret`).
    public var md5secret: String?
    public var context = "default"
    public var callerID: CallerID?
    public var codecs: [CodecName] = CodecName.asteriskDefault
    public var nat: NATSettings = .asteriskDefault
    public var qualify: QualifySetting = .off
    /// `qualifyfreq=` seconds between OPTIONS pings.
    public var qualifyFrequency = 60
    /// `call-limit=`: simultaneous calls; `nil` is unlimited.
    public var callLimit: Int?
    /// `busylevel=`: calls from which the peer counts as busy (queue member state).
    public var busyLevel: Int?
    public var callCounter = false
    /// `defaultuser=` (`username=` in old files): the user part for requests to the peer.
    public var defaultUser: String?
    public var acl = IPAccessList()
    public var insecure: InsecureOptions = []
    public var dtmfMode: DTMFMode = .rfc2833
    public var directMedia = DirectMediaSettings(enabled: true)
    public var language: String?
    public var accountCode: String?
    /// `mailbox=1001@default,1002`: voicemail boxes for MWI.
    public var mailboxes: [String] = []
    public var fromUser: String?
    public var fromDomain: String?
    /// `transport=udp,tcp,tls`: accepted transports, the first is used for outbound requests.
    public var transports: [String] = ["udp"]
    /// `setvar=NAME=value`, channel variables set on every call of the peer, in order.
    public var variables: [(name: String, value: String)] = []
    public var description: String?
    /// Where the peer's `[section]` starts.
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// The secret for `DigestAuthenticator.verify`; `nil` when the peer has none (it then
    /// cannot authenticate; an IP-matched `insecure=invite` trunk does not need to).
    public var digestSecret: DigestSecret? {
        if let secret { return .password(secret) }
        if let md5secret { return .md5HA1(md5secret) }
        return nil
    }

    /// Whether pbxd may call this peer (`type=peer|friend`).
    public var acceptsCalls: Bool { kind != .user }

    /// Keys this model understands; both `[general]` (as defaults) and peers may set them.
    static let inheritableKeys: Set<String> = [
        "context", "allow", "disallow", "nat", "qualify", "qualifyfreq", "callcounter", "busylevel", "insecure",
        "dtmfmode", "directmedia", "canreinvite", "language", "accountcode", "fromuser", "fromdomain", "transport",
        "setvar", "call-limit",
    ]
    /// Keys only a peer section may set.
    static let peerOnlyKeys: Set<String> = [
        "type", "host", "port", "secret", "md5secret", "callerid", "defaultuser", "username", "permit", "deny",
        "mailbox", "description",
    ]
    /// Asterisk peer options pbxd accepts silently-but-warned: they load, they do nothing (yet).
    static let ignoredKeys: Set<String> = [
        "fullname", "cid_number", "callgroup", "pickupgroup", "namedcallgroup", "namedpickupgroup", "vmexten",
        "subscribecontext", "allowsubscribe", "subscribemwi", "amaflags", "rtptimeout", "rtpholdtimeout",
        "rtpkeepalive", "trustrpid", "sendrpid", "progressinband", "session-timers", "session-expires",
        "session-minse", "session-refresher", "regexten", "parkinglot", "musicclass", "mohinterpret",
        "mohsuggest", "autoframing", "g726nonstandard", "usereqphone", "promiscredir", "allowtransfer",
        "remotesecret", "outboundproxy", "encryption", "avpf", "icesupport", "videosupport", "textsupport",
        "t38pt_udptl", "allowoverlap", "contactpermit", "contactdeny", "contactacl", "acl", "rfc2833compensate",
        "hasvoicemail", "useclientcode", "maxcallbitrate", "timert1", "timerb", "registertrying", "ignoresdpversion",
        "constantssrc", "rtcp_mux", "force_avp", "dtlsenable", "dtlsverify", "dtlscertfile", "dtlsprivatekey",
        "dtlssetup", "dtlsfingerprint", "unsolicited_mailbox", "supportpath", "tonezone", "cc_agent_policy",
        "cc_monitor_policy", "callingpres", "maxforwards", "ignore_requested_pref", "preferred_codec_only",
    ]

    /// Applies one `key=value` to this peer. Returns `false` for a key it does not know.
    mutating func apply(_ entry: ConfigEntry, warnings: inout [ConfigWarning]) throws(ConfigError) -> Bool {
        let value = entry.value
        switch entry.key.lowercased() {
        case "type":
            guard let kind = Kind(rawValue: value.lowercased()) else { throw entry.invalid("expected friend, peer or user") }
            self.kind = kind
        case "host":
            if value.caseInsensitiveCompare("dynamic") == .orderedSame {
                host = .dynamic
            } else {
                guard !value.isEmpty, !value.contains(where: { $0 == " " || $0 == "/" }) else {
                    throw entry.invalid("expected dynamic or an address")
                }
                if value.filter({ $0 == ":" }).count == 1 {
                    throw entry.invalid("expected dynamic or an address (put the port in port=)")
                }
                var hostValue = value
                if hostValue.hasPrefix("["), hostValue.hasSuffix("]") { hostValue = String(hostValue.dropFirst().dropLast()) }
                host = .fixed(hostValue)
            }
        case "port": port = try entry.intValue(in: 1...65535)
        case "secret": secret = value
        case "md5secret":
            guard value.count == 32, value.allSatisfy(\.isHexDigit) else { throw entry.invalid("expected 32 hex digits") }
            md5secret = value.lowercased()
        case "context": context = value
        case "callerid": callerID = CallerID(parsing: value)
        case "allow": try CodecName.apply(entry, allow: true, to: &codecs, warnings: &warnings)
        case "disallow": try CodecName.apply(entry, allow: false, to: &codecs, warnings: &warnings)
        case "nat": nat = try NATSettings(parsing: entry)
        case "qualify": qualify = try QualifySetting(parsing: entry)
        case "qualifyfreq": qualifyFrequency = try entry.intValue(in: 1...86400)
        case "call-limit": callLimit = try entry.intValue(in: 0...100_000)
        case "busylevel": busyLevel = try entry.intValue(in: 0...100_000)
        case "callcounter": callCounter = try entry.boolValue()
        case "defaultuser", "username": defaultUser = value.isEmpty ? nil : value
        case "permit", "deny":
            let sense: IPAccessList.Sense = entry.key.lowercased() == "permit" ? .permit : .deny
            guard acl.append(sense, value) else { throw entry.invalid("expected an address, address/bits or address/netmask") }
        case "insecure": insecure = try InsecureOptions(parsing: entry)
        case "dtmfmode":
            guard let mode = DTMFMode(rawValue: value.lowercased()) else {
                throw entry.invalid("expected rfc2833, info, shortinfo, inband or auto")
            }
            dtmfMode = mode
        case "directmedia", "canreinvite": directMedia = try DirectMediaSettings(parsing: entry)
        case "language": language = value.isEmpty ? nil : value
        case "accountcode": accountCode = value.isEmpty ? nil : value
        case "mailbox": mailboxes = entry.listValue
        case "fromuser": fromUser = value.isEmpty ? nil : value
        case "fromdomain": fromDomain = value.isEmpty ? nil : value
        case "description": description = value
        case "transport":
            let list = entry.listValue.map { $0.lowercased() }
            guard !list.isEmpty, list.allSatisfy({ ["udp", "tcp", "tls", "ws", "wss"].contains($0) }) else {
                throw entry.invalid("expected a list of udp, tcp, tls, ws, wss")
            }
            transports = list
        case "setvar":
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
                throw entry.invalid("expected NAME=value")
            }
            variables.append((String(value[..<equals]).trimmingCharacters(in: .whitespaces), String(value[value.index(after: equals)...])))
        default:
            return false
        }
        return true
    }
}
