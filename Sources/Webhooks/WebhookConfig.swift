import PBXCore

/// One `[webhook NAME]` section of pbxd.conf: where a CRM wants to hear about calls.
///
/// ```
/// [webhook crm]
/// url = http://crm.example:8080/pbx/events   ; http only for now (no TLS client yet)
/// events = call.*, agent.state               ; patterns; default: every call.* and agent.* event
/// secret = s3cret                            ; HMAC-SHA256 key for X-Pbxd-Signature (required)
/// timeout = 10                               ; seconds per delivery attempt
/// maxbackoff = 60                            ; longest wait between retries, seconds
/// ```
public struct WebhookConfig: Sendable, Equatable {
    public var name: String
    public var url: WebhookURL
    /// Event names or patterns (`call.*`, `*`); `ami.<Event>` forwards a raw manager event.
    public var events: [String]
    public var secret: String
    public var timeoutSeconds: Int
    /// Retries wait 1 s, doubling up to this.
    public var maxBackoffSeconds: Int

    /// Every `[webhook NAME]` section of `file`, and warnings for unknown keys (DESIGN.md §4:
    /// unknown keys warn, invalid values stop start-up).
    public static func all(in file: ConfigFile) throws(ConfigError) -> (configs: [WebhookConfig], warnings: [ConfigWarning]) {
        var configs: [WebhookConfig] = []
        var warnings: [ConfigWarning] = []
        for section in file.sections {
            let words = section.name.split(separator: " ", maxSplits: 1)
            guard words.first?.lowercased() == "webhook" else { continue }
            guard words.count == 2 else { throw ConfigError("[webhook NAME]: the section needs a name", at: section.location) }
            configs.append(try WebhookConfig(
                name: String(words[1]).trimmingCharacters(in: .whitespaces), section: section, warnings: &warnings))
        }
        return (configs, warnings)
    }

    init(name: String, section: ConfigSection, warnings: inout [ConfigWarning]) throws(ConfigError) {
        self.name = name
        var url: WebhookURL?
        var secret: String?
        events = ["call.*", "agent.*"]
        timeoutSeconds = 10
        maxBackoffSeconds = 60
        for entry in section.entries {
            switch entry.key.lowercased() {
            case "url":
                guard let parsed = WebhookURL(entry.value) else {
                    throw ConfigError("url: expected http://host[:port]/path (https is not supported yet), found '\(entry.value)'", at: entry.location)
                }
                url = parsed
            case "events":
                events = entry.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case "secret":
                secret = entry.value
            case "timeout":
                timeoutSeconds = try entry.intValue(in: 1...300)
            case "maxbackoff":
                maxBackoffSeconds = try entry.intValue(in: 1...3600)
            default:
                warnings.append(ConfigWarning("unknown option '\(entry.key)' in [webhook \(name)]; ignored", at: entry.location))
            }
        }
        guard let url else { throw ConfigError("[webhook \(name)] needs url=", at: section.location) }
        guard let secret, !secret.isEmpty else { throw ConfigError("[webhook \(name)] needs secret= (bodies are signed)", at: section.location) }
        self.url = url
        self.secret = secret
    }

    /// Whether this webhook wants events named `event`.
    public func wants(_ event: String) -> Bool {
        events.contains { pattern in
            if pattern == "*" { return !event.hasPrefix("ami.") }
            if pattern.hasSuffix(".*") { return event.hasPrefix(pattern.dropLast()) }
            return pattern == event
        }
    }
}

/// `http://host[:port]/path`.
public struct WebhookURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var target: String

    public init?(_ text: String) {
        guard text.lowercased().hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        target = slash == rest.endIndex ? "/" : String(rest[slash...])
        if let colon = authority.lastIndex(of: ":"), !authority.hasPrefix("[") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            host = String(authority[..<colon])
            self.port = port
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty else { return nil }
    }

    public var description: String { "http://\(host):\(port)\(target)" }
}
