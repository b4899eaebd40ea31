import PBXCore

/// pbxd.conf `[http]`: pbxd's HTTP port, which serves `/health` and the recordings the CRM
/// links to (Asterisk's http.conf has `enabled`, `bindaddr`, `bindport`; the link keys are
/// pbxd's). Off unless `enabled = yes`.
///
/// ```
/// [http]
/// enabled = yes
/// bindaddr = 127.0.0.1          ; default 127.0.0.1
/// port = 8088                   ; (or bindport) default 8088
/// secret = long-random-string   ; HMAC-SHA256 key of recording links; none: no links
/// linkttl = 86400               ; seconds a recording link stays valid (default one day)
/// publicurl = https://pbx.example.com   ; base of the links (default http://bindaddr:port)
/// ```
public struct HTTPServerConfig: Sendable, Equatable {
    public var enabled = false
    public var bindAddress = "127.0.0.1"
    public var port = 8088
    /// Key of the recording links; nil: recordings are not served and webhooks carry no links.
    public var secret: String?
    public var linkTTLSeconds = 86_400
    /// What links start with, without a trailing slash.
    public var publicURL: String?

    public init() {}

    /// The link base: `publicurl`, or the bound address (an IPv6 one in brackets).
    public var linkBase: String {
        if let publicURL { return publicURL }
        let host = bindAddress.contains(":") ? "[\(bindAddress)]" : bindAddress
        return "http://\(host):\(port)"
    }

    /// Reads `[http]` from pbxd.conf; unknown keys warn, invalid values fail with file:line.
    public static func load(from file: ConfigFile) throws(ConfigError) -> (config: HTTPServerConfig, warnings: [ConfigWarning]) {
        var config = HTTPServerConfig()
        var warnings: [ConfigWarning] = []
        for section in file.sections where section.name.lowercased() == "http" {
            for entry in section.entries {
                switch entry.key.lowercased() {
                case "enabled": config.enabled = try entry.boolValue()
                case "bindaddr":
                    guard !entry.value.isEmpty else { throw invalid(entry, "expected an IP address") }
                    config.bindAddress = entry.value
                case "port", "bindport": config.port = try entry.intValue(in: 1...65_535)
                case "secret": config.secret = entry.value.isEmpty ? nil : entry.value
                case "linkttl": config.linkTTLSeconds = try entry.intValue(in: 1...31_536_000)
                case "publicurl":
                    let value = entry.value.hasSuffix("/") ? String(entry.value.dropLast()) : entry.value
                    guard value.hasPrefix("http://") || value.hasPrefix("https://"), value.count > 8 else {
                        throw invalid(entry, "expected http://host[:port] or https://host[:port]")
                    }
                    config.publicURL = value
                default:
                    warnings.append(ConfigWarning("unknown option '\(entry.key)' in pbxd.conf [http]; ignored", at: entry.location))
                }
            }
            if config.enabled && config.publicURL == nil && ["0.0.0.0", "::", "[::]"].contains(config.bindAddress) {
                warnings.append(ConfigWarning(
                    "[http] binds \(config.bindAddress) without publicurl: recording links will name that address, which no CRM can reach",
                    at: section.location))
            }
            if config.enabled && config.secret == nil {
                warnings.append(ConfigWarning(
                    "[http] has no secret: recordings are not served and webhooks carry no recording links", at: section.location))
            }
        }
        return (config, warnings)
    }

    private static func invalid(_ entry: ConfigEntry, _ expectation: String) -> ConfigError {
        ConfigError("\(entry.key): \(expectation), found '\(entry.value)'", at: entry.location)
    }
}
