import AMI
import ACD
import CDRBackends
import Dialplan
import Foundation
import HTTPServer
import PBXCore
import Webhooks

/// Every config file pbxd reads at start-up, parsed and checked (DESIGN.md §4).
struct LoadedConfiguration {
    var sip: SIPConfig
    var rtp: RTPConfig
    var pbxd: PBXDConfig
    var dialplan: Dialplan
    var dataDirectory: String
    var soundsDirectory: String
    /// musiconhold.conf (optional: no classes without it).
    var musicOnHold: MusicOnHoldConfig
    /// manager.conf (optional: the manager port stays off without it).
    var manager: ManagerConfig
    /// Where the files were read from (`dialplan reload` reads extensions.conf there again).
    var configDirectory: String
    /// queues.conf (optional: no queues without it).
    var queues: QueuesConfig
    /// cdr.conf, cdr_manager.conf, cdr_pgsql.conf (all optional: SQLite CDRs only).
    var cdr: CDRConfig
    /// pbxd.conf's `[webhook NAME]` sections.
    var webhooks: [WebhookConfig]
    /// pbxd.conf's `[http]` (off without it).
    var http: HTTPServerConfig
    /// features.conf (optional: Asterisk's default feature codes and timeouts).
    var features: FeaturesConfig
    var warnings: [String]

    static func load(directory: String, dataDirectoryOverride: String?) throws(StartupError) -> LoadedConfiguration {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw StartupError(description: "config directory '\(directory)' does not exist")
        }
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func optional(_ name: String) -> String? {
            FileManager.default.fileExists(atPath: path(name)) ? path(name) : nil
        }
        do {
            let sip = try SIPConfig.load(path: path("sip.conf"))
            let rtp = try optional("rtp.conf").map { path throws(ConfigError) in try RTPConfig.load(path: path) } ?? RTPConfig()
            let pbxd = try optional("pbxd.conf").map { path throws(ConfigError) in try PBXDConfig.load(path: path) } ?? PBXDConfig()
            let musicOnHold = try optional("musiconhold.conf").map { path throws(ConfigError) in try MusicOnHoldConfig.load(path: path) }
                ?? MusicOnHoldConfig()
            let manager = try optional("manager.conf").map { path throws(ConfigError) in try ManagerConfig.load(path: path) } ?? ManagerConfig()
            var queues = try optional("queues.conf").map { path throws(ConfigError) in try QueuesConfig.load(path: path) } ?? QueuesConfig()
            try queues.attach(try optional("queuerules.conf").map { path throws(ConfigError) in try PenaltyRules.load(path: path) } ?? PenaltyRules())
            let webhooks = try optional("pbxd.conf").map { path throws(ConfigError) in
                try WebhookConfig.all(in: try ConfigFile.load(path: path))
            } ?? (configs: [], warnings: [])
            let http = try optional("pbxd.conf").map { path throws(ConfigError) in
                try HTTPServerConfig.load(from: try ConfigFile.load(path: path))
            } ?? (config: HTTPServerConfig(), warnings: [])
            let features = try optional("features.conf").map { path throws(ConfigError) in try FeaturesConfig.load(path: path) }
                ?? FeaturesConfig()
            let (dialplan, dialplanWarnings) = try Dialplan.load(path: path("extensions.conf"))
            let cdr = try CDRConfig.load(directory: directory)
            var warnings = sip.warnings.map(\.description) + rtp.warnings.map(\.description)
            warnings += pbxd.warnings.map(\.description) + dialplanWarnings.map(\.description)
            warnings += musicOnHold.warnings.map(\.description)
            warnings += manager.warnings.map(\.description)
            warnings += musicOnHold.warnings.map(\.description) + queues.warnings.map(\.description)
            warnings += cdr.warnings
            warnings += webhooks.warnings.map(\.description)
            warnings += http.warnings.map(\.description)
            warnings += features.warnings.map(\.description)
            return LoadedConfiguration(
                sip: sip, rtp: rtp, pbxd: pbxd, dialplan: dialplan,
                dataDirectory: dataDirectoryOverride ?? pbxd.dataDirectory,
                soundsDirectory: pbxd.soundsDirectory ?? ((path("..") as NSString).appendingPathComponent("sounds") as NSString).standardizingPath,
                musicOnHold: musicOnHold,
                manager: manager,
                configDirectory: directory,
                queues: queues,
                cdr: cdr,
                webhooks: webhooks.configs,
                http: http.config,
                features: features,
                warnings: warnings)
        } catch {
            throw StartupError(description: error.description)
        }
    }
}
