import Foundation
import Logging

/// pbxd.conf: pbxd's own settings, the ones Asterisk keeps in asterisk.conf. Kept small on
/// purpose; other subsystems add their own sections (`[http]`, `[webhooks]`, ...) — sections this
/// type does not know are left to them, not warned about.
///
/// ```
/// [general]
/// datadir = /var/lib/pbxd     ; registrations, and later the SQLite database
/// loglevel = info             ; trace, debug, info, notice, warning, error, critical
/// qualifyinterval = 60        ; seconds between OPTIONS pings (overrides sip.conf qualifyfreq)
/// agidir = /var/lib/pbxd/agi-bin ; AGI(script): relative script names (default <datadir>/agi-bin)
/// ```
public struct PBXDConfig: Sendable {
    public var dataDirectory = "/var/lib/pbxd"
    public var logLevel: Logger.Level = .info
    /// When set, replaces every peer's `qualifyfreq`.
    public var qualifyInterval: Int?
    /// `soundsdir=`: pbxd's own prompts, searched before Asterisk's sound packages; by default
    /// the `sounds/` directory beside the config directory (the repository layout).
    public var soundsDirectory: String?
    /// `agidir=` (asterisk.conf's `astagidir`): where `AGI(name)` finds a relative script name;
    /// nil: `<datadir>/agi-bin`.
    public var agiDirectory: String?
    public var warnings: [ConfigWarning] = []

    public init(dataDirectory: String = "/var/lib/pbxd", logLevel: Logger.Level = .info, qualifyInterval: Int? = nil) {
        self.dataDirectory = dataDirectory
        self.logLevel = logLevel
        self.qualifyInterval = qualifyInterval
    }

    public static func load(path: String) throws(ConfigError) -> PBXDConfig {
        try PBXDConfig(try ConfigFile.load(path: path), relativeTo: (path as NSString).deletingLastPathComponent)
    }

    /// - Parameter directory: a relative `datadir` is resolved against it (the config directory),
    ///   so `make run` with the sample `conf/` works from any working directory.
    public init(_ file: ConfigFile, relativeTo directory: String? = nil) throws(ConfigError) {
        self.init()
        for section in file.sections where section.name.lowercased() == "general" {
            for entry in section.entries {
                switch entry.key.lowercased() {
                case "datadir":
                    dataDirectory = try Self.directory(entry, relativeTo: directory)
                case "soundsdir":
                    soundsDirectory = try Self.directory(entry, relativeTo: directory)
                case "agidir", "astagidir":
                    agiDirectory = try Self.directory(entry, relativeTo: directory)
                case "loglevel":
                    guard let level = Logger.Level(rawValue: entry.value.lowercased()) else {
                        throw entry.invalid("expected trace, debug, info, notice, warning, error or critical")
                    }
                    logLevel = level
                case "qualifyinterval":
                    qualifyInterval = try entry.intValue(in: 1...86400)
                default:
                    warnings.append(ConfigWarning("unknown option '\(entry.key)' in pbxd.conf [general]; ignored", at: entry.location))
                }
            }
        }
    }

    /// A directory option; relative paths are resolved against the config directory.
    private static func directory(_ entry: ConfigEntry, relativeTo directory: String?) throws(ConfigError) -> String {
        guard !entry.value.isEmpty else { throw entry.invalid("expected a directory") }
        guard !entry.value.hasPrefix("/"), let directory else { return entry.value }
        return ((directory as NSString).appendingPathComponent(entry.value) as NSString).standardizingPath
    }
}
