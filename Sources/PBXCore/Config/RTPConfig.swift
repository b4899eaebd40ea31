import Foundation

/// rtp.conf `[general]`: the UDP port range for media (Asterisk's defaults: 5000–31000).
/// RTP uses the even ports of the range and RTCP the odd port above each.
public struct RTPConfig: Sendable, Hashable {
    public var portStart = 5000
    public var portEnd = 31000
    /// `strictrtp=`: learn the peer's media address from its first packets and drop others.
    public var strictRTP = true
    public var warnings: [ConfigWarning] = []

    public init(portStart: Int = 5000, portEnd: Int = 31000, strictRTP: Bool = true) {
        self.portStart = portStart
        self.portEnd = portEnd
        self.strictRTP = strictRTP
    }

    /// The ports handed out for RTP: the even ones in `portStart...portEnd` with room for RTCP.
    public var rtpPorts: StrideThrough<Int> {
        stride(from: portStart + portStart % 2, through: portEnd - 1, by: 2)
    }

    /// How many calls legs can have media at once.
    public var capacity: Int { rtpPorts.underestimatedCount }

    public static func load(path: String) throws(ConfigError) -> RTPConfig {
        try RTPConfig(try ConfigFile.load(path: path))
    }

    static let ignoredKeys: Set<String> = [
        "rtpchecksums", "dtmftimeout", "rtcpinterval", "probation", "icesupport", "stunaddr", "turnaddr",
        "turnusername", "turnpassword", "ice_blacklist", "ice_host_candidate", "stun_blacklist", "dtls_mtu",
    ]

    public init(_ file: ConfigFile) throws(ConfigError) {
        self.init()
        var rangeLocation: SourceLocation?
        for section in file.sections {
            guard section.name.lowercased() == "general" else {
                warnings.append(ConfigWarning("unknown section [\(section.name)] in rtp.conf; ignored", at: section.location))
                continue
            }
            for entry in section.entries {
                switch entry.key.lowercased() {
                case "rtpstart":
                    portStart = try entry.intValue(in: 1024...65535)
                    rangeLocation = entry.location
                case "rtpend":
                    portEnd = try entry.intValue(in: 1024...65535)
                    rangeLocation = entry.location
                case "strictrtp":
                    if entry.value.lowercased() == "seqno" { strictRTP = true } else { strictRTP = try entry.boolValue() }
                case let key where Self.ignoredKeys.contains(key):
                    warnings.append(ConfigWarning("'\(entry.key)' in rtp.conf is not supported by pbxd; ignored", at: entry.location))
                default:
                    warnings.append(ConfigWarning("unknown option '\(entry.key)' in rtp.conf; ignored", at: entry.location))
                }
            }
        }
        guard portStart < portEnd, capacity >= 1 else {
            throw ConfigError(
                "rtpstart (\(portStart)) must be below rtpend (\(portEnd)) with room for at least one RTP/RTCP pair",
                at: rangeLocation)
        }
    }
}
