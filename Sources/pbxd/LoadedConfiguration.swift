import AMI
import Dialplan
import Foundation
import PBXCore

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
            let (dialplan, dialplanWarnings) = try Dialplan.load(path: path("extensions.conf"))
            var warnings = sip.warnings.map(\.description) + rtp.warnings.map(\.description)
            warnings += pbxd.warnings.map(\.description) + dialplanWarnings.map(\.description)
            warnings += musicOnHold.warnings.map(\.description)
            warnings += manager.warnings.map(\.description)
            return LoadedConfiguration(
                sip: sip, rtp: rtp, pbxd: pbxd, dialplan: dialplan,
                dataDirectory: dataDirectoryOverride ?? pbxd.dataDirectory,
                soundsDirectory: pbxd.soundsDirectory ?? ((path("..") as NSString).appendingPathComponent("sounds") as NSString).standardizingPath,
                musicOnHold: musicOnHold,
                manager: manager,
                warnings: warnings)
        } catch {
            throw StartupError(description: error.description)
        }
    }
}
